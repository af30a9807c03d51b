using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Framing;
using Ws4Net.Protocol.Text;

namespace Ws4Net.Protocol;

/// <summary>
/// The sans-I/O WebSocket protocol engine for one connection (RFC 6455 §5-§7). It never touches a
/// socket, a task or a timer: a driver feeds it received bytes with <see cref="TryReadEvent"/> and gets
/// events back, and asks it to encode outgoing frames into an <see cref="IBufferWriter{T}"/>.
/// </summary>
/// <remarks>
/// <para>Receive side: frame decoding is incremental; bytes may arrive in any chunking and produce the
/// same events. Protocol violations never throw: they produce a <see cref="WebSocketEventType.Failed"/>
/// event with the RFC close code (1002, 1007, 1009) and queue the close frame to send.</para>
/// <para>Send side: <see cref="WriteMessage"/>, <see cref="WriteText"/>, <see cref="WritePing"/>,
/// <see cref="WritePong"/>, <see cref="WriteClose"/> encode frames (masked with a fresh key from a
/// cryptographic RNG in the client role, §5.3). Control frames the core owes the peer (pongs, the
/// close echo, the failure close) accumulate until the driver calls <see cref="WritePendingOutput"/>;
/// <see cref="HasPendingOutput"/> tells it to.</para>
/// <para>Thread-safety: one thread may receive (<see cref="TryReadEvent"/>) while another sends (the
/// Write* members); the state they share is synchronized internally. Two concurrent receivers, or two
/// concurrent senders, are not supported: a driver serializes each side.</para>
/// </remarks>
public sealed class WebSocketProtocol : IDisposable
{
    private const int MaxArrayLength = 0x7FFFFFC7;

    private readonly WebSocketRole _role;
    private readonly WebSocketProtocolOptions _options;
    private readonly object _sync = new();
    private readonly PerMessageDeflateCodec? _codec;

    // ---- receive side: frame header ----
    private readonly byte[] _header = new byte[WebSocketFrameEncoder.MaxHeaderLength];
    private int _headerLength;
    private bool _inPayload;
    private WebSocketOpcode _frameOpcode;
    private bool _frameFin;
    private bool _frameMasked;
    private readonly byte[] _frameMask = new byte[4];
    private long _framePayloadLength;
    private long _framePayloadRead;

    // ---- receive side: message assembly ----
    private bool _inMessage;
    private bool _frameRsv1;
    private bool _messageCompressed;
    private long _messageInflated;
    private long _messageCompressedBytes;
    private long _frameInflated;
    private WebSocketMessageType _messageType;
    private long _messageLength;
    private Utf8Validator _utf8;
    private byte[]? _assembly;
    private int _assemblyLength;
    private bool _releaseAssembly;
    private byte[]? _control;   // only for a control frame split across reads
    private bool _receiveDone;

    // ---- send side ----
    private bool _sendInMessage;
    private bool _sendCompressed;
    private PooledBufferWriter? _compressed;
    private Encoder? _textEncoder;
    private WebSocketMessageType _sendMessageType;
    private readonly byte[] _maskPool;
    private int _maskPoolIndex;

    // ---- shared, guarded by _sync ----
    private byte[] _owed = [];
    private volatile int _owedLength;
    private bool _owedHasClose;
    private volatile bool _closeSent;
    private volatile bool _closeReceived;
    private volatile bool _failed;
    private bool _disposed;

    /// <summary>Creates the protocol engine for one connection, after a successful opening handshake.</summary>
    /// <param name="role">Which side this endpoint plays: decides masking on send and the masking check on receive.</param>
    /// <param name="options">Limits and behaviour; <see langword="null"/> for <see cref="WebSocketProtocolOptions.Default"/>.</param>
    /// <param name="perMessageDeflate">The negotiated permessage-deflate agreement (RFC 7692), or <see langword="null"/> when the
    /// extension is not in use (then any RSV1 bit fails the connection with 1002).</param>
    /// <exception cref="ArgumentException">The agreement asks this endpoint to compress with an 8-bit window.</exception>
    public WebSocketProtocol(WebSocketRole role, WebSocketProtocolOptions? options = null, PerMessageDeflateParameters? perMessageDeflate = null)
    {
        _role = role;
        _options = options ?? WebSocketProtocolOptions.Default;
        PerMessageDeflate = perMessageDeflate;
        _codec = perMessageDeflate is null ? null : new PerMessageDeflateCodec(perMessageDeflate, role);
        _maskPool = role == WebSocketRole.Client ? new byte[256] : [];
        _maskPoolIndex = _maskPool.Length;
    }

    /// <summary>Gets the role this endpoint plays.</summary>
    public WebSocketRole Role => _role;

    /// <summary>Gets the options in force.</summary>
    public WebSocketProtocolOptions Options => _options;

    /// <summary>Gets the permessage-deflate agreement in force (RFC 7692), or <see langword="null"/>.</summary>
    public PerMessageDeflateParameters? PerMessageDeflate { get; }

