namespace Ws4Net.Management;

/// <summary>The outcome of <see cref="WebSocketConnectionManager.SendToAsync(string, ReadOnlyMemory{byte}, Protocol.WebSocketMessageKind, CancellationToken)"/>.</summary>
public enum WebSocketSendToResult
{
    /// <summary>The connection is on this node and the message was queued to it (after waiting for queue space when needed).</summary>
    Sent = 0,

    /// <summary>The id belongs to another node and the message was handed to the backplane (at-most-once: the other node delivers it with a non-waiting send if the connection is still there).</summary>
    Forwarded,

    /// <summary>No connection with this id here, and the id names no other node (or there is no backplane to another node).</summary>
    NotFound,

    /// <summary>The connection is on this node but is closing or closed.</summary>
    Closed,

    /// <summary>The id belongs to another node but the backplane could not forward now (disconnected or its buffer is full); counted by the backplane.</summary>
    NotForwarded,
}
