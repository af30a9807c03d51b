namespace Ws4Net;

/// <summary>The lifecycle of a <see cref="WebSocketConnection"/>.</summary>
public enum WebSocketConnectionState
{
    /// <summary>Messages flow in both directions.</summary>
    Open = 0,

    /// <summary>A close frame was sent or received; the close handshake is under way (RFC 6455 §7).</summary>
    Closing,

    /// <summary>The close handshake completed and the transport is closed.</summary>
    Closed,

    /// <summary>The transport was closed without a complete close handshake (abort, timeout, I/O error).</summary>
    Aborted,
}
