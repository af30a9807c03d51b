using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ws4Net.Protocol;

namespace Ws4Net.Client;

/// <summary>
/// A client connection that reconnects by itself: after the connection drops or the server goes away it
/// connects again with exponential backoff and full jitter, runs <see cref="ReconnectingWebSocketClientOptions.OnConnectedAsync"/>
/// (to resubscribe), then sends the messages buffered while it was disconnected. It never reconnects after
/// <see cref="CloseAsync"/>, after a close with 1008 or 4000-4999 (unless
/// <see cref="ReconnectingWebSocketClientOptions.ReconnectAfterRejectionClose"/>), nor after a connect failure that
/// is not transient (<see cref="WebSocketConnectException.IsTransient"/>, or <see cref="ReconnectingWebSocketClientOptions.ShouldRetry"/>).
/// </summary>
/// <remarks>
/// <para>The send methods are thread-safe. Messages go out in the order their sends were called; a message whose
/// send fails because the connection just dropped is buffered and sent again after the reconnect, so a peer may
/// receive it twice (at least once, not exactly once).</para>
/// <para><see cref="StateChanged"/> is raised on the client's own loop, one event at a time; keep handlers short.</para>
/// </remarks>
public sealed partial class ReconnectingWebSocketClient : IAsyncDisposable
{
    private readonly ReconnectingWebSocketClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Queue<(byte[] Payload, WebSocketMessageKind Type)> _buffer = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private long _bufferedBytes;
    private long _dropped;
    private int _connects;
    private int _started;
    private volatile bool _closeRequested;
    private volatile WebSocketConnection? _connection;
    private ReconnectingWebSocketState _state;
    private WebSocketCloseInfo? _lastCloseStatus;
    private WebSocketConnectException? _lastConnectError;
    private Exception? _fault;

    /// <summary>Creates a client for <paramref name="uri"/>; nothing happens before <see cref="StartAsync"/>.</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URI.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="uri"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is not an absolute ws, wss, http or https URI.</exception>
    public ReconnectingWebSocketClient(Uri uri, ReconnectingWebSocketClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Scheme.ToUpperInvariant() is not ("WS" or "WSS" or "HTTP" or "HTTPS"))
        {
            throw new ArgumentException("Expected an absolute ws:// or wss:// URI.", nameof(uri));
        }

