namespace Ws4Net.Protocol;

/// <summary>
/// What a driver should do with the transport (TCP connection, HTTP/2 stream, pipe) at this point of the
/// close lifecycle (RFC 6455 §7.1.1, §7.1.5, §7.1.7), read from <see cref="WebSocketProtocol.TransportAction"/>.
/// The rules live in the core so that every driver closes the same way.
/// </summary>
public enum WebSocketTransportAction
{
    /// <summary>Keep reading and writing: the close handshake is not complete.</summary>
    None = 0,

    /// <summary>
    /// Write what is pending, then close the transport cleanly (TCP FIN). The server after the close
    /// handshake (§7.1.1: the server closes first), either role after failing the connection (§7.1.7),
    /// and either role once the transport ended after the handshake.
    /// </summary>
    CloseTransport,

    /// <summary>
    /// The client after the close handshake: keep reading, discarding bytes, until the server closes the
    /// transport, bounded by the driver's close timeout (§7.1.1); then report it with
    /// <see cref="WebSocketProtocol.ReceiveEndOfStream"/> and close.
    /// </summary>
    WaitForEndOfStream,

    /// <summary>
    /// The transport ended before a close frame was received: the connection closed abnormally (1006,
    /// §7.1.5, §7.4.1). Release the transport without waiting for anything.
    /// </summary>
    Abort,
}
