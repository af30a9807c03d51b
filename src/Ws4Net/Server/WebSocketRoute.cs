namespace Ws4Net.Server;

/// <summary>
/// One path served by a <see cref="WebSocketServer"/>: how to build the handler for a connection and
/// which subprotocols the path speaks. Immutable once added to the server.
/// </summary>
public sealed class WebSocketRoute
{
    /// <summary>Creates a route.</summary>
    /// <param name="path">The exact request path (for example <c>/chat</c>), compared ordinally after percent-decoding.</param>
    /// <param name="handlerFactory">Builds a fresh handler for each accepted connection; gets the upgrade request and the server's services (may be null).</param>
    /// <param name="subprotocols">The subprotocols this path supports, in preference order (RFC 6455 §1.9); empty for none.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> does not start with <c>/</c>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="handlerFactory"/> is null.</exception>
    public WebSocketRoute(string path, Func<WebSocketUpgradeRequest, IServiceProvider?, WebSocketHandler> handlerFactory, IReadOnlyList<string>? subprotocols = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("A route path starts with '/'.", nameof(path));
        }

        Path = path;
        HandlerFactory = handlerFactory;
        Subprotocols = subprotocols ?? [];
    }

    /// <summary>Gets the request path.</summary>
    public string Path { get; }

    /// <summary>Gets the handler factory.</summary>
    public Func<WebSocketUpgradeRequest, IServiceProvider?, WebSocketHandler> HandlerFactory { get; }

    /// <summary>Gets the supported subprotocols in preference order.</summary>
    public IReadOnlyList<string> Subprotocols { get; }
}
