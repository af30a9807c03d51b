using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// Per-connection behaviour of a <see cref="WebSocketConnection"/>: protocol limits, buffers and
/// timeouts. Every limit has a safe default. An instance may be shared by many connections; do not
/// change it once connections use it.
/// </summary>
public sealed class WebSocketConnectionOptions
{
    private int _receiveBufferSize = 16 * 1024;
    private int _sendHighWaterMark = 64 * 1024;
    private int _maxBufferedAmount = 1024 * 1024;
    private TimeSpan _keepAliveInterval = TimeSpan.FromSeconds(20);
    private TimeSpan _keepAliveTimeout = TimeSpan.FromSeconds(20);
    private TimeSpan _idleTimeout = TimeSpan.Zero;
    private TimeSpan _closeTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan _sendTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the protocol limits (message and frame sizes, fragment delivery, auto-fragmentation).</summary>
    public WebSocketProtocolOptions Protocol { get; set; } = new();

    /// <summary>
    /// Gets or sets the size of the receive buffer rented while data is arriving, in bytes
    /// (default 16 KiB). An idle connection holds none (it waits with a zero-byte read).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 256 bytes.</exception>
    public int ReceiveBufferSize
    {
        get => _receiveBufferSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 256);
            _receiveBufferSize = value;
        }
    }

    /// <summary>
    /// Gets or sets the send queue's high-water mark, in bytes (default 64 KiB). A send that waits
    /// (<see cref="WebSocketConnection.SendAsync(Protocol.WebSocketPreparedMessage, CancellationToken)"/> and
    /// its siblings) waits while <see cref="WebSocketConnection.BufferedAmount"/> is above it, before it
    /// appends anything (backpressure). At most <see cref="MaxBufferedAmount"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int SendHighWaterMark
    {
        get => Math.Min(_sendHighWaterMark, _maxBufferedAmount);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _sendHighWaterMark = value;
        }
    }

    /// <summary>
    /// Gets or sets the hard cap of the send queue, in bytes, framing included (default 1 MiB). No API
    /// queues past it: a send that never waits applies <see cref="BackpressurePolicy"/> there, a send that
    /// waits waits for room, and a single message larger than the cap is sent as fragments of a quarter of
    /// the cap, each queued when there is room. Owed pongs and our close frame are never dropped (they are
    /// bounded by <see cref="Protocol.WebSocketProtocolOptions.MaxPendingControlBytes"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 4 KiB.</exception>
    public int MaxBufferedAmount
    {
        get => _maxBufferedAmount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 4096);
            _maxBufferedAmount = value;
        }
    }

    /// <summary>
    /// Gets or sets what a send that never waits (<c>TrySend</c>) does when the queue is at
    /// <see cref="MaxBufferedAmount"/>: drop the message for this peer (default), or close the peer with
    /// 1008 or 1013. This is the slow-consumer policy of broadcasts.
    /// </summary>
    public WebSocketBackpressurePolicy BackpressurePolicy { get; set; } = WebSocketBackpressurePolicy.DropMessage;

    /// <summary>
    /// Gets or sets how long the connection may receive nothing before it sends a keepalive ping
    /// (RFC 6455 §5.5.2), default 20 s; <see cref="TimeSpan.Zero"/> disables keepalive. Resolution 100 ms.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan KeepAliveInterval
    {
        get => _keepAliveInterval;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _keepAliveInterval = value;
        }
    }

    /// <summary>
    /// Gets or sets how long a keepalive ping may wait for its pong before the connection is closed with
    /// 1011 and the reason "keepalive ping timeout" (default 20 s).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan KeepAliveTimeout
    {
        get => _keepAliveTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _keepAliveTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets how long a connection may carry no traffic in either direction (pings and pongs
    /// count) before it is closed with 1001 and the reason "idle timeout". <see cref="TimeSpan.Zero"/>
    /// (the default) disables it. Resolution 100 ms.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan IdleTimeout
    {
        get => _idleTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _idleTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets how long the close handshake may take: after our close frame is sent, how long
    /// to wait for the peer's close frame and, in the client role, for the server to close TCP
    /// (RFC 6455 §7.1.1). Then the transport is aborted. Default 5 s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan CloseTimeout
    {
        get => _closeTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _closeTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets how long one write to the transport may take before the connection is aborted
    /// (a peer that stopped reading fills the TCP buffers and blocks the writer; default 30 s). Resolution 100 ms.
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it. Pending senders then fail with
    /// <see cref="WebSocketClosedException"/> and <see cref="WebSocketConnection.Completion"/> reports 1006.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is neither positive nor infinite.</exception>
    public TimeSpan SendTimeout
    {
        get => _sendTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            }

            _sendTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets whether the connection waits for data with a zero-byte read before renting its
    /// receive buffer, so that idle connections hold no buffer. Default <see langword="true"/>.
    /// </summary>
    public bool UseZeroByteReads { get; set; } = true;
}
