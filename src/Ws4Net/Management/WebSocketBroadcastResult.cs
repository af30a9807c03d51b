namespace Ws4Net.Management;

/// <summary>
/// What a <see cref="WebSocketConnectionManager.Broadcast(Protocol.WebSocketPreparedMessage, WebSocketConnection?)"/> or
/// <see cref="WebSocketConnectionManager.Publish(string, Protocol.WebSocketPreparedMessage, WebSocketConnection?)"/> did,
/// per recipient (counts of connections). Immutable.
/// </summary>
/// <param name="Sent">Recipients whose copy was handed to the transport at once.</param>
/// <param name="Queued">Recipients whose copy waits in their send queue (it leaves in order, after what was queued before).</param>
/// <param name="Dropped">Recipients whose queue was at <c>MaxBufferedAmount</c> under the drop policy: they miss this message.</param>
/// <param name="Closed">Recipients that were closing or closed, or that the backpressure policy closed (1008 / 1013).</param>
public readonly record struct WebSocketBroadcastResult(int Sent, int Queued, int Dropped, int Closed)
{
    /// <summary>Gets the number of recipients tried (the sum of the four counts).</summary>
    public int Total => Sent + Queued + Dropped + Closed;

    /// <summary>Gets the number of recipients that will receive the message (<see cref="Sent"/> + <see cref="Queued"/>).</summary>
    public int Delivered => Sent + Queued;
}
