namespace Ws4Net.Protocol;

/// <summary>What a <see cref="WebSocketEvent"/> reports.</summary>
public enum WebSocketEventType
{
    /// <summary>No event (the default value).</summary>
    None = 0,

    /// <summary>A whole data message, reassembled from its frames (RFC 6455 §5.4).</summary>
    Message,

    /// <summary>A part of a data message, when <see cref="WebSocketProtocolOptions.DeliverFragments"/> is on.</summary>
    Fragment,

    /// <summary>A ping was received (RFC 6455 §5.5.2); the core has already queued the pong it owes.</summary>
    Ping,

    /// <summary>A pong was received (RFC 6455 §5.5.3).</summary>
    Pong,

    /// <summary>The peer's close frame was received (RFC 6455 §5.5.1); a close echo is queued if we had not sent a close yet.</summary>
    Close,

    /// <summary>
    /// The peer violated the protocol or a limit (RFC 6455 §7.1.7, "Fail the WebSocket Connection");
    /// a close frame with <see cref="WebSocketEvent.CloseCode"/> is queued and the driver should close the transport.
    /// </summary>
    Failed,
}
