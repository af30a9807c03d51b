namespace Ws4Net.Protocol;

/// <summary>
/// Limits and behaviour of a <see cref="WebSocketProtocol"/>. Every limit has a safe default. An
/// instance may be shared by many connections; do not change it after the first connection uses it.
/// </summary>
public sealed class WebSocketProtocolOptions
{
    /// <summary>The default <see cref="MaxMessageSize"/>: 4 MiB.</summary>
    public const long DefaultMaxMessageSize = 4 * 1024 * 1024;

    private long _maxMessageSize = DefaultMaxMessageSize;
    private long? _maxFrameSize;
    private int _maxSendFrameSize;
    private int _maxPendingControlBytes = 64 * 1024;

    /// <summary>Gets a shared instance holding the defaults. Do not modify it.</summary>
    public static WebSocketProtocolOptions Default { get; } = new();

    /// <summary>
    /// Gets or sets the largest data message accepted, in bytes of (decompressed) payload summed over
    /// its frames. A larger message fails the connection with 1009 (RFC 6455 §7.4.1) as soon as a
    /// frame header announces it, before its payload is buffered. Default 4 MiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxMessageSize = value;
        }
    }

    /// <summary>
    /// Gets or sets the largest single frame payload accepted, in bytes; a larger frame fails the
    /// connection with 1009. Defaults to <see cref="MaxMessageSize"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 125 (a control frame must always fit).</exception>
    public long MaxFrameSize
    {
        get => _maxFrameSize ?? _maxMessageSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 125);
            _maxFrameSize = value;
        }
    }

    /// <summary>
    /// Gets or sets whether data messages are delivered as <see cref="WebSocketEventType.Fragment"/>
    /// events, as their bytes arrive, instead of being reassembled into one
    /// <see cref="WebSocketEventType.Message"/> event. Use it for messages too large to buffer;
    /// <see cref="MaxMessageSize"/> still applies. Text fragments are UTF-8 validated, but a fragment
    /// may end inside a code point. Default <see langword="false"/>.
    /// </summary>
    public bool DeliverFragments { get; set; }

    /// <summary>
    /// Gets or sets the largest frame payload this side sends, in bytes; longer messages are split
    /// into several frames (auto-fragmentation, RFC 6455 §5.4). 0 (the default) sends each message
    /// write as one frame.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxSendFrameSize
    {
        get => _maxSendFrameSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxSendFrameSize = value;
        }
    }

    /// <summary>
    /// Gets or sets how many bytes of owed control frames (pongs) may wait for the driver to flush
    /// them. Pings beyond it are not answered (RFC 6455 §5.5.3 allows answering only the latest).
    /// Default 64 KiB; a driver that flushes after every read never comes near it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 256.</exception>
    public int MaxPendingControlBytes
    {
        get => _maxPendingControlBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 256);
            _maxPendingControlBytes = value;
        }
    }
}
