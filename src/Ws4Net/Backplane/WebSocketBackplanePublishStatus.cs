namespace Ws4Net.Backplane;

/// <summary>What <see cref="IWebSocketBackplane.Publish"/> did with a message. It never waits, so a slow or absent broker never delays local delivery.</summary>
public enum WebSocketBackplanePublishStatus
{
    /// <summary>Accepted for forwarding to the other nodes (queued or sent). Delivery across nodes is still at-most-once.</summary>
    Forwarded = 0,

    /// <summary>There is no other node to forward to (the standalone in-process backplane); nothing was copied.</summary>
    NoRemoteNodes,

    /// <summary>The outgoing buffer was at its cap (the broker is slow): the message was dropped for the other nodes and counted.</summary>
    BufferFull,

    /// <summary>The backplane is not connected to its broker: the message was not forwarded and was counted (see the backplane's logs).</summary>
    Disconnected,

    /// <summary>The backplane was disposed; nothing was forwarded.</summary>
    Disposed,
}
