namespace Ws4Net.Amqp;

/// <summary>
/// A snapshot of one node's <see cref="RabbitMqBackplane"/> counters (counts of messages since the backplane was created). Immutable.
/// </summary>
/// <param name="State">The connection state when the snapshot was taken.</param>
/// <param name="Forwarded">Messages this node published to the broker.</param>
/// <param name="Confirmed">Of those, messages the broker confirmed (publisher confirms, basic.ack).</param>
/// <param name="Nacked">Of those, messages the broker refused (basic.nack): lost for the other nodes.</param>
/// <param name="Received">Messages from other nodes delivered to this node's manager.</param>
/// <param name="SkippedOwn">This node's own messages that came back through its queue and were ignored (it delivered them locally already).</param>
/// <param name="DroppedBufferFull">Messages not forwarded because the outgoing buffer was at its cap (<see cref="RabbitMqBackplaneOptions.MaxPendingPublishes"/>, <see cref="RabbitMqBackplaneOptions.MaxPendingBytes"/>) or larger than <see cref="RabbitMqBackplaneOptions.MaxMessageSize"/>.</param>
/// <param name="NotForwardedDisconnected">Messages not forwarded because the broker was unreachable (published while disconnected, or still buffered when the connection dropped).</param>
/// <param name="Connects">Successful connections to the broker (1 + reconnections).</param>
public readonly record struct RabbitMqBackplaneStatistics(
    RabbitMqBackplaneState State,
    long Forwarded,
    long Confirmed,
    long Nacked,
    long Received,
    long SkippedOwn,
    long DroppedBufferFull,
    long NotForwardedDisconnected,
    long Connects);
