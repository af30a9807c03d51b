using System.Buffers;
using Ws4Net.Protocol.Extensions;
using Ws4Net.Protocol.Framing;
using Ws4Net.Protocol.Text;

namespace Ws4Net.Protocol.Messages;

/// <summary>
/// Turns the payloads of decoded data frames into messages or fragments (RFC 6455 §5.4, §5.6): the second
/// layer of the receive side, above <see cref="WebSocketFrameDecoder"/>. It enforces the message size limit
/// (1009), validates text as UTF-8 as it arrives (1007, §8.1), runs the payload of an RSV1 message through
/// the negotiated <see cref="IWebSocketMessageTransform"/>, and owns the pooled reassembly buffer. A
/// single-frame message whose payload is already in the caller's buffer is delivered without a copy.
/// Failures come back as <see cref="WebSocketEventType.Failed"/> events with the code and the rule;
/// <see cref="WebSocketProtocol"/> turns them into the close frame it owes.
/// </summary>
/// <remarks>Not thread-safe: used by the one receive side of one connection.</remarks>
internal sealed class WebSocketMessageAssembler
{
    private const int MaxArrayLength = 0x7FFFFFC7;

    private readonly WebSocketProtocolOptions _options;
    private readonly IWebSocketMessageTransform? _transform;
    private byte[]? _probe;   // one byte past a limit (compression bombs); created the first time a limit is reached
    private bool _messageTransformed;
    private long _messageDecoded;
    private long _frameDecoded;
    private WebSocketMessageKind _messageType;
    private long _messageLength;
    private Utf8Validator _utf8;
    private byte[]? _assembly;
    private int _assemblyLength;
    private bool _releaseAssembly;
    private byte[]? _control;   // only for a control frame split across reads

    /// <summary>Creates an assembler.</summary>
    /// <param name="options">The limits in force.</param>
    /// <param name="transform">The negotiated RSV1 extension, or <see langword="null"/>.</param>
    public WebSocketMessageAssembler(WebSocketProtocolOptions options, IWebSocketMessageTransform? transform)
    {
        _options = options;
        _transform = transform;
    }

    /// <summary>Gets whether a fragmented data message is in progress.</summary>
    public bool InMessage { get; private set; }

    /// <summary>
    /// Accounts a new data frame header: the message size limit, and the start of a new message.
    /// </summary>
    /// <param name="frame">The decoder, positioned on a data frame header.</param>
    /// <param name="code">The close code of a violation.</param>
    /// <returns>The violated rule, or <see langword="null"/>.</returns>
    public string? BeginDataFrame(WebSocketFrameDecoder frame, out WebSocketCloseCode code)
    {
        code = default;
        _frameDecoded = 0;
        long total = (frame.Opcode == WebSocketOpcode.Continuation ? _messageLength : 0) + frame.PayloadLength;
        if (total > _options.MaxMessageSize || (!_options.DeliverFragments && total > MaxArrayLength))
        {
            code = WebSocketCloseCode.MessageTooBig;
            return "message larger than the configured limit";
        }

        if (frame.Opcode != WebSocketOpcode.Continuation)
        {
            InMessage = true;
            _messageType = (WebSocketMessageKind)frame.Opcode;
            _messageTransformed = frame.Rsv1;
            _messageDecoded = 0;
            _utf8.Reset();
        }

        _messageLength = total;
        return null;
    }

    /// <summary>Collects the payload of a control frame; returns it once complete (at most 125 bytes).</summary>
    /// <param name="frame">The decoder, positioned in a control frame's payload.</param>
    /// <param name="segment">The next payload bytes (unmasked).</param>
    /// <param name="payload">The whole payload, when the method returns <see langword="true"/>; valid until the next call.</param>
    /// <returns><see langword="true"/> when the frame is complete.</returns>
    public bool TryCompleteControl(WebSocketFrameDecoder frame, Memory<byte> segment, out ReadOnlyMemory<byte> payload)
    {
        if (frame.PayloadRead == 0 && segment.Length == frame.PayloadLength)
        {
            payload = segment;
        }
        else
        {
            _control ??= new byte[WebSocketFrameEncoder.MaxControlPayloadLength];
            segment.Span.CopyTo(_control.AsSpan((int)frame.PayloadRead));
            if (frame.PayloadRead + segment.Length < frame.PayloadLength)
            {
                frame.PayloadRead += segment.Length;
                payload = default;
                return false;
            }

            payload = _control.AsMemory(0, (int)frame.PayloadLength);
        }

        frame.PayloadRead = frame.PayloadLength;
        frame.InPayload = false;
        return true;
    }

