using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Management;

/// <summary>
/// Tracks open connections and sends to many of them at once: a registry (count, snapshot, find by
/// id), encode-once broadcast, topics (publish/subscribe) and a graceful shutdown (1001 to everyone,
/// with a deadline). The counterpart of ws4py's <c>WebSocketConnectionManager</c>. A <see cref="Server.WebSocketServer"/>
/// has one by default; one manager may also serve several servers, or connections made by hand.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every member is thread-safe. Broadcast and publish take no lock and allocate
/// nothing per recipient: they walk a published array of slots and hand each recipient a reference
/// to the same prepared frame (<see cref="WebSocketPreparedMessage"/>) with a non-waiting send, so a
/// slow peer never delays the others; it meets its connection's backpressure policy instead
/// (<see cref="WebSocketSendStatus.Dropped"/> or a close with 1008 / 1013).</para>
/// <para>Lifetime: a connection joins with <see cref="Add"/> and leaves exactly once, when its
/// <see cref="WebSocketConnection.Completion"/> completes (whatever closed it) or by <see cref="Remove"/>;
/// leaving drops its subscriptions, and a topic without subscribers is released.</para>
/// <para>Ordering: messages reach one connection in the order of the sends made to it, whether they
/// come from broadcasts, publishes or direct sends (they share the connection's send queue).</para>
/// <para>Scale-out: <see cref="Broadcast(WebSocketPreparedMessage, WebSocketConnection?)"/>, <see cref="Publish(string, WebSocketPreparedMessage, WebSocketConnection?)"/>
/// and <see cref="SendToAsync(string, ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/> also reach the
/// other nodes through an <see cref="IWebSocketBackplane"/> (see docs/scale-out.md); the filtered broadcasts and the
/// <c>*Local</c> methods stay on this node. The counts returned are this node's recipients only.</para>
/// </remarks>
public sealed partial class WebSocketConnectionManager
{
    private readonly WebSocketConnectionManagerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ManagedConnection> _byId = new(StringComparer.Ordinal);
    private readonly SlotTable _all = new(closeWhenEmpty: false);
    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly IWebSocketBackplane _backplane;
    private readonly Lock _bindingSync = new();
    private int _topicCount;
    private int _shuttingDown;

    /// <summary>Creates a manager.</summary>
    /// <param name="options">Limits; <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where the manager logs (category <c>Ws4Net.Manager</c>); <see langword="null"/> for none.</param>
    /// <param name="backplane">Carries broadcasts, publishes and direct sends to the other nodes; <see langword="null"/> for a
    /// standalone <see cref="InProcessWebSocketBackplane"/> (this node only). The manager attaches itself to it as its receiver.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="WebSocketConnectionManagerOptions.Validate"/>).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="backplane"/> already serves another manager.</exception>
    public WebSocketConnectionManager(WebSocketConnectionManagerOptions? options = null, ILoggerFactory? loggerFactory = null, IWebSocketBackplane? backplane = null)
    {
        _options = options ?? new WebSocketConnectionManagerOptions();
        IReadOnlyList<string> errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Ws4Net.Manager");
        _backplane = backplane ?? new InProcessWebSocketBackplane();
        _backplane.Attach(this);
    }

    /// <summary>Gets the limits.</summary>
    public WebSocketConnectionManagerOptions Options => _options;

    /// <summary>Gets the number of registered connections.</summary>
    public int Count => _all.Count;

    /// <summary>Gets whether <see cref="ShutdownAsync(CancellationToken)"/> has begun (connections added since are closed at once with 1001).</summary>
    public bool IsShuttingDown => Volatile.Read(ref _shuttingDown) != 0;

    /// <summary>Gets a snapshot of the registered connections (a new array; later joins and leaves do not change it).</summary>
    public IReadOnlyList<WebSocketConnection> Connections
    {
        get
        {
            var list = new List<WebSocketConnection>(_all.Count);
            foreach (WebSocketConnection? connection in _all.Items)
            {
                if (connection is not null)
                {
                    list.Add(connection);
                }
            }

            return list;
        }
    }

    /// <summary>Raised after a connection joined (on the thread that called <see cref="Add"/>). Must not throw.</summary>
    public event Action<WebSocketConnection>? ConnectionAdded;

    /// <summary>Raised exactly once per joined connection, after it left and its subscriptions were dropped. Must not throw.</summary>
    public event Action<WebSocketConnection>? ConnectionRemoved;

    /// <summary>Finds a registered connection by its <see cref="WebSocketConnection.Id"/>.</summary>
    /// <param name="id">The id.</param>
    /// <param name="connection">The connection, when found.</param>
    /// <returns><see langword="true"/> when a connection with this id is registered.</returns>
    public bool TryGetConnection(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WebSocketConnection? connection)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (_byId.TryGetValue(id, out ManagedConnection? entry))
        {
            connection = entry.Connection;
            return true;
        }

