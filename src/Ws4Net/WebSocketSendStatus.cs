namespace Ws4Net;

/// <summary>The outcome of a send that never waits (<see cref="WebSocketConnection.TrySend(Protocol.WebSocketPreparedMessage)"/> and its siblings).</summary>
public enum WebSocketSendStatus
{
    /// <summary>The frame was handed to the transport (written to the socket's buffers) before the call returned.</summary>
    Sent = 0,

    /// <summary>The frame waits in the send queue (a write is in progress, or the connection is processing a batch); it will be written in order.</summary>
    Queued,

    /// <summary>The send queue was at <see cref="WebSocketConnectionOptions.MaxBufferedAmount"/> and the policy is <see cref="WebSocketBackpressurePolicy.DropMessage"/>: this message was not sent to this peer.</summary>
    Dropped,

    /// <summary>The connection is closing or closed, or was just closed by the backpressure policy (1008 or 1013): nothing was sent.</summary>
    Closed,
}