    /// <summary>Consumes the next payload bytes of a data frame.</summary>
    /// <param name="frame">The decoder, positioned in a data frame's payload.</param>
    /// <param name="segment">The next payload bytes (unmasked), in the caller's buffer.</param>
    /// <param name="protocolEvent">A Message, Fragment or Failed event when the method returns <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when an event was produced.</returns>
    public bool OnDataPayload(WebSocketFrameDecoder frame, Memory<byte> segment, out WebSocketEvent protocolEvent)
    {
        protocolEvent = default;
        bool frameDone = frame.PayloadRead + segment.Length == frame.PayloadLength;
        bool endOfMessage = frameDone && frame.Fin;
        if (_messageTransformed)
        {
            return OnTransformedPayload(frame, segment.Span, frameDone, endOfMessage, out protocolEvent);
        }

        if (_messageType == WebSocketMessageKind.Text)
        {
            if (!_utf8.Validate(segment.Span) || (endOfMessage && !_utf8.IsComplete))
            {
                protocolEvent = Failure(WebSocketCloseCode.InvalidPayloadData, "text message is not valid UTF-8");
                return true;
            }
        }

        if (_options.DeliverFragments)
        {
            frame.PayloadRead += segment.Length;
            if (frameDone)
            {
                frame.InPayload = false;
            }

            if (endOfMessage)
            {
                InMessage = false;
            }
            else if (segment.IsEmpty)
            {
                return false;
            }

            protocolEvent = new WebSocketEvent(WebSocketEventType.Fragment, _messageType, segment, endOfMessage, default, null);
            return true;
        }

        ReadOnlyMemory<byte> message;
        if (endOfMessage && _assemblyLength == 0 && frame.PayloadRead == 0)
        {
            message = segment;   // the whole message is in the caller's buffer: no copy
        }
        else
        {
            Append(segment.Span);
            frame.PayloadRead += segment.Length;
            if (frameDone)
            {
                frame.InPayload = false;
            }

            if (!endOfMessage)
            {
                return false;
            }

            message = _assembly.AsMemory(0, _assemblyLength);
            _releaseAssembly = true;
        }

        frame.PayloadRead = frame.PayloadLength;
        frame.InPayload = false;
        InMessage = false;
        protocolEvent = new WebSocketEvent(WebSocketEventType.Message, _messageType, message, true, default, null);
        return true;
    }

    /// <summary>
    /// Gives a transform room for decoded bytes: up to the limits, in the reassembly buffer; at a limit, a
    /// one-byte probe that tells an overrun (a compression bomb) without buffering anything past the limit.
    /// </summary>
    /// <param name="inputLength">How many encoded bytes are about to be decoded (sizes the room).</param>
    /// <param name="atLimit">Whether the returned span is the probe.</param>
    /// <returns>Where to decode to.</returns>
    public Span<byte> GetDecodeSpan(int inputLength, out bool atLimit)
    {
        long maxMessage = Math.Min(_options.MaxMessageSize, MaxArrayLength - 1);
        long remaining = Math.Min(maxMessage - _messageDecoded, _options.MaxFrameSize - _frameDecoded);
        atLimit = remaining <= 0;
        if (atLimit)
        {
            return _probe ??= new byte[1];
        }

        int want = (int)Math.Min(Math.Max(4096L, inputLength * 8L), Math.Min(remaining, 1 << 20));
        Ensure(_assemblyLength + want);
        return _assembly.AsSpan(_assemblyLength, want);
    }

    /// <summary>Accounts bytes a transform decoded into the span from <see cref="GetDecodeSpan"/>.</summary>
    /// <param name="written">The decoded bytes.</param>
    /// <param name="atLimit">The flag <see cref="GetDecodeSpan"/> returned.</param>
    /// <param name="code">The close code of a violation.</param>
    /// <returns>The violated rule (1009 past a limit, 1007 for invalid UTF-8), or <see langword="null"/>.</returns>
    public string? CommitDecoded(ReadOnlySpan<byte> written, bool atLimit, out WebSocketCloseCode code)
    {
        code = default;
        if (written.IsEmpty)
        {
            return null;
        }

        if (atLimit)
        {
            code = WebSocketCloseCode.MessageTooBig;
            return "decompressed message larger than the configured limit";
        }

        if (_messageType == WebSocketMessageKind.Text && !_utf8.Validate(written))
        {
            code = WebSocketCloseCode.InvalidPayloadData;
            return "text message is not valid UTF-8";
        }

        _assemblyLength += written.Length;
        _messageDecoded += written.Length;
        _frameDecoded += written.Length;
        return null;
    }

    /// <summary>
    /// Returns the reassembly buffer of the last delivered message to the pool when the caller is done
    /// with the event (before the next read, or before waiting for input).
    /// </summary>
    public void ReleaseIfDelivered()
    {
        if (_releaseAssembly)
        {
            Release();
        }
    }

    /// <summary>Returns the reassembly buffer to the pool now.</summary>
    public void Release()
    {
        _releaseAssembly = false;
        _assemblyLength = 0;
        if (_assembly is not null)
        {
            ArrayPool<byte>.Shared.Return(_assembly);
            _assembly = null;
        }
    }

    private bool OnTransformedPayload(WebSocketFrameDecoder frame, ReadOnlySpan<byte> segment, bool frameDone, bool endOfMessage, out WebSocketEvent protocolEvent)
    {
        string? failure = _transform!.Decode(segment, endOfMessage, this, out WebSocketCloseCode code);
        if (failure is not null)
        {
            protocolEvent = Failure(code, failure);
            return true;
        }

        frame.PayloadRead += segment.Length;
        if (frameDone)
        {
            frame.InPayload = false;
        }

        if (_messageType == WebSocketMessageKind.Text && endOfMessage && !_utf8.IsComplete)
        {
            protocolEvent = Failure(WebSocketCloseCode.InvalidPayloadData, "text message is not valid UTF-8");
            return true;
        }

        if (endOfMessage)
        {
            InMessage = false;
        }

        protocolEvent = default;
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

    private static WebSocketEvent Failure(WebSocketCloseCode code, string reason)
        => new(WebSocketEventType.Failed, default, default, true, code, reason);

    private void Ensure(int needed)
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

    private void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        Ensure(_assemblyLength + data.Length);
        data.CopyTo(_assembly.AsSpan(_assemblyLength));
        _assemblyLength += data.Length;
    }
}