        connection = null;
        return false;
    }

    /// <summary>
    /// Registers a connection. It leaves by itself, exactly once, when its <see cref="WebSocketConnection.Completion"/>
    /// completes (at once when it already has). During a shutdown it is registered and closed with 1001 at once.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <returns><see langword="false"/> when it (or another connection with its id) is already registered, or
    /// <see cref="WebSocketConnectionManagerOptions.MaxConnections"/> is reached; the caller decides what to do with it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    public bool Add(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var entry = new ManagedConnection(this, connection);
        lock (entry)
        {
            if (!_byId.TryAdd(connection.Id, entry))
            {
                return false;
            }

            int slot = _all.TryAdd(connection, _options.MaxConnections);
            if (slot < 0)
            {
                _byId.TryRemove(new KeyValuePair<string, ManagedConnection>(connection.Id, entry));
                LogRegistryFull(_logger, connection.Id, _options.MaxConnections);
                return false;
            }

            entry.Slot = slot;
        }

        ConnectionAdded?.Invoke(connection);
        LogJoined(_logger, connection.Id);
        connection.Completion.ContinueWith(
            static (_, state) =>
            {
                var e = (ManagedConnection)state!;
                e.Manager.Leave(e);
            },
            entry,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        if (IsShuttingDown)
        {
            ManagerSend.Close(connection, WebSocketCloseCode.GoingAway, "going away");
        }

        return true;
    }

    /// <summary>Unregisters a connection now (it stays open) and drops its subscriptions. It will not leave a second time when it closes.</summary>
    /// <param name="connection">The connection.</param>
    /// <returns><see langword="true"/> when it was registered here.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    public bool Remove(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return TryGetEntry(connection, out ManagedConnection? entry) && Leave(entry);
    }

    /// <summary>Sends a text message to every registered connection (or all but one), encoded once. Never waits, never throws for a peer that left.</summary>
    /// <param name="text">The text (UTF-8 encoded once).</param>
    /// <param name="except">A connection to skip (typically the sender), or <see langword="null"/>.</param>
    /// <returns>The per-recipient outcome counts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public WebSocketBroadcastResult Broadcast(string text, WebSocketConnection? except = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        using WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(text);
        return Broadcast(message, except);
    }

    /// <summary>Sends a message to every registered connection (or all but one), encoded once. Never waits, never throws for a peer that left.</summary>
    /// <param name="data">The payload (copied once into the prepared frame).</param>
    /// <param name="messageType">Text (the payload must be UTF-8) or binary.</param>
    /// <param name="except">A connection to skip, or <see langword="null"/>.</param>
    /// <returns>The per-recipient outcome counts.</returns>
    public WebSocketBroadcastResult Broadcast(ReadOnlySpan<byte> data, WebSocketMessageKind messageType, WebSocketConnection? except = null)
    {
        using WebSocketPreparedMessage message = WebSocketPreparedMessage.Create(messageType, data);
        return Broadcast(message, except);
    }

    /// <summary>
    /// Sends a prepared message to every registered connection (or all but one), and through the backplane to
    /// every connection of the other nodes (the sender's <paramref name="except"/> is local). Each recipient gets a
    /// reference to the same frame bytes through its non-waiting send; the caller still owns
    /// <paramref name="message"/> and disposes it afterwards. No lock, no allocation per recipient.
    /// </summary>
    /// <param name="message">The prepared message.</param>
    /// <param name="except">A connection to skip, or <see langword="null"/>.</param>
    /// <returns>The per-recipient outcome counts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public WebSocketBroadcastResult Broadcast(WebSocketPreparedMessage message, WebSocketConnection? except = null)
    {
        WebSocketBroadcastResult result = BroadcastLocal(message, except);
        Forward(WebSocketBackplaneMessageKind.Broadcast, null, message);
        return result;
    }

    /// <summary>Sends a prepared message to the registered connections of this node that <paramref name="filter"/> accepts (not forwarded to other nodes).</summary>
    /// <param name="message">The prepared message; the caller disposes it afterwards.</param>
    /// <param name="filter">Called once per registered connection on this thread; <see langword="true"/> to send. Must not throw.</param>
    /// <returns>The per-recipient outcome counts (filtered-out connections are not counted).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public WebSocketBroadcastResult Broadcast(WebSocketPreparedMessage message, Func<WebSocketConnection, bool> filter)
        => Broadcast(message, static (c, f) => f(c), filter);

    /// <summary>Sends a prepared message to the registered connections of this node that <paramref name="filter"/> accepts, passing it a state (no closure needed; not forwarded to other nodes).</summary>
    /// <typeparam name="TState">The filter's state.</typeparam>
    /// <param name="message">The prepared message; the caller disposes it afterwards.</param>
    /// <param name="filter">Called once per registered connection on this thread; <see langword="true"/> to send. Must not throw.</param>
    /// <param name="state">Passed to <paramref name="filter"/>.</param>
    /// <returns>The per-recipient outcome counts (filtered-out connections are not counted).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public WebSocketBroadcastResult Broadcast<TState>(WebSocketPreparedMessage message, Func<WebSocketConnection, TState, bool> filter, TState state)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(filter);
        var counter = default(BroadcastCounter);
        foreach (WebSocketConnection? connection in _all.Items)
        {
            if (connection is not null && filter(connection, state))
            {
                counter.Add(ManagerSend.Send(connection, message));
            }
        }

        return counter.ToResult();
    }

    /// <summary>Shuts down with <see cref="WebSocketConnectionManagerOptions.ShutdownTimeout"/> (see <see cref="ShutdownAsync(TimeSpan, CancellationToken)"/>).</summary>
    /// <param name="cancellationToken">Cuts the wait short: the connections left are aborted at once.</param>
    /// <returns>The counts of connections closed and aborted.</returns>
    public Task<WebSocketShutdownResult> ShutdownAsync(CancellationToken cancellationToken = default)
        => ShutdownAsync(_options.ShutdownTimeout, cancellationToken);

    /// <summary>
    /// Closes every registered connection with 1001 (going away, RFC 6455 §7.4.1), each after what it had
    /// queued before, waits for the close handshakes up to <paramref name="timeout"/> (or until
    /// <paramref name="cancellationToken"/> fires), then aborts the connections left. Connections added
    /// afterwards are closed with 1001 at once. Logs the counts at Information.
    /// </summary>
    /// <param name="timeout">The deadline for the close handshakes; <see cref="TimeSpan.Zero"/> aborts at once.</param>
    /// <param name="cancellationToken">Cuts the wait short (for example the host's shutdown timeout).</param>
    /// <returns>The counts of connections closed and aborted.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    public async Task<WebSocketShutdownResult> ShutdownAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        Volatile.Write(ref _shuttingDown, 1);
        var connections = new List<WebSocketConnection>(_all.Count);
        foreach (WebSocketConnection? connection in _all.Items)
        {
            if (connection is not null)
            {
                connections.Add(connection);
            }
        }

        LogShutdownStarted(_logger, connections.Count, (long)timeout.TotalMilliseconds);
        var completions = new Task[connections.Count];
        for (int i = 0; i < connections.Count; i++)
        {
            ManagerSend.Close(connections[i], WebSocketCloseCode.GoingAway, "going away");
            completions[i] = connections[i].Completion;
        }

        Task all = Task.WhenAll(completions);
        try
        {
            await all.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The deadline passed: abort the rest below.
        }

        int aborted = 0;
        foreach (WebSocketConnection connection in connections)
        {
            if (!connection.Completion.IsCompleted)
            {
                aborted++;
                connection.Abort();
            }
        }

        if (aborted > 0)
        {
            try
            {
                // Abort ends the transport at once; Completion follows promptly.
                await all.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                LogAbortSlow(_logger);
            }
        }

        var result = new WebSocketShutdownResult(connections.Count - aborted, aborted);
        LogShutdownDone(_logger, result.Closed, result.Aborted);
        return result;
    }

    internal bool TryGetEntry(WebSocketConnection connection, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ManagedConnection? entry)
        => _byId.TryGetValue(connection.Id, out entry) && ReferenceEquals(entry.Connection, connection);

    /// <summary>Removes the entry exactly once (whoever calls first wins) and drops its subscriptions.</summary>
    private bool Leave(ManagedConnection entry)
    {
        if (!_byId.TryRemove(new KeyValuePair<string, ManagedConnection>(entry.Connection.Id, entry)))
        {
            return false;
        }

        lock (entry)
        {
            // Subscriptions first: once Count no longer includes the connection, none of its topics do either.
            entry.Removed = true;
            foreach (TopicSubscription subscription in entry.Topics)
            {
                ReleaseSubscription(entry, subscription);
            }

            entry.Topics = [];
            _all.Remove(entry.Slot, entry.Connection);
        }

        LogLeft(_logger, entry.Connection.Id);
        ConnectionRemoved?.Invoke(entry.Connection);
        return true;
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} joined the manager")]
    private static partial void LogJoined(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} left the manager")]
    private static partial void LogLeft(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "WebSocket {ConnectionId} refused: the manager holds {Max} connections (MaxConnections)")]
    private static partial void LogRegistryFull(ILogger logger, string connectionId, int max);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "Shutting down: closing {Count} connections with 1001 (deadline {TimeoutMs} ms)")]
    private static partial void LogShutdownStarted(ILogger logger, int count, long timeoutMs);

    [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Shutdown complete: {Closed} closed, {Aborted} aborted at the deadline")]
    private static partial void LogShutdownDone(ILogger logger, int closed, int aborted);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "Some aborted connections did not complete within 5 s")]
    private static partial void LogAbortSlow(ILogger logger);
}
