using System.Text;

namespace Ws4Net.Server;

/// <summary>
/// A plain HTTP response that <see cref="WebSocketServer"/> writes for a request that is not a
/// WebSocket upgrade (for example the page that opens the WebSocket). The server adds
/// <c>Content-Length</c> and <c>Connection: close</c>. Immutable.
/// </summary>
/// <param name="StatusCode">The HTTP status code (for example 200 or 404).</param>
/// <param name="ContentType">The <c>Content-Type</c> header value.</param>
/// <param name="Body">The body bytes.</param>
public sealed record HttpFallbackResponse(int StatusCode, string ContentType, ReadOnlyMemory<byte> Body)
{
    /// <summary>Creates a UTF-8 text response.</summary>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <param name="text">The body text.</param>
    /// <param name="contentType">The media type, without charset (default <c>text/plain</c>).</param>
    /// <returns>The response.</returns>
    public static HttpFallbackResponse Text(int statusCode, string text, string contentType = "text/plain")
        => new(statusCode, contentType + "; charset=utf-8", Encoding.UTF8.GetBytes(text));
}
