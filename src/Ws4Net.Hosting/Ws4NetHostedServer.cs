using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ws4Net.Management;
using Ws4Net.Server;

namespace Ws4Net.Hosting;

/// <summary>
/// Runs a <see cref="WebSocketServer"/> for the Generic Host (registered by
/// <see cref="Ws4NetServiceCollectionExtensions.AddWs4NetServer"/>). Starting binds the socket; stopping
/// (Ctrl-C, SIGTERM, <c>IHostApplicationLifetime.StopApplication</c>) stops accepting, closes every
/// connection of the manager with 1001 after what it had queued, waits up to
/// <see cref="Ws4NetOptions.ShutdownTimeout"/> (or the host's shutdown timeout, whichever is first), then
/// aborts the rest. Thread-safe.
/// </summary>
public sealed partial class Ws4NetHostedServer : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly Ws4NetOptions _options;
    private readonly Ws4NetServerBuilder _builder;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<WebSocketUpgradeRequest, AsyncServiceScopeBox> _pendingScopes = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<WebSocketConnection, AsyncServiceScope> _openScopes = new();
    private WebSocketServer? _server;

    /// <summary>Creates the service (the container does this).</summary>
    /// <param name="services">The root services; a scope is created from them per connection.</param>
    /// <param name="options">The validated settings.</param>
    /// <param name="builder">The routes and server settings.</param>
    /// <param name="manager">The manager connections join.</param>
    /// <param name="loggerFactory">Where the server logs, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    public Ws4NetHostedServer(IServiceProvider services, IOptions<Ws4NetOptions> options, Ws4NetServerBuilder builder, WebSocketConnectionManager manager, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(manager);
        _services = services;
        _options = options.Value;
        _builder = builder;
        Manager = manager;
        _loggerFactory = loggerFactory;
        _logger = (ILogger?)loggerFactory?.CreateLogger("Ws4Net.Hosting") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>Gets the manager of the hosted connections.</summary>
    public WebSocketConnectionManager Manager { get; }

    /// <summary>Gets the running server.</summary>
    /// <exception cref="InvalidOperationException">The host has not started yet.</exception>
    public WebSocketServer Server => _server ?? throw new InvalidOperationException("The server exists once the host has started.");

    /// <summary>Builds the server from the options and routes, and starts listening.</summary>
    /// <param name="cancellationToken">The host's start token.</param>
    /// <returns>Completes once the server listens.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The endpoint cannot be bound.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        WebSocketServer server;
        if (_builder.ServerFactory is { } factory)
        {
            server = factory(_services);
        }
        else
        {
            var serverOptions = new WebSocketServerOptions
            {
                Manager = Manager,
                Services = _services,
                LoggerFactory = _loggerFactory,
            };
            Ws4NetOptionsMapper.ApplyTo(_options, serverOptions);
            foreach (Action<WebSocketServerOptions, IServiceProvider> configure in _builder.ServerConfigurations)
            {
                configure(serverOptions, _services);
            }

            server = new WebSocketServer(serverOptions);
            foreach (Action<WebSocketServer, Ws4NetHostedServer> route in _builder.Routes)
            {
                route(server, this);
            }
        }

        server.ConnectionOpened += TrackScope;
        server.ConnectionClosed += ReleaseScope;
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        _server = server;
    }

    /// <summary>Stops accepting, shuts the manager's connections down gracefully (1001, deadline, abort), and stops the server.</summary>
    /// <param name="cancellationToken">Fires when the host's shutdown timeout elapses: connections left are aborted.</param>
    /// <returns>Completes when every connection is gone.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not { } server)
        {
            return;
        }

        LogStopping(_logger);
        server.StopAccepting();
        WebSocketConnectionManager manager = server.Manager;
        await manager.ShutdownAsync(_options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        await server.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server if it runs.</summary>
    /// <returns>Completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_server is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal THandler CreateScopedHandler<THandler>(WebSocketUpgradeRequest request)
        where THandler : WebSocketHandler
    {
        AsyncServiceScope scope = _services.CreateAsyncScope();
        try
        {
            THandler handler = ActivatorUtilities.GetServiceOrCreateInstance<THandler>(scope.ServiceProvider);
            _pendingScopes.AddOrUpdate(request, new AsyncServiceScopeBox(scope));
            return handler;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    private void TrackScope(WebSocketConnection connection)
    {
        if (connection.Request is { } request && _pendingScopes.TryGetValue(request, out AsyncServiceScopeBox? box))
        {
            _pendingScopes.Remove(request);
            _openScopes.TryAdd(connection, box.Scope);
        }
    }

    private void ReleaseScope(WebSocketConnection connection)
    {
        if (_openScopes.TryRemove(connection, out AsyncServiceScope scope))
        {
            _ = DisposeScopeAsync(connection.Id, scope);
        }
    }

    private async Task DisposeScopeAsync(string connectionId, AsyncServiceScope scope)
    {
        try
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogScopeDisposeFailed(_logger, connectionId, ex);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Host is stopping: closing WebSocket connections")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Disposing the service scope of WebSocket {ConnectionId} failed")]
    private static partial void LogScopeDisposeFailed(ILogger logger, string connectionId, Exception exception);

    private sealed class AsyncServiceScopeBox(AsyncServiceScope scope)
    {
        public AsyncServiceScope Scope { get; } = scope;
    }
}