        Uri = uri;
        _options = options ?? new ReconnectingWebSocketClientOptions();
        _logger = _options.Client.Logger ?? NullLogger.Instance;
    }

    /// <summary>Raised on each state change (see <see cref="ReconnectingStateChangedEventArgs"/>). Exceptions thrown by handlers are logged and ignored.</summary>
    public event EventHandler<ReconnectingStateChangedEventArgs>? StateChanged;

    /// <summary>Gets the URI connected to.</summary>
    public Uri Uri { get; }

    /// <summary>Gets the current state.</summary>
    public ReconnectingWebSocketState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Gets the current connection while connected, else <see langword="null"/>. Do not close it to stop the client: use <see cref="CloseAsync"/>.</summary>
    public WebSocketConnection? Connection => _connection;

    /// <summary>Gets how many times a connection has been opened (1 after the first connect, 2 after the first reconnect...).</summary>
    public int ConnectCount => Volatile.Read(ref _connects);

    /// <summary>Gets how many messages the send buffer has refused or discarded so far.</summary>
    public long DroppedMessageCount => Interlocked.Read(ref _dropped);

    /// <summary>Gets how many messages wait in the send buffer.</summary>
    public int BufferedMessageCount
    {
        get
        {
            lock (_buffer)
            {
                return _buffer.Count;
            }
        }
    }

    /// <summary>Gets the close status of the last connection that ended, or <see langword="null"/>.</summary>
    public WebSocketCloseInfo? LastCloseStatus => _lastCloseStatus;

    /// <summary>Gets the last connect failure, or <see langword="null"/> (cleared by a successful connect).</summary>
    public WebSocketConnectException? LastConnectError => _lastConnectError;

    /// <summary>Gets a task that completes (never faults) when the client is <see cref="ReconnectingWebSocketState.Closed"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Starts connecting and keeps the connection up until closed.</summary>
    /// <param name="cancellationToken">Cancels the wait for the first connection (the client keeps trying; call <see cref="CloseAsync"/> to stop it).</param>
    /// <returns>A task that completes when the first connection is open.</returns>
    /// <exception cref="InvalidOperationException">The client was already started.</exception>
    /// <exception cref="WebSocketConnectException">The client gave up before the first connection opened (permanent failure or <see cref="ReconnectingWebSocketClientOptions.MaxAttempts"/> reached).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    /// <exception cref="ArgumentException">The client options are invalid (for example a custom header the handshake owns).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The client has already been started.");
        }

        _ = Task.Run(RunAsync, CancellationToken.None);
        await Task.WhenAny(_opened.Task, _completion.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!_opened.Task.IsCompleted)
        {
            if (_fault is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_fault);
            }

            throw _lastConnectError ?? new WebSocketConnectException(WebSocketConnectError.Unknown, $"The client for {Uri} closed before connecting.", Uri, 0, null, null);
        }
    }

    /// <summary>Sends a text message, or buffers it while disconnected.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the wait for the send lock and for send-queue space.</param>
    /// <returns><see langword="true"/> when sent or buffered; <see langword="false"/> when the buffer refused it (full with <see cref="SendBufferDropPolicy.DropNewest"/>, no buffer, or larger than <see cref="ReconnectingWebSocketClientOptions.SendBufferMaxBytes"/>).</returns>
    /// <exception cref="InvalidOperationException">The client is closed.</exception>
    public ValueTask<bool> SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageKind.Text, cancellationToken);
    }

    /// <summary>Sends a binary message, or buffers a copy of it while disconnected.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the wait for the send lock and for send-queue space.</param>
    /// <returns><see langword="true"/> when sent or buffered; <see langword="false"/> when the buffer refused it.</returns>
    /// <exception cref="InvalidOperationException">The client is closed.</exception>
    public ValueTask<bool> SendBinaryAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => SendAsync(data.ToArray(), WebSocketMessageKind.Binary, cancellationToken);

    /// <summary>Stops the client for good: no reconnect follows; the open connection (if any) is closed with <paramref name="code"/>.</summary>
    /// <param name="code">The close code (default 1000).</param>
    /// <param name="reason">At most 123 UTF-8 bytes, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the wait (the connection's close is bounded by its <see cref="WebSocketConnectionOptions.CloseTimeout"/>).</param>
    /// <returns>A task that completes when the client is <see cref="ReconnectingWebSocketState.Closed"/>.</returns>
    public async ValueTask CloseAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        _closeRequested = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _started) == 0)
        {
            Interlocked.Exchange(ref _started, 1);
            SetState(ReconnectingWebSocketState.Closed, 0, null, null);
            _completion.TrySetResult();
            return;
        }

        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(code, reason, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketClosedException or IOException or InvalidOperationException)
            {
                // Already closing or closed: the loop ends either way.
            }
        }

        await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes with 1000 (see <see cref="CloseAsync"/>), waiting at most the connection's close timeout plus 5 s.</summary>
    /// <returns>A task that completes when the client is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(_options.Client.Connection.CloseTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await CloseAsync(WebSocketCloseCode.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _connection?.Abort();
        }

        if (_completion.Task.IsCompleted)
        {
            _stop.Dispose();
        }
    }

    private async ValueTask<bool> SendAsync(byte[] payload, WebSocketMessageKind type, CancellationToken cancellationToken)
    {
        if (State == ReconnectingWebSocketState.Closed || _closeRequested)
        {
            throw new InvalidOperationException("The reconnecting client is closed.");
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State == ReconnectingWebSocketState.Open && _connection is { } connection)
            {
                try
                {
                    await connection.SendAsync(payload, type, true, cancellationToken).ConfigureAwait(false);
                    return true;
                }
                catch (Exception ex) when (ex is WebSocketClosedException or IOException)
                {
                    // The connection just dropped: keep the message for the next one.
                }
            }

            return Enqueue(payload, type);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private bool Enqueue(byte[] payload, WebSocketMessageKind type)
    {
        lock (_buffer)
        {
            if (_options.SendBufferCapacity == 0 || payload.Length > _options.SendBufferMaxBytes)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            bool full = _buffer.Count >= _options.SendBufferCapacity || _bufferedBytes + payload.Length > _options.SendBufferMaxBytes;
            if (full && _options.DropPolicy == SendBufferDropPolicy.DropNewest)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }

            while (_buffer.Count > 0 && (_buffer.Count >= _options.SendBufferCapacity || _bufferedBytes + payload.Length > _options.SendBufferMaxBytes))
            {
                _bufferedBytes -= _buffer.Dequeue().Payload.Length;
                Interlocked.Increment(ref _dropped);
            }

            _buffer.Enqueue((payload, type));
            _bufferedBytes += payload.Length;
            return true;
        }
    }

    /// <summary>Sends the buffered messages in order; on failure the unsent ones stay buffered. Called with the send lock held.</summary>
    private async Task<bool> FlushAsync(WebSocketConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            (byte[] Payload, WebSocketMessageKind Type) next;
            lock (_buffer)
            {
                if (!_buffer.TryPeek(out next))
                {
                    return true;
                }
            }

            try
            {
                await connection.SendAsync(next.Payload, next.Type, true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketClosedException or IOException or OperationCanceledException)
            {
                return false;
            }

            lock (_buffer)
            {
                _buffer.Dequeue();
                _bufferedBytes -= next.Payload.Length;
            }
        }
    }

    private async Task RunAsync()
    {
        int failures = 0;
        CancellationToken stop = _stop.Token;
        try
        {
            while (!_closeRequested)
            {
                SetState(ReconnectingWebSocketState.Connecting, failures, null, null);
                WebSocketConnection connection;
                try
                {
                    connection = await WebSocketClient.ConnectAsync(Uri, _options.Client, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (WebSocketConnectException ex)
                {
                    failures++;
                    _lastConnectError = ex;
                    bool retry = (_options.ShouldRetry ?? (static e => e.IsTransient)).Invoke(ex);
                    LogConnectFailed(_logger, Uri, failures, ex.Error, retry, ex.Message);
                    if (!retry || failures >= (_options.MaxAttempts ?? int.MaxValue))
                    {
                        break;
                    }

                    SetState(ReconnectingWebSocketState.WaitingToReconnect, failures, ex, null);
                    if (!await DelayAsync(failures, stop).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                if (!await OpenAsync(connection, stop).ConfigureAwait(false))
                {
                    failures++;
                    await connection.DisposeAsync().ConfigureAwait(false);
                    if (_closeRequested || failures >= (_options.MaxAttempts ?? int.MaxValue))
                    {
                        break;
                    }

                    SetState(ReconnectingWebSocketState.WaitingToReconnect, failures, null, connection.CloseStatus);
                    if (!await DelayAsync(failures, stop).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                failures = 0;
                WebSocketCloseInfo status = await ReceiveUntilClosedAsync(connection).ConfigureAwait(false);
                await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                _connection = null;
                _sendLock.Release();
                await connection.DisposeAsync().ConfigureAwait(false);
                _lastCloseStatus = status;
                LogDisconnected(_logger, Uri, (int)status.Code, status.Reason);
                if (_closeRequested || !ShouldReconnect(status))
                {
                    SetState(ReconnectingWebSocketState.Closed, 0, null, status);
                    return;
                }

                SetState(ReconnectingWebSocketState.WaitingToReconnect, 0, null, status);
                if (!await DelayAsync(1, stop).ConfigureAwait(false))
                {
                    break;
                }
            }

            SetState(ReconnectingWebSocketState.Closed, failures, _lastConnectError, _lastCloseStatus);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A configuration error (for example an invalid header): report it from StartAsync.
            _fault = ex;
            LogHookFailed(_logger, Uri, ex);
            SetState(ReconnectingWebSocketState.Closed, failures, _lastConnectError, _lastCloseStatus);
        }
        finally
        {
            _completion.TrySetResult();
        }
    }

    /// <summary>Runs the hook and flushes the buffer with the send lock held; the state becomes Open on success.</summary>
    private async Task<bool> OpenAsync(WebSocketConnection connection, CancellationToken stop)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _connection = connection;
            Interlocked.Increment(ref _connects);
            _lastConnectError = null;

            // The hook and the flush together get one ConnectTimeout, so that a stuck hook or a peer that does not
            // read cannot hold the send lock for ever.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop);
            bound.CancelAfter(_options.Client.ConnectTimeout);
            if (_options.OnConnectedAsync is { } hook)
            {
                try
                {
                    await hook(connection, bound.Token).AsTask().WaitAsync(bound.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogHookFailed(_logger, Uri, ex);
                    connection.Abort();
                    _connection = null;
                    return false;
                }
            }

            if (!await FlushAsync(connection, bound.Token).ConfigureAwait(false))
            {
                connection.Abort();
                _connection = null;
                return false;
            }

            SetState(ReconnectingWebSocketState.Open, 0, null, null);
            _opened.TrySetResult();
            return true;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task<WebSocketCloseInfo> ReceiveUntilClosedAsync(WebSocketConnection connection)
    {
        try
        {
            while (await connection.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { } message)
            {
                if (_options.OnMessageAsync is { } callback)
                {
                    try
                    {
                        await callback(message).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        LogHookFailed(_logger, Uri, ex);
                        await connection.CloseAsync(WebSocketCloseCode.InternalError, null, CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketClosedException or IOException or InvalidOperationException)
        {
            // CloseAsync took over the receive side, or the transport died: Completion tells how it ended.
        }

        try
        {
            return await connection.Completion.WaitAsync(_options.Client.Connection.CloseTimeout + TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            connection.Abort();
            return await connection.Completion.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
    }

    private bool ShouldReconnect(WebSocketCloseInfo status)
    {
        int code = (int)status.Code;
        bool rejection = status.InitiatedByPeer && (code == 1008 || code is >= 4000 and <= 4999);
        return !rejection || _options.ReconnectAfterRejectionClose;
    }

    private async Task<bool> DelayAsync(int attempt, CancellationToken stop)
    {
        double cap = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap);
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void SetState(ReconnectingWebSocketState state, int attempt, WebSocketConnectException? error, WebSocketCloseInfo? status)
    {
        ReconnectingWebSocketState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state || previous == ReconnectingWebSocketState.Closed)
            {
                return;
            }

            _state = state;
        }

        try
        {
            StateChanged?.Invoke(this, new ReconnectingStateChangedEventArgs(previous, state, attempt, error, status));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogHookFailed(_logger, Uri, ex);
        }
    }

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Connect to {Uri} failed (attempt {Attempt}, {Error}, retry: {Retry}): {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, Uri uri, int attempt, WebSocketConnectError error, bool retry, string reason);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "Connection to {Uri} ended with {Code} {Reason}")]
    private static partial void LogDisconnected(ILogger logger, Uri uri, int code, string reason);

    [LoggerMessage(EventId = 43, Level = LogLevel.Error, Message = "A callback of the reconnecting client for {Uri} threw")]
    private static partial void LogHookFailed(ILogger logger, Uri uri, Exception exception);
}
