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
    private int _maxPendingSendBytes = 1024 * 1024;
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
    /// Gets or sets how many encoded bytes may wait in the send queue while another send is being
    /// written, in bytes (default 1 MiB). Beyond it, a send waits for the queue to drain (backpressure)
    /// instead of growing memory. A single larger message is still accepted when the queue is empty.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxPendingSendBytes
    {
        get => _maxPendingSendBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxPendingSendBytes = value;
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
    /// (a peer that stopped reading fills the TCP buffers and blocks the writer; default 30 s).
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
