using Microsoft.Extensions.DependencyInjection;
using Ws4Net.Server;

namespace Ws4Net.Hosting;

/// <summary>
/// Describes the hosted server for <see cref="Ws4NetServiceCollectionExtensions.AddWs4NetServer"/>: its
/// routes (handlers resolved from dependency injection, one service scope per connection) and any
/// further server settings. Used once, while the services are being registered; not thread-safe.
/// </summary>
public sealed class Ws4NetServerBuilder
{
    internal List<Action<WebSocketServer, Ws4NetHostedServer>> Routes { get; } = [];

    internal List<Action<WebSocketServerOptions, IServiceProvider>> ServerConfigurations { get; } = [];

    internal Func<IServiceProvider, WebSocketServer>? ServerFactory { get; private set; }

    /// <summary>
    /// Maps a path to <typeparamref name="THandler"/>. For each connection a new service scope is created and
    /// the handler is resolved from it (<see cref="ActivatorUtilities.GetServiceOrCreateInstance{T}"/>: register
    /// it as transient or scoped, or not at all); its constructor may take the <see cref="Management.WebSocketConnectionManager"/>,
    /// options, loggers and scoped services. The scope is disposed when the connection has closed.
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="path">The exact path or a route template such as <c>/rooms/{name}</c> (see <see cref="WebSocketRoute"/>), starting with <c>/</c>.</param>
    /// <param name="subprotocols">Supported subprotocols in preference order (RFC 6455 §1.9).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> does not start with <c>/</c>.</exception>
    public Ws4NetServerBuilder Map<THandler>(string path, params string[] subprotocols)
        where THandler : WebSocketHandler
        => Map<THandler>(path, null, subprotocols);

    /// <summary>
    /// Like <see cref="Map{THandler}(string, string[])"/>, with a hook run for each opening request before the
    /// handler is resolved: it may reject with any status and headers or add headers to the 101
    /// (see <see cref="WebSocketHandshakeContext"/>; its <c>Services</c> are the root services).
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="path">The exact path or a route template, starting with <c>/</c>.</param>
    /// <param name="onHandshake">The hook, or <see langword="null"/>; must be thread-safe.</param>
    /// <param name="subprotocols">Supported subprotocols in preference order (RFC 6455 §1.9).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> does not start with <c>/</c>.</exception>
    public Ws4NetServerBuilder Map<THandler>(string path, Func<WebSocketHandshakeContext, ValueTask>? onHandshake, params string[] subprotocols)
        where THandler : WebSocketHandler
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("A route path starts with '/'.", nameof(path));
        }

        Routes.Add((server, host) => server.Map(new WebSocketRoute(path, (request, _) => host.CreateScopedHandler<THandler>(request), subprotocols)
        {
            OnHandshake = onHandshake,
        }));
        return this;
    }

    /// <summary>Adjusts the server's settings after they were taken from <see cref="Ws4NetOptions"/> (for example a certificate or an HTTP fallback).</summary>
    /// <param name="configure">Called once when the host starts, with the root services.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is null.</exception>
    public Ws4NetServerBuilder ConfigureServer(Action<WebSocketServerOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ServerConfigurations.Add(configure);
        return this;
    }

    /// <summary>
    /// Runs a server built by <paramref name="factory"/> instead (its own routes and options; the routes and
    /// settings of this builder are then ignored). Give it the registered manager through
    /// <see cref="WebSocketServerOptions.Manager"/> so that shutdown reaches its connections.
    /// </summary>
    /// <param name="factory">Builds the (not yet started) server when the host starts.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is null.</exception>
    public Ws4NetServerBuilder UseServer(Func<IServiceProvider, WebSocketServer> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ServerFactory = factory;
        return this;
    }
}
