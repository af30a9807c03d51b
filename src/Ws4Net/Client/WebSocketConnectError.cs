namespace Ws4Net.Client;

/// <summary>
/// Why opening a client connection failed: the value of <see cref="WebSocketConnectException.Error"/>,
/// meant to be switched on (for example to decide whether to retry).
/// </summary>
public enum WebSocketConnectError
{
    /// <summary>The cause could not be classified; see the inner exception.</summary>
    Unknown = 0,

    /// <summary>The host name (of the server or of the proxy) could not be resolved (DNS).</summary>
    NameResolution,

    /// <summary>The TCP connection (to the server or to the proxy) was refused: nothing listens on that port.</summary>
    ConnectionRefused,

    /// <summary>The connection failed at the network level: unreachable, reset or closed before an answer.</summary>
    Network,

    /// <summary>TCP connect, proxy tunnel, TLS and the HTTP upgrade did not finish within <see cref="WebSocketClientOptions.ConnectTimeout"/>.</summary>
    Timeout,

    /// <summary>TLS failed: the server's certificate was not trusted, the name did not match, or no common protocol.</summary>
    Tls,

    /// <summary>
    /// The server answered the upgrade with an HTTP status other than 101 (and it was not a redirect that was
    /// followed); <see cref="WebSocketConnectException.StatusCode"/> and <see cref="WebSocketConnectException.Headers"/> hold the response.
    /// </summary>
    HttpStatus,

    /// <summary>The server's 101 response broke an RFC 6455 §4.1 rule (wrong accept value, unoffered subprotocol or extension) or was malformed.</summary>
    Handshake,

    /// <summary>
    /// The proxy refused the tunnel: an HTTP proxy answered CONNECT (RFC 9110 §9.3.6) with a status other than 2xx
    /// or 407 (the status is in <see cref="WebSocketConnectException.StatusCode"/>), a SOCKS5 proxy answered with a
    /// failure (RFC 1928 §6; <see cref="WebSocketConnectException.StatusCode"/> is 0), or the proxy's scheme is not supported.
    /// </summary>
    Proxy,

    /// <summary>The proxy wants credentials: an HTTP proxy answered 407, or a SOCKS5 proxy refused the methods or the username/password offered.</summary>
    ProxyAuthenticationRequired,

    /// <summary>A redirect could not be followed: too many, no usable <c>Location</c>, or from wss to ws.</summary>
    Redirect,
}