    /// <summary>Gets whether this connection holds a zlib state right now (dedicated contexts, or a pooled one mid-message).</summary>
    public bool HoldsCompressionState => _codec?.HoldsState ?? false;

    /// <summary>Gets the close handshake state (RFC 6455 §7). Safe to read from any thread.</summary>
    public WebSocketProtocolState State
    {
        get
        {
            bool received = _closeReceived || _failed;
            if (_closeSent)
            {
                return received ? WebSocketProtocolState.Closed : WebSocketProtocolState.CloseSent;
            }

            return received ? WebSocketProtocolState.CloseReceived : WebSocketProtocolState.Open;
        }
    }

    /// <summary>Gets whether a close frame has been written by this side (by <see cref="WriteClose"/> or as an owed echo).</summary>
    public bool IsCloseSent => _closeSent;

    /// <summary>Gets whether the receive side is finished: the peer's close arrived or the connection was failed. Later input is ignored.</summary>
    public bool IsReceiveCompleted => _receiveDone;

    /// <summary>
    /// Gets whether control frames the core owes the peer (pongs, the close echo, a failure close) wait
    /// to be written with <see cref="WritePendingOutput"/>. A driver checks it after each read.
    /// </summary>
    public bool HasPendingOutput => _owedLength > 0;

    // =====================================================================================
    // Receive
    // =====================================================================================

    /// <summary>
    /// Consumes received bytes until one event is complete or the input is exhausted.
    /// </summary>
    /// <param name="input">
    /// Received bytes not yet given to the core. Masked payloads are unmasked IN PLACE, so the memory
    /// must be writable and must not be passed again: continue with <c>input[consumed..]</c>.
    /// </param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> were consumed (0 to its length).</param>
    /// <param name="protocolEvent">The event, when the method returns <see langword="true"/>; its payload is valid until the next call.</param>
    /// <returns><see langword="true"/> when an event was produced (more may follow in the rest of the input);
    /// <see langword="false"/> when all input was consumed without completing one.</returns>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public bool TryReadEvent(Memory<byte> input, out int consumed, out WebSocketEvent protocolEvent)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_releaseAssembly)
        {
            ReleaseAssembly();
        }

        protocolEvent = default;
        if (_receiveDone)
        {
            consumed = input.Length;   // RFC 6455 §5.5.1: nothing after a close frame is processed
            return false;
        }

