using System.Buffers.Binary;

namespace Ws4Net.Protocol.Framing;

/// <summary>
/// Decodes frame headers incrementally (RFC 6455 §5.2) and unmasks payloads (§5.3): the first layer of
/// the receive side, below <see cref="Messages.WebSocketMessageAssembler"/>. It enforces the rules a
/// single frame can break on its own: RSV bits without an extension (§5.2, RFC 7692 §6.1), reserved
/// opcodes, fragmented or oversized control frames (§5.5), masking by role (§5.1), a 64-bit length with
/// the most significant bit set, and the configured frame size limit. Whether a frame fits the message
/// sequence (a continuation without a message, a new message inside one) is the assembler's rule but is
/// checked here, from the flag the caller passes, so that the violation is found at the same byte
/// whatever the chunking.
/// </summary>
/// <remarks>Not thread-safe: used by the one receive side of one connection.</remarks>
internal sealed class WebSocketFrameDecoder
{
    private readonly byte[] _header = new byte[WebSocketFrameEncoder.MaxHeaderLength];
    private readonly byte[] _mask = new byte[4];
    private readonly WebSocketRole _role;
    private readonly bool _rsv1Negotiated;
    private readonly long _maxFrameSize;
    private int _headerLength;

    /// <summary>Creates a decoder.</summary>
    /// <param name="role">This endpoint's role: a server requires masked frames, a client unmasked ones.</param>
    /// <param name="rsv1Negotiated">Whether an extension that uses RSV1 on data frames was negotiated.</param>
    /// <param name="maxFrameSize">The largest data frame payload accepted, in bytes (1009 above it).</param>
    public WebSocketFrameDecoder(WebSocketRole role, bool rsv1Negotiated, long maxFrameSize)
    {
        _role = role;
        _rsv1Negotiated = rsv1Negotiated;
        _maxFrameSize = maxFrameSize;
    }

    /// <summary>Gets the opcode of the current frame.</summary>
    public WebSocketOpcode Opcode { get; private set; }

    /// <summary>Gets whether the current frame has FIN set.</summary>
    public bool Fin { get; private set; }

    /// <summary>Gets whether the current frame has RSV1 set.</summary>
    public bool Rsv1 { get; private set; }

    /// <summary>Gets whether the current frame is masked.</summary>
    public bool Masked { get; private set; }

    /// <summary>Gets the payload length of the current frame, in bytes.</summary>
    public long PayloadLength { get; private set; }

    /// <summary>Gets or sets how many payload bytes of the current frame were consumed.</summary>
    public long PayloadRead { get; set; }

    /// <summary>Gets or sets whether a header was decoded and its payload is being read.</summary>
    public bool InPayload { get; set; }

    /// <summary>Gets whether the current frame is a control frame (close, ping, pong).</summary>
    public bool IsControl => Opcode >= WebSocketOpcode.Close;

    /// <summary>Gets the payload bytes of the current frame not yet consumed.</summary>
    public long Remaining => PayloadLength - PayloadRead;

    /// <summary>Accumulates and validates a frame header from <paramref name="input"/> starting at <paramref name="pos"/>.</summary>
    /// <param name="input">Received bytes.</param>
    /// <param name="pos">Where to start; advanced past the bytes consumed.</param>
    /// <param name="inMessage">Whether a fragmented data message is in progress (for the sequence rules of §5.4).</param>
    /// <param name="code">The close code of a violation.</param>
    /// <param name="reason">The violated rule, or <see langword="null"/> when the header is valid.</param>
    /// <returns><see langword="true"/> when the header is complete or violates a rule (see <paramref name="reason"/>);
    /// <see langword="false"/> when the input ran out first.</returns>
    public bool ReadHeader(ReadOnlySpan<byte> input, ref int pos, bool inMessage, out WebSocketCloseCode code, out string? reason)
    {
        code = default;
        reason = null;
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
                    reason = ValidateFirstBytes(inMessage, out code);
                    if (reason is not null)
                    {
                        return true;
                    }

                    continue;
                }
            }

            reason = CompleteHeader(out code);
            return true;
        }
    }

    /// <summary>Unmasks payload bytes of the current frame in place (RFC 6455 §5.3); a no-op for unmasked frames.</summary>
    /// <param name="segment">The next payload bytes of the frame, in order.</param>
    public void Unmask(Span<byte> segment)
    {
        if (Masked && !segment.IsEmpty)
        {
            WebSocketMasking.Apply(segment, _mask, PayloadRead);
        }
    }

    /// <summary>Forgets a partial header and the current frame (after a failure).</summary>
    public void Reset()
    {
        InPayload = false;
        _headerLength = 0;
    }

    private static int HeaderLengthFromSecondByte(byte b1)
    {
        int length = (b1 & 0x7F) switch { 126 => 4, 127 => 10, _ => 2 };
        return (b1 & 0x80) != 0 ? length + 4 : length;
    }

    private string? ValidateFirstBytes(bool inMessage, out WebSocketCloseCode code)
    {
        code = WebSocketCloseCode.ProtocolError;
        byte b0 = _header[0];
        byte b1 = _header[1];
        var opcode = (WebSocketOpcode)(b0 & 0x0F);
        bool fin = (b0 & 0x80) != 0;
        bool masked = (b1 & 0x80) != 0;

        if ((b0 & 0x30) != 0)
        {
            return "RSV2 or RSV3 set without a negotiated extension";
        }

        if ((b0 & 0x40) != 0 && (!_rsv1Negotiated || opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary)))
        {
            // RFC 7692 §6.1: RSV1 marks a compressed message, on its first frame only; never on control frames.
            return _rsv1Negotiated ? "RSV1 set on a continuation or control frame" : "RSV1 set without a negotiated extension";
        }

        switch (opcode)
        {
            case WebSocketOpcode.Continuation:
                if (!inMessage)
                {
                    return "continuation frame without a message to continue";
                }

                break;
            case WebSocketOpcode.Text:
            case WebSocketOpcode.Binary:
                if (inMessage)
                {
                    return "new data frame inside a fragmented message";
                }

                break;
            case WebSocketOpcode.Close:
            case WebSocketOpcode.Ping:
            case WebSocketOpcode.Pong:
                if (!fin)
                {
                    return "fragmented control frame";
                }

                if ((b1 & 0x7F) > WebSocketFrameEncoder.MaxControlPayloadLength)
                {
                    return "control frame payload over 125 bytes";
                }

                break;
            default:
                return "reserved opcode";
        }

        if (masked != (_role == WebSocketRole.Server))
        {
            return masked ? "masked frame from a server" : "unmasked frame from a client";
        }

        return null;
    }

    private string? CompleteHeader(out WebSocketCloseCode code)
    {
        code = default;
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
                code = WebSocketCloseCode.ProtocolError;
                return "64-bit payload length with the most significant bit set";
            }

            length = (long)wide;
            pos = 10;
        }

        Opcode = (WebSocketOpcode)(b0 & 0x0F);
        Fin = (b0 & 0x80) != 0;
        Rsv1 = (b0 & 0x40) != 0;
        Masked = (b1 & 0x80) != 0;
        if (Masked)
        {
            _header.AsSpan(pos, 4).CopyTo(_mask);
        }

        PayloadLength = length;
        PayloadRead = 0;
        _headerLength = 0;
        InPayload = true;
        if (!IsControl && length > _maxFrameSize)
        {
            code = WebSocketCloseCode.MessageTooBig;
            return "frame larger than the configured limit";
        }

        return null;
    }
}
