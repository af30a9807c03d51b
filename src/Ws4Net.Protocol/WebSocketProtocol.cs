using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Extensions;
using Ws4Net.Protocol.Framing;
using Ws4Net.Protocol.Messages;

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
/// <para>Layers: <see cref="WebSocketFrameDecoder"/> decodes frame headers and unmasks;
/// <see cref="WebSocketMessageAssembler"/> turns data frames into messages (limits, UTF-8, the RSV1
/// <see cref="IWebSocketMessageTransform"/> such as permessage-deflate); <see cref="WebSocketFrameWriter"/>
/// encodes what is sent; this class owns the control frames owed to the peer and the close lifecycle
/// (<see cref="State"/>, <see cref="TransportAction"/>, <see cref="ReceiveEndOfStream"/>).</para>
/// <para>Thread-safety: one thread may receive (<see cref="TryReadEvent"/>) while another sends (the
/// Write* members); the state they share is synchronized internally. Two concurrent receivers, or two
/// concurrent senders, are not supported: a driver serializes each side.</para>
/// </remarks>
public sealed class WebSocketProtocol : IDisposable
{
    private readonly WebSocketRole _role;
    private readonly WebSocketProtocolOptions _options;
    private readonly object _sync = new();
    private readonly IWebSocketMessageTransform? _transform;
    private readonly WebSocketFrameDecoder _decoder;
    private readonly WebSocketMessageAssembler _assembler;
    private readonly WebSocketFrameWriter _writer;
    private bool _receiveDone;
    private bool _endOfStream;

