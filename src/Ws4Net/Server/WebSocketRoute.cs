namespace Ws4Net.Server;

/// <summary>
/// One path served by a <see cref="WebSocketServer"/>: how to build the handler for a connection and
/// which subprotocols the path speaks. Immutable once added to the server.
/// </summary>
public sealed class WebSocketRoute
{
    /// <summary>Creates a route.</summary>
    /// <param name="path">
    /// The request path: an exact path (for example <c>/chat</c>, compared ordinally after percent-decoding) or a
    /// route template in ASP.NET Core syntax (for example <c>/rooms/{name}</c>, <c>/users/{id:int:min(1)}</c>,
    /// <c>/files/{*rest}</c>) whose values the handler reads from <see cref="WebSocketUpgradeRequest.RouteValues"/>.
    /// Supported: literal segments (ASCII case-insensitive), whole-segment parameters, chained constraints
    /// <c>int</c>, <c>long</c>, <c>bool</c>, <c>guid</c>, <c>alpha</c>, <c>min(n)</c>, <c>max(n)</c>, <c>range(a,b)</c>,
    /// <c>length(n)</c>, <c>length(a,b)</c>, <c>minlength(n)</c>, <c>maxlength(n)</c>, an optional last parameter
    /// <c>{name?}</c> and a catch-all last parameter <c>{*name}</c>. Exact paths win over templates; templates are
    /// tried in the order they were mapped.
    /// </param>
    /// <param name="handlerFactory">Builds a fresh handler for each accepted connection; gets the upgrade request and the server's services (may be null).</param>
    /// <param name="subprotocols">The subprotocols this path supports, in preference order (RFC 6455 §1.9); empty for none.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> does not start with <c>/</c>, or is a malformed template (an unknown constraint, a parameter that is not a whole segment, a repeated name).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="handlerFactory"/> is null.</exception>
    public WebSocketRoute(string path, Func<WebSocketUpgradeRequest, IServiceProvider?, WebSocketHandler> handlerFactory, IReadOnlyList<string>? subprotocols = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("A route path starts with '/'.", nameof(path));
        }

        Template = WebSocketRouteTemplate.Parse(path);
        Path = path;
        HandlerFactory = handlerFactory;
        Subprotocols = subprotocols ?? [];
    }

    /// <summary>Gets the request path or route template.</summary>
    public string Path { get; }

    internal WebSocketRouteTemplate Template { get; }

    /// <summary>Gets the handler factory.</summary>
    public Func<WebSocketUpgradeRequest, IServiceProvider?, WebSocketHandler> HandlerFactory { get; }

    /// <summary>Gets the supported subprotocols in preference order.</summary>
    public IReadOnlyList<string> Subprotocols { get; }

    /// <summary>
    /// Gets an optional custom subprotocol choice for this path, taking precedence over <see cref="Subprotocols"/>
    /// (see <see cref="Protocol.Handshake.ServerHandshakeOptions.SubprotocolSelector"/>). Must be thread-safe.
    /// </summary>
    public Func<IReadOnlyList<string>, string?>? SubprotocolSelector { get; init; }

    /// <summary>
    /// Gets an optional negotiator for extensions other than permessage-deflate on this path
    /// (see <see cref="Protocol.Handshake.ServerHandshakeOptions.ExtensionNegotiator"/>). Must be thread-safe.
    /// </summary>
    public Func<IReadOnlyList<Protocol.Handshake.WebSocketExtensionOffer>, string?>? ExtensionNegotiator { get; init; }

    /// <summary>
    /// Gets an optional hook run for each opening request that passed validation and negotiation, before the
    /// handler is built and the 101 is sent: it may add response headers or reject with any status and headers
    /// (<see cref="WebSocketHandshakeContext"/>). An exception it throws answers 500. Must be thread-safe.
    /// </summary>
    public Func<WebSocketHandshakeContext, ValueTask>? OnHandshake { get; init; }
}
