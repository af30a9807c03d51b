namespace Ws4Net.Backplane;

/// <summary>
/// Carries broadcasts, topic publishes and direct sends between the nodes of a deployment, so that a
/// <see cref="Management.WebSocketConnectionManager"/> on one node reaches connections held by the others. It carries
/// application messages (<see cref="WebSocketBackplaneMessage"/>), not frames: every node encodes what it
/// receives once for its own connections.
/// </summary>
/// <remarks>
/// <para>The manager delivers to its local connections itself and calls <see cref="Publish"/> only to reach
/// the other nodes; the backplane calls <see cref="IWebSocketBackplaneReceiver.Deliver"/> with what other nodes
/// published (never with this node's own messages).</para>
/// <para>Guarantees an implementation documents: at-most-once across nodes, the order of one node's
/// publishes kept at every receiving node, and a cap on everything it buffers.</para>
/// <para>Thread-safety: every member may be called from any thread concurrently.</para>
/// <para>The default is <see cref="InProcessWebSocketBackplane"/> (no other node). <c>Ws4Net.Amqp</c> provides a RabbitMQ one.</para>
/// </remarks>
public interface IWebSocketBackplane
{
    /// <summary>Gets this node's id: the origin stamped on what it publishes, and the prefix of its connection ids (<see cref="WebSocketConnection.NodeId"/>), by which direct sends find their node.</summary>
    string NodeId { get; }

    /// <summary>Gets whether <see cref="Publish"/> can reach another node (false for a standalone in-process backplane), so that callers can skip preparing a payload nobody else will read.</summary>
    bool IsForwarding { get; }

    /// <summary>Connects the backplane to the receiver of remote messages (the node's manager). Called once.</summary>
    /// <param name="receiver">The receiver.</param>
    /// <exception cref="InvalidOperationException">A receiver is already attached.</exception>
    void Attach(IWebSocketBackplaneReceiver receiver);

    /// <summary>Forwards a message to the other nodes without waiting: the payload is copied (or sent) before this returns.</summary>
    /// <param name="message">The message, whose <see cref="WebSocketBackplaneMessage.OriginNodeId"/> is <see cref="NodeId"/>.</param>
    /// <returns>What happened; a message that cannot be forwarded now is dropped and counted, never queued without bound.</returns>
    WebSocketBackplanePublishStatus Publish(in WebSocketBackplaneMessage message);

    /// <summary>Tells the backplane that this node now has local subscribers of <paramref name="topic"/>, so it must receive the other nodes' publishes to it. Idempotent.</summary>
    /// <param name="topic">The topic name.</param>
    void AddTopic(string topic);

    /// <summary>Tells the backplane that this node's last local subscriber of <paramref name="topic"/> left. Idempotent.</summary>
    /// <param name="topic">The topic name.</param>
    void RemoveTopic(string topic);
}
