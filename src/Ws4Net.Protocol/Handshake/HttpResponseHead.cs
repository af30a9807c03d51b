namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The head of an HTTP/1.1 response (RFC 9112 §4): status line and header fields, without any body.
/// Produced by <see cref="HttpHeadParser.ParseResponse"/> and consumed by <see cref="ClientHandshake.ValidateResponse"/>.
/// </summary>
/// <remarks>
/// The status-line properties are immutable; <see cref="Headers"/> is a mutable collection with the
/// thread-safety of <see cref="HttpHeaderCollection"/>.
/// </remarks>
public sealed class HttpResponseHead
{
    /// <summary>Creates a response head.</summary>
    /// <param name="version">The protocol version (for example <c>HTTP/1.1</c>).</param>
    /// <param name="statusCode">The three-digit status code, 100-599.</param>
    /// <param name="reasonPhrase">The reason phrase; may be empty.</param>
    /// <param name="headers">The header fields.</param>
    /// <exception cref="ArgumentNullException"><paramref name="version"/>, <paramref name="reasonPhrase"/> or <paramref name="headers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="version"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is outside 100-599.</exception>
    public HttpResponseHead(string version, int statusCode, string reasonPhrase, HttpHeaderCollection headers)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(reasonPhrase);
        ArgumentNullException.ThrowIfNull(headers);
        Version = version;
        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase;
        Headers = headers;
    }

    /// <summary>The protocol version from the status line, for example <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>The status code, 100-599 (for example 101 for an accepted WebSocket upgrade).</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase as sent (for example <c>Switching Protocols</c>); empty when none was sent.</summary>
    public string ReasonPhrase { get; }

    /// <summary>The header fields in received order.</summary>
    public HttpHeaderCollection Headers { get; }
}
