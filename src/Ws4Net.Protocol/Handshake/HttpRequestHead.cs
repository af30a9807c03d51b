namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The head of an HTTP/1.1 request (RFC 9112 §3): request line and header fields, without any body.
/// Produced by <see cref="HttpHeadParser.ParseRequest"/> and consumed by <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/>.
/// </summary>
/// <remarks>
/// The start-line properties are immutable; <see cref="Headers"/> is a mutable collection with the
/// thread-safety of <see cref="HttpHeaderCollection"/>.
/// </remarks>
public sealed class HttpRequestHead
{
    /// <summary>Creates a request head.</summary>
    /// <param name="method">The method, case-sensitive (for example <c>GET</c>).</param>
    /// <param name="target">The raw request-target exactly as sent (for example <c>/chat?room=1</c>).</param>
    /// <param name="version">The protocol version (for example <c>HTTP/1.1</c>).</param>
    /// <param name="headers">The header fields.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="method"/>, <paramref name="target"/> or <paramref name="version"/> is empty.</exception>
    public HttpRequestHead(string method, string target, string version, HttpHeaderCollection headers)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(version);
        ArgumentNullException.ThrowIfNull(headers);
        Method = method;
        Target = target;
        Version = version;
        Headers = headers;
        int question = target.IndexOf('?', StringComparison.Ordinal);
        Path = question < 0 ? target : target[..question];
        Query = question < 0 ? string.Empty : target[(question + 1)..];
    }

    /// <summary>The request method, case-sensitive (for example <c>GET</c>).</summary>
    public string Method { get; }

    /// <summary>The raw request-target as sent on the request line (RFC 9112 §3.2), percent-encoding untouched.</summary>
    public string Target { get; }

    /// <summary>
    /// The part of <see cref="Target"/> before the first <c>'?'</c> (the whole target when there is none);
    /// percent-encoding is left as is. For an absolute-form target this includes the scheme and authority.
    /// </summary>
    public string Path { get; }

    /// <summary>The part of <see cref="Target"/> after the first <c>'?'</c>, without it; empty when there is no query.</summary>
    public string Query { get; }

    /// <summary>The protocol version from the request line, for example <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>The header fields in received order.</summary>
    public HttpHeaderCollection Headers { get; }
}