    // ---- shared between the receive and the send side, guarded by _sync ----
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
        _transform = perMessageDeflate is null ? null : new PerMessageDeflateTransform(perMessageDeflate, role);
        _decoder = new WebSocketFrameDecoder(role, _transform is not null, _options.MaxFrameSize);
        _assembler = new WebSocketMessageAssembler(_options, _transform);
        _writer = new WebSocketFrameWriter(role, _options.MaxSendFrameSize, _transform);
    }

    /// <summary>Gets the role this endpoint plays.</summary>
    public WebSocketRole Role => _role;

    /// <summary>Gets the options in force.</summary>
    public WebSocketProtocolOptions Options => _options;

    /// <summary>Gets the permessage-deflate agreement in force (RFC 7692), or <see langword="null"/>.</summary>
    public PerMessageDeflateParameters? PerMessageDeflate { get; }

    /// <summary>Gets whether this connection holds a zlib state right now (dedicated contexts, or a pooled one mid-message).</summary>
    public bool HoldsCompressionState => _transform?.HoldsState ?? false;

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

    /// <summary>Gets whether the receive side is finished: the peer's close arrived, the connection was failed, or the transport ended. Later input is ignored.</summary>
    public bool IsReceiveCompleted => _receiveDone;

    /// <summary>
    /// Gets whether control frames the core owes the peer (pongs, the close echo, a failure close) wait
    /// to be written with <see cref="WritePendingOutput"/>. A driver checks it after each read.
    /// </summary>
    public bool HasPendingOutput => _owedLength > 0;

    /// <summary>
    /// Gets what the driver should do with the transport now (RFC 6455 §7.1.1, §7.1.5, §7.1.7): keep going;
    /// close it once pending output is written (the server after the close handshake, anyone after a failure);
    /// wait for the server to close it (the client after the close handshake); or abort (the transport
    /// ended without a close frame: 1006). Safe to read from any thread; a driver reads it after a Close or
    /// Failed event has been answered, and after <see cref="ReceiveEndOfStream"/>.
    /// </summary>
    public WebSocketTransportAction TransportAction
    {
        get
        {
            lock (_sync)
            {
                if (_endOfStream)
                {
                    return _closeReceived || _failed ? WebSocketTransportAction.CloseTransport : WebSocketTransportAction.Abort;
                }

                if (!_closeSent || _owedLength > 0)
                {
                    return WebSocketTransportAction.None;   // our close (or what precedes it) is still to be written
                }

                if (_failed)
                {
                    return WebSocketTransportAction.CloseTransport;
                }

                if (!_closeReceived)
                {
                    return WebSocketTransportAction.None;   // we wait for the peer's close
                }

                return _role == WebSocketRole.Server ? WebSocketTransportAction.CloseTransport : WebSocketTransportAction.WaitForEndOfStream;
            }
        }
    }

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
        _assembler.ReleaseIfDelivered();
        protocolEvent = default;
        if (_receiveDone)
        {
            consumed = input.Length;   // RFC 6455 §5.5.1: nothing after a close frame is processed
            return false;
        }

        int pos = 0;
        while (true)
        {
            if (!_decoder.InPayload)
            {
                if (!_decoder.ReadHeader(input.Span, ref pos, _assembler.InMessage, out WebSocketCloseCode code, out string? rule))
                {
                    consumed = pos;
                    return false;
                }

                if (rule is null && !_decoder.IsControl)
                {
                    rule = _assembler.BeginDataFrame(_decoder, out code);
                }

                if (rule is not null)
                {
                    protocolEvent = Fail(code, rule);
                    consumed = input.Length;
                    return true;
                }
            }

            int take = (int)Math.Min(_decoder.Remaining, input.Length - pos);
            if (take == 0 && _decoder.Remaining > 0)
            {
                consumed = pos;
                return false;
            }

            Memory<byte> segment = input.Slice(pos, take);
            _decoder.Unmask(segment.Span);
            pos += take;
            bool produced = _decoder.IsControl
                ? OnControlPayload(segment, out protocolEvent)
                : _assembler.OnDataPayload(_decoder, segment, out protocolEvent);

            if (produced)
            {
                if (protocolEvent.Type == WebSocketEventType.Failed)
                {
                    protocolEvent = Fail(protocolEvent.CloseCode, protocolEvent.Reason!);
                }

                consumed = protocolEvent.Type == WebSocketEventType.Failed || _receiveDone ? input.Length : pos;
                return true;
            }

            if (pos == input.Length && _decoder.InPayload)
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
    public void ReleaseBuffers() => _assembler.ReleaseIfDelivered();

    /// <summary>
    /// Tells the core that the transport ended (a read returned no bytes: TCP FIN, the end of an HTTP/2
    /// stream). Later input is ignored; <see cref="TransportAction"/> then says whether the end was clean.
    /// Receive side only; calling it twice has no further effect.
    /// </summary>
    /// <returns><see langword="true"/> when the peer's close frame had arrived (or this side failed the
    /// connection) before the end; <see langword="false"/> when the transport ended without a close frame,
    /// which RFC 6455 §7.1.5 and §7.4.1 report as 1006 (<see cref="WebSocketCloseCode.AbnormalClosure"/>).</returns>
    public bool ReceiveEndOfStream()
    {
        lock (_sync)
        {
            _endOfStream = true;
            _receiveDone = true;
            return _closeReceived || _failed;
        }
    }

    private bool OnControlPayload(Memory<byte> segment, out WebSocketEvent protocolEvent)
    {
        protocolEvent = default;
        if (!_assembler.TryCompleteControl(_decoder, segment, out ReadOnlyMemory<byte> payload))
        {
            return false;
        }

        switch (_decoder.Opcode)
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

    /// <summary>The peer's close frame (RFC 6455 §5.5.1, §7.1.5, §7.4): validate, record, owe the echo.</summary>
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
                AppendOwedClose(code == WebSocketCloseCode.NoStatusReceived ? null : code);
            }
        }

        _assembler.Release();
        return new WebSocketEvent(WebSocketEventType.Close, default, default, true, code, reason);
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
                AppendOwedClose(code);
            }
        }

        _decoder.Reset();
        return new WebSocketEvent(WebSocketEventType.Failed, default, default, true, code, reason);
    }

    private void OwePong(ReadOnlySpan<byte> payload)
    {
        lock (_sync)
        {
            // Owed pongs are capped (MaxPendingControlBytes): under a ping flood the pings past the cap go
            // unanswered instead of growing memory.
            if (_closeSent || _owedHasClose || _owedLength + WebSocketFrameEncoder.MaxHeaderLength + payload.Length > _options.MaxPendingControlBytes)
            {
                return;
            }

            AppendOwedFrame(WebSocketOpcode.Pong, payload);
        }
    }

    private void AppendOwedClose(WebSocketCloseCode? code)
    {
        Span<byte> payload = stackalloc byte[2];
        int length = 0;
        if (code is { } c)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)c);
            length = 2;
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
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not text or binary.</exception>
    /// <exception cref="InvalidOperationException">A close frame was already sent, or <paramref name="messageType"/> differs from the message in progress.</exception>
    public void WriteMessage(IBufferWriter<byte> output, WebSocketMessageKind messageType, ReadOnlySpan<byte> payload, bool endOfMessage = true, bool? compress = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ThrowIfCloseSent();
        _writer.WriteMessage(output, messageType, payload, endOfMessage, compress);
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
        return _writer.TryGetSharedFrame(message, out frame);
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
        ThrowIfCloseSent();
        _writer.WriteText(output, text, endOfMessage, compress);
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

            _writer.WriteFrame(output, WebSocketOpcode.Close, true, false, payload[..length]);
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
        _writer.WriteFrame(output, opcode, true, false, payload);
    }

    private void ThrowIfCloseSent()
    {
        if (_closeSent)
        {
            throw new InvalidOperationException("A close frame was already sent; no more frames may be sent (RFC 6455 §5.5.1).");
        }
    }

    /// <summary>Returns the reassembly buffer and the compression state to their pools. Later receive calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _assembler.Release();
            _transform?.Dispose();
            _writer.Dispose();
        }
    }
}
