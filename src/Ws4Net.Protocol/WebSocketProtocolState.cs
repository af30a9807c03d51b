namespace Ws4Net.Protocol;

/// <summary>The close handshake state of a connection (RFC 6455 §7).</summary>
public enum WebSocketProtocolState
{
    /// <summary>Data may flow in both directions.</summary>
    Open = 0,

    /// <summary>We sent a close frame and wait for the peer's; incoming data is still delivered.</summary>
    CloseSent,

    /// <summary>The peer's close frame arrived; our close echo is queued but not yet written.</summary>
    CloseReceived,

    /// <summary>Both close frames were exchanged, or the connection was failed: the transport may be closed.</summary>
    Closed,
}
