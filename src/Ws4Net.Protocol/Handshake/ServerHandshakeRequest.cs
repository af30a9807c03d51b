namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The request fields the server handshake looks at, independent of how they travelled: an HTTP/1.1
/// request head (RFC 6455 §4.2.1) or the pseudo-headers and fields of an HTTP/2 extended CONNECT stream
/// (RFC 8441 §4). Built by <see cref="FromHttp11"/> or <see cref="ForExtendedConnect"/> and passed to
/// <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/>.
/// </summary>
/// <remarks>Immutable apart from <see cref="Headers"/>, which has the thread-safety of <see cref="HttpHeaderCollection"/>.</remarks>
public sealed class ServerHandshakeRequest
{
    private ServerHandshakeRequest(ServerHandshakeKind kind, string method, string version, string? protocol, HttpHeaderCollection headers)
    {
        Kind = kind;
        Method = method;
        Version = version;
        Protocol = protocol;
        Headers = headers;
    }

    /// <summary>Gets how the client asked for the WebSocket.</summary>
    public ServerHandshakeKind Kind { get; }

    /// <summary>Gets the request method, case-sensitive (<c>GET</c> for an HTTP/1.1 upgrade, <c>CONNECT</c> for RFC 8441).</summary>
    public string Method { get; }

    /// <summary>Gets the protocol version (<c>HTTP/1.1</c>, <c>HTTP/2</c>).</summary>
    public string Version { get; }

    /// <summary>Gets the <c>:protocol</c> pseudo-header of an extended CONNECT (RFC 8441 §4), or <see langword="null"/> for HTTP/1.1.</summary>
    public string? Protocol { get; }

    /// <summary>Gets the header fields (names compared ASCII case-insensitively); pseudo-headers are not included.</summary>
    public HttpHeaderCollection Headers { get; }

    /// <summary>Wraps a parsed HTTP/1.1 request head (no copy).</summary>
    /// <param name="head">The request head.</param>
    /// <returns>A request of kind <see cref="ServerHandshakeKind.Http11Upgrade"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="head"/> is null.</exception>
    public static ServerHandshakeRequest FromHttp11(HttpRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return new ServerHandshakeRequest(ServerHandshakeKind.Http11Upgrade, head.Method, head.Version, null, head.Headers);
    }

    /// <summary>Describes an HTTP/2 (or HTTP/3, RFC 9220) extended CONNECT request.</summary>
    /// <param name="method">The <c>:method</c> pseudo-header (<c>CONNECT</c> for a valid request).</param>
    /// <param name="protocol">The <c>:protocol</c> pseudo-header (<c>websocket</c> for a valid request), or <see langword="null"/> when absent.</param>
    /// <param name="headers">The regular header fields (lower-case names on the wire; compared case-insensitively).</param>
    /// <param name="version">The protocol version, <c>HTTP/2</c> by default.</param>
    /// <returns>A request of kind <see cref="ServerHandshakeKind.ExtendedConnect"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="method"/>, <paramref name="headers"/> or <paramref name="version"/> is null.</exception>
    public static ServerHandshakeRequest ForExtendedConnect(string method, string? protocol, HttpHeaderCollection headers, string version = "HTTP/2")
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(version);
        return new ServerHandshakeRequest(ServerHandshakeKind.ExtendedConnect, method, version, protocol, headers);
    }
}
