namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Thrown when the opening handshake fails on the client side: the server answered with a status other
/// than 101 or its 101 response violates RFC 6455 §4.1 (for example a wrong <c>Sec-WebSocket-Accept</c>).
/// The message reads <c>WebSocket handshake failed: </c> followed by <see cref="Reason"/>.
/// </summary>
/// <remarks>The properties are set at construction and never change; safe to read from any thread.</remarks>
public class WebSocketHandshakeException : Exception
{
    private const string Prefix = "WebSocket handshake failed: ";

    /// <summary>Creates an exception with a generic reason, no status and no headers.</summary>
    public WebSocketHandshakeException()
        : this("unknown error")
    {
    }

    /// <summary>Creates an exception with no status and no headers.</summary>
    /// <param name="reason">What went wrong, for example <c>Sec-WebSocket-Accept mismatch</c>.</param>
    public WebSocketHandshakeException(string reason)
        : this(reason, 0, null)
    {
    }

    /// <summary>Creates an exception with no status and no headers, caused by <paramref name="innerException"/>.</summary>
    /// <param name="reason">What went wrong.</param>
    /// <param name="innerException">The underlying error, or null.</param>
    public WebSocketHandshakeException(string reason, Exception? innerException)
        : base(Prefix + (reason ?? "unknown error"), innerException)
    {
        Reason = reason ?? "unknown error";
    }

    /// <summary>Creates an exception for a received response.</summary>
    /// <param name="reason">What went wrong, for example <c>server answered 403 Forbidden</c>.</param>
    /// <param name="statusCode">The HTTP status received, or 0 when no response was received.</param>
    /// <param name="headers">The response header fields, or null when no response was received.</param>
    public WebSocketHandshakeException(string reason, int statusCode, HttpHeaderCollection? headers)
        : base(Prefix + (reason ?? "unknown error"))
    {
        Reason = reason ?? "unknown error";
        StatusCode = statusCode;
        Headers = headers;
    }

    /// <summary>The HTTP status code the server answered with (101 when the 101 response itself was invalid), or 0 when none was received.</summary>
    public int StatusCode { get; }

    /// <summary>The header fields of the server's response, or <see langword="null"/> when none was received.</summary>
    public HttpHeaderCollection? Headers { get; }

    /// <summary>The failure description without the <c>WebSocket handshake failed: </c> prefix.</summary>
    public string Reason { get; }
}
