namespace Ws4Net.Server;

/// <summary>
/// An answer to an opening request that refuses the WebSocket: an HTTP status (400-599), a short reason sent as
/// the <c>text/plain</c> body, and headers (for example <c>WWW-Authenticate</c> or <c>Retry-After</c>). Built by
/// <see cref="WebSocketHandshakeContext.Reject"/>. Immutable.
/// </summary>
public sealed class WebSocketRejection
{
    /// <summary>Creates a rejection.</summary>
    /// <param name="statusCode">400-599.</param>
    /// <param name="reason">The body text, or <see langword="null"/> for the standard reason phrase.</param>
    /// <param name="headers">The headers to send.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 400-599.</exception>
    /// <exception cref="ArgumentException">A header name is not a token or a value has a control character.</exception>
    public WebSocketRejection(int statusCode, string? reason = null, params (string Name, string Value)[] headers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(headers);
        var list = new KeyValuePair<string, string>[headers.Length];
        for (int i = 0; i < headers.Length; i++)
        {
            WebSocketHandshakeContext.ValidateHeader(headers[i].Name, headers[i].Value, allowReserved: true);
            list[i] = new(headers[i].Name, headers[i].Value);
        }

        StatusCode = statusCode;
        Reason = string.IsNullOrEmpty(reason) ? DefaultReason(statusCode) : reason;
        Headers = list;
    }

    /// <summary>Gets the HTTP status, 400-599.</summary>
    public int StatusCode { get; }

    /// <summary>Gets the body text (without the trailing newline the servers add).</summary>
    public string Reason { get; }

    /// <summary>Gets the headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    private static string DefaultReason(int status) => status switch
    {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Rejected",
    };
}
