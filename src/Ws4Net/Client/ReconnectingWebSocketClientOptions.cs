namespace Ws4Net.Client;

/// <summary>
/// Settings of a <see cref="ReconnectingWebSocketClient"/>: how to connect, the backoff between attempts
/// (exponential with full jitter), when to give up, the bounded send buffer used while disconnected, and the
/// hooks run on each connection. Read when the client is constructed and at each attempt; not thread-safe while
/// being changed.
/// </summary>
public sealed class ReconnectingWebSocketClientOptions
{
    private TimeSpan _initialDelay = TimeSpan.FromMilliseconds(500);
    private TimeSpan _maxDelay = TimeSpan.FromSeconds(30);
    private int? _maxAttempts;
    private int _sendBufferCapacity;
    private long _sendBufferMaxBytes = 1024 * 1024;

    /// <summary>Gets or sets the options of each connection attempt (proxy, TLS, headers, timeouts; see <see cref="WebSocketClientOptions"/>).</summary>
    public WebSocketClientOptions Client { get; set; } = new();

    /// <summary>
    /// Gets or sets the base of the backoff (default 500 ms). Before attempt <c>n</c> (1 for the first retry) the
    /// client waits a uniformly random time between 0 and <c>min(MaxReconnectDelay, InitialReconnectDelay × 2^(n-1))</c>
    /// ("full jitter"), which spreads the reconnects of many clients after a server restart.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan InitialReconnectDelay
    {
        get => _initialDelay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _initialDelay = value;
        }
    }

    /// <summary>Gets or sets the largest backoff delay (default 30 s).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan MaxReconnectDelay
    {
        get => _maxDelay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _maxDelay = value;
        }
    }

    /// <summary>
    /// Gets or sets how many consecutive connect attempts may fail before the client gives up and closes, or
    /// <see langword="null"/> (the default) for no limit. The count restarts after each successful connect.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int? MaxAttempts
    {
        get => _maxAttempts;
        set
        {
            if (value is { } v)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(v, 1);
            }

            _maxAttempts = value;
        }
    }

    /// <summary>
    /// Gets or sets how many messages sent while disconnected are kept and sent after the next connect, in order
    /// (default 0: such sends return <see langword="false"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int SendBufferCapacity
    {
        get => _sendBufferCapacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _sendBufferCapacity = value;
        }
    }

    /// <summary>Gets or sets the most payload bytes the send buffer holds (default 1 MiB); a larger message is never buffered.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long SendBufferMaxBytes
    {
        get => _sendBufferMaxBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _sendBufferMaxBytes = value;
        }
    }

    /// <summary>Gets or sets what happens when the send buffer is full (default <see cref="SendBufferDropPolicy.DropNewest"/>).</summary>
    public SendBufferDropPolicy DropPolicy { get; set; } = SendBufferDropPolicy.DropNewest;

    /// <summary>
    /// Gets or sets whether to reconnect after the server closed with 1008 (policy violation) or a 4000-4999
    /// application code (default <see langword="false"/>: such a close is final, as is one the application asked for).
    /// </summary>
    public bool ReconnectAfterRejectionClose { get; set; }

    /// <summary>
    /// Gets or sets whether a failed connect should be retried; <see langword="null"/> (the default) retries when
    /// <see cref="WebSocketConnectException.IsTransient"/> (network, timeout, 408, 429, 5xx, proxy 502-504).
    /// </summary>
    public Func<WebSocketConnectException, bool>? ShouldRetry { get; set; }

    /// <summary>
    /// Gets or sets a hook run after each connect (the first one too), before buffered messages are flushed and
    /// before the state becomes <see cref="ReconnectingWebSocketState.Open"/>: the place to authenticate or
    /// resubscribe. It must send through the connection it is given (the client's own send methods wait until it
    /// returns). The hook and the flush that follows share one <see cref="WebSocketClientOptions.ConnectTimeout"/> (the
    /// token it gets is cancelled then). If it throws or runs out of time, the connection is aborted and counted as a
    /// failed attempt.
    /// </summary>
    public Func<WebSocketConnection, CancellationToken, ValueTask>? OnConnectedAsync { get; set; }

    /// <summary>
    /// Gets or sets the callback for each received data message, run on the receive loop one at a time; the payload
    /// is valid only during the call. <see langword="null"/> discards messages. If it throws, the connection is
    /// closed with 1011 and the client reconnects.
    /// </summary>
    public Func<WebSocketMessage, ValueTask>? OnMessageAsync { get; set; }
}
