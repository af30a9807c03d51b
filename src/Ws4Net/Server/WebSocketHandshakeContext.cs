using System.Globalization;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Server;

/// <summary>
/// What a route's <see cref="WebSocketRoute.OnHandshake"/> hook (and <c>WebSocketEndpointOptions.OnHandshake</c>
/// under ASP.NET Core) gets for an opening request that passed validation and negotiation, before the handler is
/// built and before the 101 (or, over HTTP/2, the 200) is sent: the request to inspect, headers to add to the
/// accepting response, and <see cref="Reject"/> to answer with any HTTP status and headers instead
/// (401 + <c>WWW-Authenticate</c>, 403, 429 + <c>Retry-After</c>...).
/// </summary>
/// <remarks>One instance per opening request, used by one hook call at a time: not thread-safe.</remarks>
public sealed class WebSocketHandshakeContext
{
    private static readonly string[] s_reserved =
    [
        "Upgrade", "Connection", "Content-Length", "Transfer-Encoding", "Sec-WebSocket-Accept",
        "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-WebSocket-Version", "Keep-Alive",
    ];

    private readonly List<KeyValuePair<string, string>> _responseHeaders = [];

    /// <summary>Creates the context (servers do this; public for tests of hooks).</summary>
    /// <param name="request">The opening request, with the negotiated subprotocol.</param>
    /// <param name="services">The services of the request (a scope under ASP.NET Core), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    public WebSocketHandshakeContext(WebSocketUpgradeRequest request, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        Request = request;
        Services = services;
    }

    /// <summary>Gets the opening request (path, query, headers, cookies, user, route values, negotiated subprotocol).</summary>
    public WebSocketUpgradeRequest Request { get; }

    /// <summary>Gets the services to resolve from (the request's scope under ASP.NET Core, the server's otherwise), or <see langword="null"/>.</summary>
    public IServiceProvider? Services { get; }

    /// <summary>Gets the headers added so far to the accepting response, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders => _responseHeaders;

    /// <summary>Gets the rejection chosen by <see cref="Reject"/>, or <see langword="null"/> to accept.</summary>
    public WebSocketRejection? Rejection { get; private set; }

    /// <summary>
    /// Adds a header to the accepting response (for example <c>Set-Cookie</c> or a server id). The headers the
    /// handshake owns (<c>Upgrade</c>, <c>Connection</c>, <c>Sec-WebSocket-*</c>, body framing) cannot be set here.
    /// </summary>
    /// <param name="name">An HTTP field name (an RFC 9110 token).</param>
    /// <param name="value">The value: visible ASCII, spaces and tabs, no CR or LF.</param>
    /// <exception cref="ArgumentException">The name is not a token, is reserved, or the value has a control character.</exception>
    public void AddResponseHeader(string name, string value)
    {
        ValidateHeader(name, value, allowReserved: false);
        _responseHeaders.Add(new(name, value));
    }

    /// <summary>
    /// Answers the request with <paramref name="statusCode"/> instead of a WebSocket; the last call wins. The body is
    /// <paramref name="reason"/> as <c>text/plain</c>; the headers are sent as given (after validation).
    /// </summary>
    /// <param name="statusCode">A client or server error status, 400-599.</param>
    /// <param name="reason">A short text for the body (never echo request data in it), or <see langword="null"/> for the standard phrase.</param>
    /// <param name="headers">Headers for the rejection, for example <c>("WWW-Authenticate", "Bearer")</c> or <c>("Retry-After", "30")</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 400-599.</exception>
    /// <exception cref="ArgumentException">A header name is not a token or a value has a control character.</exception>
    public void Reject(int statusCode, string? reason = null, params (string Name, string Value)[] headers)
    {
        Rejection = new WebSocketRejection(statusCode, reason, headers);
    }

    /// <summary>Rejects with 401 Unauthorized and a <c>WWW-Authenticate</c> challenge (RFC 9110 §11.6.1).</summary>
    /// <param name="challenge">The challenge, for example <c>Bearer realm="chat"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="challenge"/> is empty or has a control character.</exception>
    public void RejectUnauthorized(string challenge) => Reject(401, null, ("WWW-Authenticate", challenge));

    /// <summary>Rejects with 429 Too Many Requests and <c>Retry-After</c> in whole seconds (RFC 6585 §4, RFC 9110 §10.2.3).</summary>
    /// <param name="retryAfter">How long the client should wait; rounded up to whole seconds.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retryAfter"/> is negative.</exception>
    public void RejectTooManyRequests(TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retryAfter, TimeSpan.Zero);
        Reject(429, null, ("Retry-After", ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture)));
    }

    internal static void ValidateHeader(string name, string value, bool allowReserved)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(s_tokenChars))
        {
            throw new ArgumentException($"'{name}' is not a valid HTTP field name.", nameof(name));
        }

        foreach (char c in value)
        {
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff)
            {
                throw new ArgumentException($"The value of {name} contains a control or non-Latin-1 character.", nameof(value));
            }
        }

        if (!allowReserved)
        {
            foreach (string reserved in s_reserved)
            {
                if (string.Equals(reserved, name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"{name} belongs to the WebSocket handshake and cannot be set by a hook.", nameof(name));
                }
            }
        }
    }

    private static readonly System.Buffers.SearchValues<char> s_tokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}