        int pos = 0;
        while (true)
        {
            if (!_inPayload)
            {
                if (!ReadHeader(input.Span, ref pos, out protocolEvent))
                {
                    consumed = pos;
                    return false;
                }

                if (protocolEvent.Type == WebSocketEventType.Failed)
                {
                    consumed = input.Length;
                    return true;
                }
            }

            long left = _framePayloadLength - _framePayloadRead;
            int take = (int)Math.Min(left, input.Length - pos);
            if (take == 0 && left > 0)
            {
                consumed = pos;
                return false;
            }

            Memory<byte> segment = input.Slice(pos, take);
            if (_frameMasked && take > 0)
            {
                WebSocketMasking.Apply(segment.Span, _frameMask, _framePayloadRead);
            }

            pos += take;
            bool produced = _frameOpcode >= WebSocketOpcode.Close
                ? OnControlPayload(segment, out protocolEvent)
                : OnDataPayload(segment, out protocolEvent);

            if (produced)
            {
                consumed = protocolEvent.Type == WebSocketEventType.Failed || _receiveDone ? input.Length : pos;
                return true;
            }

            if (pos == input.Length && _inPayload)
            {
                consumed = pos;
                return false;
            }
        }
    }

    /// <summary>
    /// Returns the reassembly buffer of the last delivered message to the pool now, instead of at the
    /// next <see cref="TryReadEvent"/> call. A driver calls it before it waits for more bytes, so an idle
    /// connection holds no receive buffer. The last event's payload is invalid afterwards. Receive side only.
    /// </summary>
    public void ReleaseBuffers()
    {
        if (_releaseAssembly)
        {
            ReleaseAssembly();
        }
    }

    /// <summary>Accumulates and validates a frame header. Returns false when input ran out first.</summary>
    private bool ReadHeader(ReadOnlySpan<byte> input, ref int pos, out WebSocketEvent failure)
    {
        failure = default;
        while (true)
        {
            int needed = _headerLength < 2 ? 2 : HeaderLengthFromSecondByte(_header[1]);
            if (_headerLength < needed)
            {
                int copy = Math.Min(needed - _headerLength, input.Length - pos);
                input.Slice(pos, copy).CopyTo(_header.AsSpan(_headerLength));
                _headerLength += copy;
                pos += copy;
                if (_headerLength < needed)
                {
                    return false;
                }

                if (needed == 2)
                {
                    // Validate what the first two bytes tell before waiting for the extended length.
                    if (!ValidateFirstBytes(out failure))
                    {
                        return true;
                    }

                    continue;
                }
            }

            return CompleteHeader(out failure);
        }
    }

    private static int HeaderLengthFromSecondByte(byte b1)
    {
        int length = (b1 & 0x7F) switch { 126 => 4, 127 => 10, _ => 2 };
        return (b1 & 0x80) != 0 ? length + 4 : length;
    }

    private bool ValidateFirstBytes(out WebSocketEvent failure)
    {
        byte b0 = _header[0];
        byte b1 = _header[1];
        var opcode = (WebSocketOpcode)(b0 & 0x0F);
        bool fin = (b0 & 0x80) != 0;
        bool masked = (b1 & 0x80) != 0;

        if ((b0 & 0x30) != 0)
        {
            failure = Fail(WebSocketCloseCode.ProtocolError, "RSV2 or RSV3 set without a negotiated extension");
            return false;
        }

        if ((b0 & 0x40) != 0 && (_codec is null || opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary)))
        {
            // RFC 7692 §6.1: RSV1 marks a compressed message, on its first frame only; never on control frames.
            failure = Fail(WebSocketCloseCode.ProtocolError, _codec is null
                ? "RSV1 set without a negotiated extension"
                : "RSV1 set on a continuation or control frame");
            return false;
        }

        switch (opcode)
        {
            case WebSocketOpcode.Continuation:
                if (!_inMessage)
                {
                    failure = Fail(WebSocketCloseCode.ProtocolError, "continuation frame without a message to continue");
                    return false;
                }

                break;
            case WebSocketOpcode.Text:
            case WebSocketOpcode.Binary:
                if (_inMessage)
                {
                    failure = Fail(WebSocketCloseCode.ProtocolError, "new data frame inside a fragmented message");
                    return false;
                }

                break;
            case WebSocketOpcode.Close:
            case WebSocketOpcode.Ping:
            case WebSocketOpcode.Pong:
                if (!fin)
                {
                    failure = Fail(WebSocketCloseCode.ProtocolError, "fragmented control frame");
                    return false;
                }

                if ((b1 & 0x7F) > WebSocketFrameEncoder.MaxControlPayloadLength)
                {
                    failure = Fail(WebSocketCloseCode.ProtocolError, "control frame payload over 125 bytes");
                    return false;
                }

                break;
            default:
                failure = Fail(WebSocketCloseCode.ProtocolError, "reserved opcode");
                return false;
        }

        if (masked != (_role == WebSocketRole.Server))
        {
            failure = Fail(WebSocketCloseCode.ProtocolError, masked ? "masked frame from a server" : "unmasked frame from a client");
            return false;
        }

        failure = default;
        return true;
    }

    private bool CompleteHeader(out WebSocketEvent failure)
    {
        failure = default;
        byte b0 = _header[0];
        byte b1 = _header[1];
        long length = b1 & 0x7F;
        int pos = 2;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2));
            pos = 4;
        }
        else if (length == 127)
        {
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2));
            if (wide > long.MaxValue)
            {
                failure = Fail(WebSocketCloseCode.ProtocolError, "64-bit payload length with the most significant bit set");
                return true;
            }

            length = (long)wide;
            pos = 10;
        }

        _frameOpcode = (WebSocketOpcode)(b0 & 0x0F);
        _frameFin = (b0 & 0x80) != 0;
        _frameRsv1 = (b0 & 0x40) != 0;
        _frameInflated = 0;
        _frameMasked = (b1 & 0x80) != 0;
        if (_frameMasked)
        {
            _header.AsSpan(pos, 4).CopyTo(_frameMask);
        }

        _framePayloadLength = length;
        _framePayloadRead = 0;
        _headerLength = 0;

        if (_frameOpcode < WebSocketOpcode.Close)
        {
            if (length > _options.MaxFrameSize)
            {
                failure = Fail(WebSocketCloseCode.MessageTooBig, "frame larger than the configured limit");
                return true;
            }

            long total = (_frameOpcode == WebSocketOpcode.Continuation ? _messageLength : 0) + length;
            if (total > _options.MaxMessageSize || (!_options.DeliverFragments && total > MaxArrayLength))
            {
                failure = Fail(WebSocketCloseCode.MessageTooBig, "message larger than the configured limit");
                return true;
            }

            if (_frameOpcode != WebSocketOpcode.Continuation)
            {
                _inMessage = true;
                _messageType = (WebSocketMessageType)_frameOpcode;
                _messageCompressed = _frameRsv1;
                _messageInflated = 0;
                _messageCompressedBytes = 0;
                _utf8.Reset();
            }

            _messageLength = total;
        }

        _inPayload = true;
        return true;
    }

    private bool OnControlPayload(Memory<byte> segment, out WebSocketEvent protocolEvent)
    {
        protocolEvent = default;
        ReadOnlyMemory<byte> payload;
        if (_framePayloadRead == 0 && segment.Length == _framePayloadLength)
        {
            payload = segment;
        }
        else
        {
            _control ??= new byte[WebSocketFrameEncoder.MaxControlPayloadLength];
            segment.Span.CopyTo(_control.AsSpan((int)_framePayloadRead));
            if (_framePayloadRead + segment.Length < _framePayloadLength)
            {
                _framePayloadRead += segment.Length;
                return false;
            }

            payload = _control!.AsMemory(0, (int)_framePayloadLength);
        }

        _framePayloadRead = _framePayloadLength;
        _inPayload = false;
        switch (_frameOpcode)
        {
            case WebSocketOpcode.Ping:
                OwePong(payload.Span);
                protocolEvent = new WebSocketEvent(WebSocketEventType.Ping, default, payload, true, default, null);
                return true;
            case WebSocketOpcode.Pong:
                protocolEvent = new WebSocketEvent(WebSocketEventType.Pong, default, payload, true, default, null);
                return true;
            default:
                protocolEvent = OnClose(payload.Span);
                return true;
        }
    }

    private WebSocketEvent OnClose(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 1)
        {
            return Fail(WebSocketCloseCode.ProtocolError, "close frame with a 1-byte payload");
        }

        var code = WebSocketCloseCode.NoStatusReceived;
        string? reason = null;
        if (payload.Length >= 2)
        {
            ushort raw = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!WebSocketCloseCodes.IsValidOnWire(raw))
            {
                return Fail(WebSocketCloseCode.ProtocolError, "close frame with an invalid close code");
            }

            ReadOnlySpan<byte> reasonBytes = payload[2..];
            if (!Utf8.IsValid(reasonBytes))
            {
                return Fail(WebSocketCloseCode.InvalidPayloadData, "close reason is not valid UTF-8");
            }

            code = (WebSocketCloseCode)raw;
            reason = reasonBytes.IsEmpty ? string.Empty : Encoding.UTF8.GetString(reasonBytes);
        }

        lock (_sync)
        {
            _receiveDone = true;
            _closeReceived = true;
            if (!_closeSent && !_owedHasClose)
            {
                // Echo the peer's code (RFC 6455 §5.5.1); an empty close is answered with an empty close.
                AppendOwedClose(code == WebSocketCloseCode.NoStatusReceived ? null : code, default);
            }
        }

        ReleaseAssembly();
        return new WebSocketEvent(WebSocketEventType.Close, default, default, true, code, reason);
    }

    private bool OnDataPayload(Memory<byte> segment, out WebSocketEvent protocolEvent)
    {
        protocolEvent = default;
        bool frameDone = _framePayloadRead + segment.Length == _framePayloadLength;
        bool endOfMessage = frameDone && _frameFin;
        if (_messageCompressed)
        {
            return OnCompressedPayload(segment.Span, frameDone, endOfMessage, out protocolEvent);
        }

        if (_messageType == WebSocketMessageType.Text)
        {
            if (!_utf8.Validate(segment.Span) || (endOfMessage && !_utf8.IsComplete))
            {
                protocolEvent = Fail(WebSocketCloseCode.InvalidPayloadData, "text message is not valid UTF-8");
                return true;
            }
        }

        if (_options.DeliverFragments)
        {
            _framePayloadRead += segment.Length;
            if (frameDone)
            {
                _inPayload = false;
            }

            if (endOfMessage)
            {
                _inMessage = false;
            }
            else if (segment.IsEmpty)
            {
                return false;
            }

            protocolEvent = new WebSocketEvent(WebSocketEventType.Fragment, _messageType, segment, endOfMessage, default, null);
            return true;
        }

        ReadOnlyMemory<byte> message;
        if (endOfMessage && _assemblyLength == 0 && _framePayloadRead == 0)
        {
            message = segment;   // the whole message is in the caller's buffer: no copy
        }
        else
        {
            AppendAssembly(segment.Span);
            _framePayloadRead += segment.Length;
            if (frameDone)
            {
                _inPayload = false;
            }

            if (!endOfMessage)
            {
                return false;
            }

            message = _assembly.AsMemory(0, _assemblyLength);
            _releaseAssembly = true;
        }

        _framePayloadRead = _framePayloadLength;
        _inPayload = false;
        _inMessage = false;
        protocolEvent = new WebSocketEvent(WebSocketEventType.Message, _messageType, message, true, default, null);
        return true;
    }

    /// <summary>RFC 7692 §7.2.2: inflate the payload (and, at the end, the 00 00 FF FF tail) into the assembly buffer; limits apply to the inflated size.</summary>
    private bool OnCompressedPayload(ReadOnlySpan<byte> segment, bool frameDone, bool endOfMessage, out WebSocketEvent protocolEvent)
    {
        ZlibInflater inflater = _codec!.BeginInflate();
        _messageCompressedBytes += segment.Length;

        // A compressed message with no payload bytes at all is an empty message: inflating the bare tail
        // would leave the inflater inside a stored block and corrupt the next message.
        if (!InflateInto(inflater, segment, out protocolEvent)
            || (endOfMessage && _messageCompressedBytes > 0 && !InflateInto(inflater, PerMessageDeflateCodec.Tail, out protocolEvent)))
        {
            return true;
        }

        _framePayloadRead += segment.Length;
        if (frameDone)
        {
            _inPayload = false;
        }

        if (_messageType == WebSocketMessageType.Text && endOfMessage && !_utf8.IsComplete)
        {
            protocolEvent = Fail(WebSocketCloseCode.InvalidPayloadData, "text message is not valid UTF-8");
            return true;
        }

        if (endOfMessage)
        {
            _inMessage = false;
            _codec.EndInflate();
        }

        if (_options.DeliverFragments)
        {
            if (_assemblyLength == 0 && !endOfMessage)
            {
                return false;
            }

            protocolEvent = new WebSocketEvent(WebSocketEventType.Fragment, _messageType, _assembly.AsMemory(0, _assemblyLength), endOfMessage, default, null);
            _releaseAssembly = true;
            return true;
        }

        if (!endOfMessage)
        {
            return false;
        }

        protocolEvent = new WebSocketEvent(WebSocketEventType.Message, _messageType, _assembly.AsMemory(0, _assemblyLength), true, default, null);
        _releaseAssembly = true;
        return true;
    }

    /// <summary>Inflates all of <paramref name="input"/>; stops with 1009 past the limits (compression bombs) and 1007 on corrupt data.</summary>
    private bool InflateInto(ZlibInflater inflater, ReadOnlySpan<byte> input, out WebSocketEvent failure)
    {
        failure = default;
        long maxMessage = Math.Min(_options.MaxMessageSize, MaxArrayLength - 1);
        Span<byte> probe = stackalloc byte[1];
        while (true)
        {
            // Inflate up to the limit into the assembly buffer; at the limit, one more byte into a probe
            // tells an overrun (a compression bomb) without buffering anything past the limit.
            long remaining = Math.Min(maxMessage - _messageInflated, _options.MaxFrameSize - _frameInflated);
            scoped Span<byte> free;
            if (remaining > 0)
            {
                int want = (int)Math.Min(Math.Max(4096L, input.Length * 8L), Math.Min(remaining, 1 << 20));
                EnsureAssembly(_assemblyLength + want);
                free = _assembly.AsSpan(_assemblyLength, want);
            }
            else
            {
                free = probe;
            }

            // The order of the checks below makes the outcome independent of how the input was chunked:
            // a byte past the limit is 1009 even if corrupt data follows in the same call; invalid UTF-8
            // within the limit is 1007 as soon as it is inflated (fail-fast); then corrupt data is 1007.
            bool valid = inflater.Inflate(input, free, out int consumed, out int written);
            if (remaining <= 0 && written > 0)
            {
                _codec!.AbandonInflate();
                failure = Fail(WebSocketCloseCode.MessageTooBig, "decompressed message larger than the configured limit");
                return false;
            }

            if (written > 0 && _messageType == WebSocketMessageType.Text && !_utf8.Validate(free[..written]))
            {
                _codec!.AbandonInflate();
                failure = Fail(WebSocketCloseCode.InvalidPayloadData, "text message is not valid UTF-8");
                return false;
            }

            if (!valid)
            {
                _codec!.AbandonInflate();
                failure = Fail(WebSocketCloseCode.InvalidPayloadData, "compressed data is not valid DEFLATE");
                return false;
            }

            if (remaining > 0)
            {
                _assemblyLength += written;
            }

            _messageInflated += written;
            _frameInflated += written;
            if (_messageInflated > maxMessage || _frameInflated > _options.MaxFrameSize)
            {
                _codec!.AbandonInflate();
                failure = Fail(WebSocketCloseCode.MessageTooBig, "decompressed message larger than the configured limit");
                return false;
            }

            input = input[consumed..];
            if (input.IsEmpty && written < free.Length)
            {
                return true;
            }

            if (consumed == 0 && written == 0)
            {
                if (inflater.StreamEnded)
                {
                    return true;   // bytes after a final block (BFINAL) carry nothing: ignore them
                }

                _codec!.AbandonInflate();
                failure = Fail(WebSocketCloseCode.InvalidPayloadData, "compressed data is not valid DEFLATE");
                return false;
            }
        }
    }

    private void EnsureAssembly(int needed)
    {
        if (_assembly is not null && _assembly.Length >= needed)
        {
            return;
        }

        long grown = Math.Max(needed, Math.Min((long)(_assembly?.Length ?? 0) * 2, Math.Min(_options.MaxMessageSize, MaxArrayLength)));
        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Max(grown, 256));
        if (_assembly is not null)
        {
            _assembly.AsSpan(0, _assemblyLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_assembly);
        }

        _assembly = bigger;
    }

    private void AppendAssembly(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        EnsureAssembly(_assemblyLength + data.Length);
        data.CopyTo(_assembly.AsSpan(_assemblyLength));
        _assemblyLength += data.Length;
    }

    private void ReleaseAssembly()
    {
        _releaseAssembly = false;
        _assemblyLength = 0;
        if (_assembly is not null)
        {
            ArrayPool<byte>.Shared.Return(_assembly);
            _assembly = null;
        }
    }

    /// <summary>Fails the connection (RFC 6455 §7.1.7): queue a close with the code, stop reading.</summary>
    private WebSocketEvent Fail(WebSocketCloseCode code, string reason)
    {
        lock (_sync)
        {
            _receiveDone = true;
            _failed = true;
            if (!_closeSent && !_owedHasClose)
            {
                AppendOwedClose(code, default);
            }
        }

        _inPayload = false;
        _headerLength = 0;
        return new WebSocketEvent(WebSocketEventType.Failed, default, default, true, code, reason);
    }

    private void OwePong(ReadOnlySpan<byte> payload)
    {
        lock (_sync)
        {
            if (_closeSent || _owedHasClose || _owedLength + WebSocketFrameEncoder.MaxHeaderLength + payload.Length > _options.MaxPendingControlBytes)
            {
                return;
            }

            AppendOwedFrame(WebSocketOpcode.Pong, payload);
        }
    }

    private void AppendOwedClose(WebSocketCloseCode? code, ReadOnlySpan<byte> reason)
    {
        Span<byte> payload = stackalloc byte[WebSocketFrameEncoder.MaxControlPayloadLength];
        int length = 0;
        if (code is { } c)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)c);
            reason.CopyTo(payload[2..]);
            length = 2 + reason.Length;
        }

        AppendOwedFrame(WebSocketOpcode.Close, payload[..length]);
        _owedHasClose = true;
    }

    /// <summary>Encodes a control frame into the owed buffer (caller holds _sync).</summary>
    private void AppendOwedFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        int size = WebSocketFrameEncoder.MaxHeaderLength + payload.Length;
        if (_owed.Length - _owedLength < size)
        {
            Array.Resize(ref _owed, Math.Max(_owed.Length * 2, Math.Max(_owedLength + size, 256)));
        }

        Span<byte> key = stackalloc byte[4];
        if (_role == WebSocketRole.Client)
        {
            RandomNumberGenerator.Fill(key);
        }

        _owedLength += WebSocketFrameEncoder.WriteFrame(_owed.AsSpan(_owedLength), opcode, true, false, payload, _role == WebSocketRole.Client ? key : default);
    }

    // =====================================================================================
    // Send
    // =====================================================================================

    /// <summary>
    /// Writes the control frames the core owes the peer (pongs, close echo, failure close), in the order
    /// they became owed, and forgets them. Writing a close here marks the close as sent.
    /// </summary>
    /// <param name="output">Where the encoded frames go.</param>
    /// <returns>The number of bytes written (0 when nothing was owed).</returns>
    public int WritePendingOutput(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_owedLength == 0)
        {
            return 0;   // the common case: nothing owed, no lock taken (_owedLength is volatile)
        }

        lock (_sync)
        {
            int length = _owedLength;
            if (length == 0)
            {
                return 0;
            }

            _owed.AsSpan(0, length).CopyTo(output.GetSpan(length));
            output.Advance(length);
            _owedLength = 0;
            if (_owedHasClose)
            {
                _owedHasClose = false;
                _closeSent = true;
            }

            return length;
        }
    }

    /// <summary>
    /// Encodes a data message, or one part of it, as one frame (or several, with
    /// <see cref="WebSocketProtocolOptions.MaxSendFrameSize"/>): RFC 6455 §5.4, §5.6.
    /// </summary>
    /// <param name="output">Where the encoded frame(s) go.</param>
    /// <param name="messageType">Text or binary; must match the message in progress when continuing one.</param>
    /// <param name="payload">The payload bytes (for text: UTF-8, not validated here).</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with later calls (fragmentation).</param>
    /// <param name="compress">With permessage-deflate in force: <see langword="true"/> or <see langword="false"/> to force the choice for
    /// this message (for example <see langword="false"/> for secrets or already-compressed data, RFC 7692 §6);
    /// <see langword="null"/> to compress when the message is at least the agreed threshold. Only the first part of a message decides.</param>
    /// <exception cref="InvalidOperationException">A close frame was already sent, or <paramref name="messageType"/> differs from the message in progress.</exception>
    public void WriteMessage(IBufferWriter<byte> output, WebSocketMessageType messageType, ReadOnlySpan<byte> payload, bool endOfMessage = true, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        WebSocketOpcode opcode = BeginSend(messageType);
        if (opcode != WebSocketOpcode.Continuation)
        {
            _sendCompressed = _codec is not null && (compress ?? payload.Length >= _codec.Threshold);
        }

        if (_sendCompressed)
        {
            _compressed ??= new PooledBufferWriter();
            _codec!.Compress(payload, _compressed, endOfMessage);

            WriteDataFrames(output, opcode, _compressed.WrittenSpan, endOfMessage, rsv1: opcode != WebSocketOpcode.Continuation);
            _compressed.Reset();
        }
        else
        {
            WriteDataFrames(output, opcode, payload, endOfMessage, rsv1: false);
        }

        _sendInMessage = !endOfMessage;
        _sendMessageType = messageType;
    }

    /// <summary>
    /// Decides whether this connection can send <paramref name="message"/> as the shared, already encoded
    /// frame (RFC 6455 §5.1: server frames are unmasked, so one set of bytes fits every server-role
    /// connection; RFC 7692: a compressed encoding is shareable only without context takeover on this
    /// side). When it returns <see langword="false"/>, encode the message for this connection with
    /// <see cref="WriteMessage"/> instead (client role, context takeover, or auto-fragmentation).
    /// </summary>
    /// <param name="message">The prepared message.</param>
    /// <param name="frame">The whole frame to write, when the method returns <see langword="true"/>; owned by the message.</param>
    /// <returns><see langword="true"/> when <paramref name="frame"/> may be written as is; the engine then counts the message as sent.</returns>
    /// <exception cref="InvalidOperationException">A close frame was already sent, or a fragmented message is in progress.</exception>
    public bool TryGetSharedFrame(WebSocketPreparedMessage message, out ReadOnlyMemory<byte> frame)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfCloseSent();
        if (_sendInMessage)
        {
            throw new InvalidOperationException($"A {_sendMessageType} message is in progress; finish it before sending another message.");
        }

        frame = default;
        int max = _options.MaxSendFrameSize;
        if (_role == WebSocketRole.Client || (max > 0 && message.Length > max))
        {
            return false;
        }

        if (_codec is null || !(message.Compress ?? message.Length >= _codec.Threshold))
        {
            frame = message.UncompressedFrame;
            return true;
        }

        (int level, int windowBits, int memoryLevel, bool noContextTakeover) = _codec.SendSettings;
        if (!noContextTakeover)
        {
            return false;
        }

        frame = message.GetCompressedFrame(level, windowBits, memoryLevel);
        return true;
    }

    private void WriteDataFrames(IBufferWriter<byte> output, WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool endOfMessage, bool rsv1)
    {
        int max = _options.MaxSendFrameSize;
        if (max > 0)
        {
            while (payload.Length > max)
            {
                WriteFrame(output, opcode, false, rsv1, payload[..max]);
                payload = payload[max..];
                opcode = WebSocketOpcode.Continuation;
                rsv1 = false;
            }
        }

        WriteFrame(output, opcode, endOfMessage, rsv1, payload);
    }

    /// <summary>Encodes a text message (or part of one) from UTF-16 text, encoding to UTF-8 directly into <paramref name="output"/>.</summary>
    /// <param name="output">Where the encoded frame(s) go.</param>
    /// <param name="text">The text; lone surrogates are replaced with U+FFFD.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with later calls.</param>
    /// <param name="compress">With permessage-deflate in force: force (<see langword="true"/>) or skip (<see langword="false"/>) compression
    /// of this message; <see langword="null"/> follows the threshold. See <see cref="WriteMessage"/>.</param>
    /// <exception cref="InvalidOperationException">A close frame was already sent, or a binary message is in progress.</exception>
    public void WriteText(IBufferWriter<byte> output, ReadOnlySpan<char> text, bool endOfMessage = true, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        WebSocketOpcode opcode = BeginSend(WebSocketMessageType.Text);

        // A message written in parts keeps one encoder, so a surrogate pair split between parts stays one character.
        bool stateful = _sendInMessage || !endOfMessage;
        Encoder? encoder = stateful ? _textEncoder ??= Encoding.UTF8.GetEncoder() : null;
        int byteCount = encoder?.GetByteCount(text, endOfMessage) ?? Encoding.UTF8.GetByteCount(text);
        int max = _options.MaxSendFrameSize;
        bool compressing = _sendInMessage ? _sendCompressed : _codec is not null && (compress ?? byteCount >= _codec.Threshold);
        if ((max > 0 && byteCount > max) || compressing)
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(byteCount, 1));
            try
            {
                int written = encoder?.GetBytes(text, rented, endOfMessage) ?? Encoding.UTF8.GetBytes(text, rented);
                WriteMessage(output, WebSocketMessageType.Text, rented.AsSpan(0, written), endOfMessage, compressing);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            return;
        }

        _sendCompressed = false;
        bool masked = _role == WebSocketRole.Client;
        int headerLength = WebSocketFrameEncoder.GetHeaderLength(byteCount, masked);
        Span<byte> destination = output.GetSpan(headerLength + byteCount);
        Span<byte> key = stackalloc byte[4];
        if (masked)
        {
            NextMaskingKey(key);
        }

        WebSocketFrameEncoder.WriteHeader(destination, opcode, endOfMessage, false, byteCount, masked ? key : default);
        Span<byte> payload = destination.Slice(headerLength, byteCount);
        if (encoder is null)
        {
            Encoding.UTF8.GetBytes(text, payload);
        }
        else
        {
            encoder.GetBytes(text, payload, endOfMessage);
        }

        if (masked)
        {
            WebSocketMasking.Apply(payload, key);
        }

        output.Advance(headerLength + byteCount);
        _sendInMessage = !endOfMessage;
        _sendMessageType = WebSocketMessageType.Text;
    }

    /// <summary>Encodes a ping (RFC 6455 §5.5.2).</summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="payload">Application data, 0-125 bytes; the peer's pong echoes it.</param>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="InvalidOperationException">A close frame was already sent.</exception>
    public void WritePing(IBufferWriter<byte> output, ReadOnlySpan<byte> payload) => WriteControl(output, WebSocketOpcode.Ping, payload);

    /// <summary>Encodes an unsolicited pong, a unidirectional heartbeat (RFC 6455 §5.5.3).</summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="payload">Application data, 0-125 bytes.</param>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="InvalidOperationException">A close frame was already sent.</exception>
    public void WritePong(IBufferWriter<byte> output, ReadOnlySpan<byte> payload) => WriteControl(output, WebSocketOpcode.Pong, payload);

    /// <summary>
    /// Starts (or answers) the close handshake (RFC 6455 §5.5.1, §7.1.2). Owed control frames (pongs) are
    /// written before the close, since nothing may follow it; when the peer's close already arrived and
    /// our echo is still owed, only the owed frames are written, so exactly one close is sent.
    /// </summary>
    /// <param name="output">Where the frame goes.</param>
    /// <param name="code">The close code, or <see langword="null"/> for an empty close frame.</param>
    /// <param name="reason">A reason of at most 123 UTF-8 bytes; ignored when <paramref name="code"/> is null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent (1004-1006, 1015, outside 1000-4999...).</exception>
    /// <exception cref="ArgumentException">The reason is over 123 UTF-8 bytes.</exception>
    /// <exception cref="InvalidOperationException">A close frame was already sent.</exception>
    public void WriteClose(IBufferWriter<byte> output, WebSocketCloseCode? code, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> payload = stackalloc byte[WebSocketFrameEncoder.MaxControlPayloadLength];
        int length = 0;
        if (code is { } c)
        {
            if (!WebSocketCloseCodes.IsValidOnWire((int)c))
            {
                throw new ArgumentOutOfRangeException(nameof(code), (int)c, "This close code may not be sent (RFC 6455 §7.4).");
            }

            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)c);
            length = 2;
            if (!string.IsNullOrEmpty(reason))
            {
                if (Encoding.UTF8.GetByteCount(reason) > WebSocketFrameEncoder.MaxControlPayloadLength - 2)
                {
                    throw new ArgumentException("A close reason is at most 123 UTF-8 bytes.", nameof(reason));
                }

                length += Encoding.UTF8.GetBytes(reason, payload[2..]);
            }
        }

        lock (_sync)
        {
            if (_closeSent)
            {
                throw new InvalidOperationException("A close frame was already sent.");
            }

            // Owed frames (pongs, or the echo of the peer's close) go first: nothing may follow our close.
            WritePendingOutput(output);
            if (_closeSent)
            {
                return;
            }

            WriteFrame(output, WebSocketOpcode.Close, true, false, payload[..length]);
            _closeSent = true;
        }
    }

    private void WriteControl(IBufferWriter<byte> output, WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.Length > WebSocketFrameEncoder.MaxControlPayloadLength)
        {
            throw new ArgumentException("A control frame payload is at most 125 bytes.", nameof(payload));
        }

        ThrowIfCloseSent();
        WriteFrame(output, opcode, true, false, payload);
    }

    private WebSocketOpcode BeginSend(WebSocketMessageType messageType)
    {
        ThrowIfCloseSent();
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType));
        }

        if (_sendInMessage)
        {
            if (messageType != _sendMessageType)
            {
                throw new InvalidOperationException($"A {_sendMessageType} message is in progress; finish it before sending {messageType}.");
            }

            return WebSocketOpcode.Continuation;
        }

        return (WebSocketOpcode)messageType;
    }

    /// <summary>The one place where the engine encodes a frame: picks the masking key for the role and writes header + payload.</summary>
    private void WriteFrame(IBufferWriter<byte> output, WebSocketOpcode opcode, bool fin, bool rsv1, ReadOnlySpan<byte> payload)
    {
        Span<byte> key = stackalloc byte[4];
        bool masked = _role == WebSocketRole.Client;
        if (masked)
        {
            NextMaskingKey(key);
        }

        Span<byte> destination = output.GetSpan(WebSocketFrameEncoder.GetHeaderLength(payload.Length, masked) + payload.Length);
        output.Advance(WebSocketFrameEncoder.WriteFrame(destination, opcode, fin, rsv1, payload, masked ? key : default));
    }

    /// <summary>Next fresh masking key from a buffered cryptographic RNG (RFC 6455 §5.3, §10.3). Send side only.</summary>
    private void NextMaskingKey(Span<byte> key)
    {
        if (_maskPoolIndex + 4 > _maskPool.Length)
        {
            RandomNumberGenerator.Fill(_maskPool);
            _maskPoolIndex = 0;
        }

        _maskPool.AsSpan(_maskPoolIndex, 4).CopyTo(key);
        _maskPoolIndex += 4;
    }

    private void ThrowIfCloseSent()
    {
        if (_closeSent)
        {
            throw new InvalidOperationException("A close frame was already sent; no more frames may be sent (RFC 6455 §5.5.1).");
        }
    }

    /// <summary>Returns the reassembly buffer to the pool. Later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            ReleaseAssembly();
            _codec?.Dispose();
            _compressed?.Reset();
        }
    }
}
