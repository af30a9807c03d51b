using Microsoft.Extensions.Logging;
using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Server;

public sealed partial class WebSocketServer
{
    private WebSocketConnectionManager _manager = null!;

    /// <summary>
    /// Gets the manager every accepted connection joins (before its handler's <c>OnOpenAsync</c>) and
    /// leaves when it closes: <see cref="WebSocketServerOptions.Manager"/>, or one created for this server.
    /// Handlers broadcast and publish through it.
    /// </summary>
    public WebSocketConnectionManager Manager => _manager;

    /// <summary>
    /// Stops accepting new connections and leaves the open ones alone (the first step of a host's
    /// graceful shutdown; <see cref="StopAsync"/> completes it). Idempotent; thread-safe.
    /// </summary>
    public void StopAccepting()
    {
        if (Interlocked.Exchange(ref _acceptStopped, 1) == 0)
        {
            _listener?.Dispose();
        }
    }

    private int _acceptStopped;

    /// <summary>
    /// Raised once per connection that <see cref="ConnectionOpened"/> announced, after its handler's
    /// <c>OnCloseAsync</c> has returned and before the connection is disposed (a place to release
    /// per-connection resources such as a service scope). Must not throw.
    /// </summary>
    public event Action<WebSocketConnection>? ConnectionClosed;

    private void RaiseConnectionClosed(WebSocketConnection connection)
    {
        try
        {
            ConnectionClosed?.Invoke(connection);
        }
        catch (Exception ex)
        {
            LogConnectionClosedHandlerFailed(_logger, connection.Id, ex);
        }
    }

    [LoggerMessage(EventId = 108, Level = LogLevel.Error, Message = "A ConnectionClosed handler threw for WebSocket {ConnectionId}")]
    private static partial void LogConnectionClosedHandlerFailed(ILogger logger, string connectionId, Exception exception);

    private void InitializeManager(ILoggerFactory factory)
    {
        _manager = _options.Manager ?? new WebSocketConnectionManager(null, factory);
        ConnectionOpened += JoinManager;
    }

    private void JoinManager(WebSocketConnection connection)
    {
        if (!_manager.Add(connection))
        {
            ManagerSend.Close(connection, WebSocketCloseCode.TryAgainLater, "server at capacity");
        }
    }
}
