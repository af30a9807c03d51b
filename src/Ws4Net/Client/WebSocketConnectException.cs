using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Client;

/// <summary>
/// The single exception <see cref="WebSocketClient.ConnectAsync(Uri, WebSocketClientOptions?, CancellationToken)"/>
/// throws when a connection cannot be opened. <see cref="Error"/> says why; <see cref="Exception.InnerException"/>
/// holds the underlying cause (<see cref="System.Net.Sockets.SocketException"/>,
/// <see cref="System.Security.Authentication.AuthenticationException"/>, <see cref="TimeoutException"/>,
/// <see cref="WebSocketHandshakeException"/>, <see cref="IOException"/>), and for an HTTP answer the status and
/// headers of the response are copied to <see cref="StatusCode"/> and <see cref="Headers"/>.
/// </summary>
/// <remarks>All properties are set at construction and never change; safe to read from any thread.</remarks>
public sealed class WebSocketConnectException : Exception
{
    /// <summary>Creates an exception with reason <see cref="WebSocketConnectError.Unknown"/>.</summary>
    public WebSocketConnectException()
        : this("the WebSocket connection could not be opened")
    {
    }

    /// <summary>Creates an exception with reason <see cref="WebSocketConnectError.Unknown"/>.</summary>
    /// <param name="message">The message.</param>
    public WebSocketConnectException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates an exception with reason <see cref="WebSocketConnectError.Unknown"/> caused by <paramref name="innerException"/>.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    public WebSocketConnectException(string message, Exception? innerException)
        : this(WebSocketConnectError.Unknown, message, null, 0, null, innerException)
    {
    }

    /// <summary>Creates an exception.</summary>
    /// <param name="error">Why the connection failed.</param>
    /// <param name="message">A sentence naming the URI and the cause.</param>
    /// <param name="uri">The URI that was being connected to (after redirects), or <see langword="null"/>.</param>
    /// <param name="statusCode">The HTTP status received (from the server, or from the proxy for <see cref="WebSocketConnectError.Proxy"/>), or 0.</param>
    /// <param name="headers">The header fields of that response, or <see langword="null"/>.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    public WebSocketConnectException(WebSocketConnectError error, string message, Uri? uri, int statusCode, HttpHeaderCollection? headers, Exception? innerException)
        : base(message, innerException)
    {
        Error = error;
        Uri = uri;
        StatusCode = statusCode;
        Headers = headers;
    }

    /// <summary>Gets why the connection failed.</summary>
    public WebSocketConnectError Error { get; }

    /// <summary>Gets the URI that was being connected to when the failure happened (the last one, after redirects), or <see langword="null"/>.</summary>
    public Uri? Uri { get; }

    /// <summary>
    /// Gets the HTTP status of the response that caused the failure: the server's for
    /// <see cref="WebSocketConnectError.HttpStatus"/>, <see cref="WebSocketConnectError.Handshake"/> (101) and
    /// <see cref="WebSocketConnectError.Redirect"/>, the proxy's for <see cref="WebSocketConnectError.Proxy"/> and
    /// <see cref="WebSocketConnectError.ProxyAuthenticationRequired"/> (407); 0 when no response was received.
    /// </summary>
    public int StatusCode { get; }

    /// <summary>Gets the header fields of that response, or <see langword="null"/> when none was received.</summary>
    public HttpHeaderCollection? Headers { get; }

    /// <summary>Gets the handshake failure when the inner exception is one (server status, headers and the rule broken), else <see langword="null"/>.</summary>
    public WebSocketHandshakeException? HandshakeException => InnerException as WebSocketHandshakeException;

    /// <summary>
    /// Gets whether trying again later may succeed: network failures, timeouts, HTTP 408, 429 and 5xx from the
    /// server, and 502, 503 and 504 from a proxy. Certificate, handshake-rule, authentication, redirect and other
    /// 4xx failures are permanent until the configuration changes.
    /// </summary>
    public bool IsTransient => Error switch
    {
        WebSocketConnectError.NameResolution or WebSocketConnectError.ConnectionRefused or WebSocketConnectError.Network or WebSocketConnectError.Timeout => true,
        WebSocketConnectError.HttpStatus => StatusCode is 408 or 429 or >= 500,
        WebSocketConnectError.Proxy => StatusCode is 502 or 503 or 504,
        _ => false,
    };
}
