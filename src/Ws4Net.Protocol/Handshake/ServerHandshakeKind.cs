namespace Ws4Net.Protocol.Handshake;

/// <summary>How a client asked to open a WebSocket, which decides the validation rules and the response shape.</summary>
public enum ServerHandshakeKind
{
    /// <summary>
    /// An HTTP/1.1 <c>GET</c> with <c>Upgrade: websocket</c> and <c>Sec-WebSocket-Key</c> (RFC 6455 §4.2.1),
    /// accepted with <c>101 Switching Protocols</c> and <c>Sec-WebSocket-Accept</c>.
    /// </summary>
    Http11Upgrade,

    /// <summary>
    /// An HTTP/2 extended <c>CONNECT</c> with <c>:protocol = websocket</c> (RFC 8441 §4, §5): no key, no
    /// <c>Upgrade</c>/<c>Connection</c> headers, accepted with a 200 response on the stream.
    /// </summary>
    ExtendedConnect,
}
