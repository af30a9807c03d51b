using Microsoft.AspNetCore.Http;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.AspNetCore;

/// <summary>
/// Settings of one endpoint mapped with <see cref="Ws4NetEndpointRouteBuilderExtensions"/>: the subprotocols and
/// extensions it negotiates (RFC 6455 §4.2.2, RFC 7692), the origins it admits, what plain HTTP requests get, and
/// per-endpoint overrides of the connection settings that <c>services.AddWs4Net()</c> configures.
/// </summary>
/// <remarks>Configured once while mapping; read-only afterwards, so shared by all requests without locking.</remarks>
public sealed class WebSocketEndpointOptions
{
    /// <summary>
    /// Gets the subprotocols the endpoint speaks, in server preference order (RFC 6455 §1.9); the first one the client
    /// also offered is selected (ordinal comparison). Empty by default (no subprotocol is ever selected). Never null.
    /// </summary>
    public IList<string> Subprotocols { get; } = new List<string>();

    /// <summary>
    /// Gets or sets a custom subprotocol choice that takes precedence over <see cref="Subprotocols"/>
    /// (see <see cref="ServerHandshakeOptions.SubprotocolSelector"/>). Must be thread-safe. Null by default.
    /// </summary>
    public Func<IReadOnlyList<string>, string?>? SubprotocolSelector { get; set; }

    /// <summary>
    /// Gets or sets a negotiator for extensions other than permessage-deflate
    /// (see <see cref="ServerHandshakeOptions.ExtensionNegotiator"/>). Must be thread-safe. Null by default.
    /// </summary>
    public Func<IReadOnlyList<WebSocketExtensionOffer>, string?>? ExtensionNegotiator { get; set; }

    /// <summary>
    /// Gets or sets what the endpoint accepts of permessage-deflate (RFC 7692). <see langword="null"/> (the default)
    /// follows <c>Ws4NetOptions.Compression</c> (default parameters when on, declined when off); set
    /// <see cref="DisableCompression"/> to decline it on this endpoint whatever the global setting.
    /// </summary>
    public PerMessageDeflateOptions? PerMessageDeflate { get; set; }

    /// <summary>Gets or sets whether this endpoint declines permessage-deflate even when it is on globally. Default <see langword="false"/>.</summary>
    public bool DisableCompression { get; set; }

    /// <summary>
    /// Gets the origins admitted (RFC 6454 serializations such as <c>https://example.com</c>, ASCII case-insensitive,
    /// RFC 6455 §10.2), added to <c>Ws4NetOptions.AllowedOrigins</c>. When the union is non-empty, a request whose
    /// <c>Origin</c> is absent, repeated or not listed gets 403. Browsers do not apply CORS to WebSockets, so this
    /// list, not <c>RequireCors</c>, is what stops cross-site WebSocket hijacking. Never null.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = new List<string>();

    /// <summary>Gets or sets whether a request without an <c>Origin</c> header gets 403 even when no origin list is set. Default <see langword="false"/>.</summary>
    public bool RequireOrigin { get; set; }

    /// <summary>
    /// Gets or sets what answers a request to the path that is not a WebSocket opening request (a plain GET, a
    /// POST...). <see langword="null"/> (the default) answers 426 Upgrade Required (with <c>Upgrade: websocket</c>
    /// over HTTP/1.1 and <c>Sec-WebSocket-Version: 13</c>); a delegate serves the request instead, for example a
    /// page or a redirect, with the endpoint's authorization and metadata applied as to the WebSocket.
    /// </summary>
    public RequestDelegate? NonWebSocketRequest { get; set; }

    /// <summary>
    /// Gets or sets whether a request to the path that is not a WebSocket opening request falls through to the
    /// other endpoints of the same route (for example <c>app.MapGet("/chat", ...)</c> serving a page), as if this
    /// endpoint did not exist: 404 when no other endpoint matches. Requires
    /// <see cref="Ws4NetRoutingServiceCollectionExtensions.AddWs4NetRouting"/>. Default <see langword="false"/>
    /// (426 or <see cref="NonWebSocketRequest"/>). Opening requests, conversely, always prefer this endpoint over
    /// non-WebSocket endpoints of the same route.
    /// </summary>
    public bool FallThroughNonWebSocketRequests { get; set; }

    /// <summary>
    /// Gets or sets a hook run for each opening request that passed validation, negotiation and the endpoint's
    /// conventions (authorization, rate limiting), before the handler is built and the 101 or 200 is sent: it may
    /// add response headers or reject with any status and headers, for example 401 with <c>WWW-Authenticate</c> or
    /// 429 with <c>Retry-After</c> (see <see cref="Server.WebSocketHandshakeContext"/>; its <c>Services</c> are the
    /// request's). An exception it throws answers 500. Must be thread-safe. Null by default.
    /// </summary>
    public Func<Server.WebSocketHandshakeContext, ValueTask>? OnHandshake { get; set; }

    /// <summary>
    /// Gets or sets the connection settings (limits, keepalive, timeouts, backpressure) for this endpoint;
    /// <see langword="null"/> (the default) uses those built from <c>Ws4NetOptions</c> by <c>services.AddWs4Net()</c>.
    /// </summary>
    public WebSocketConnectionOptions? Connection { get; set; }
}
