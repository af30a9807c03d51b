using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>Why the reference decoder failed an input (the last event's cause).</summary>
internal enum ReferenceFailure
{
    None,

    /// <summary>1002: RSV bits, opcodes, nesting, masking, control frames, close payloads.</summary>
    Protocol,

    /// <summary>1009: a frame or message over the limits, announced (compressed length) or inflated.</summary>
    Limit,

    /// <summary>1007: text that is not UTF-8 (inflated or not), or a close reason that is not.</summary>
    Utf8,

    /// <summary>1007: compressed data that is not valid DEFLATE.</summary>
    Deflate,

    /// <summary>1007: a distance beyond the agreed window (within the data produced so far).</summary>
    Window,
}

/// <summary>What <see cref="CompressedReferenceDecoder"/> expects for one input, and why it ended.</summary>
internal sealed class CompressedModel
{
    public ModelResult Result { get; } = new();

    public ReferenceFailure Failure { get; set; }

    /// <summary>
    /// Gets or sets whether the decoder met an LZ77 distance beyond the agreed window but within the
    /// inflated data (a peer that does not honour <c>*_max_window_bits</c>), whatever failure it then
    /// reports: zlib, and so the engine, accepts or rejects it depending on how the output is cut into
    /// inflate calls, and may go on inflating where the reference stopped.
    /// </summary>
    public bool WindowViolation { get; set; }

    /// <summary>
    /// Gets or sets whether the failure is invalid UTF-8 in compressed text, and the same frame (with the
    /// tail, when it ends the message) would also have inflated past a limit after the invalid byte.
    /// </summary>
    public bool Utf8FailureBeforeOverflow { get; set; }

    /// <summary>
    /// Gets or sets whether the failure is an inflated message or frame over its limit, and the DEFLATE
    /// data right after the first byte over the limit is invalid in a way zlib detects without room for
    /// more output (see <see cref="ReferenceInflater.ErrorBeforeOutputNeeded"/>).
    /// </summary>
    public bool DeflateErrorAfterOverflow { get; set; }

    /// <summary>Gets or sets whether the input ended inside a data message (no close, no failure).</summary>
    public bool EndsInsideMessage { get; set; }

    /// <summary>Gets or sets the number of compressed messages completed.</summary>
    public int CompressedMessages { get; set; }

    /// <summary>Gets or sets the bytes inflated in total.</summary>
    public long InflatedBytes { get; set; }
}

/// <summary>
/// The receive policy of <see cref="ReferenceDecoder"/> extended with permessage-deflate (RFC 7692),
/// written independently of the engine, with its own DEFLATE decoder (<see cref="ReferenceInflater"/>).
/// With no agreement (null) RSV1 is a protocol error like RSV2/RSV3, no message is compressed, and it is
/// the uncompressed oracle: <see cref="ReferenceDecoder.Decode"/> is this with null.
/// <list type="bullet">
/// <item>RSV1 is allowed on the first frame of a data message only (it marks the message compressed);
/// on a continuation or control frame, and RSV2/RSV3 anywhere: 1002.</item>
/// <item>The announced (compressed) lengths are checked against MaxFrameSize and MaxMessageSize on the
/// header, as for uncompressed frames: 1009.</item>
/// <item>A compressed message is inflated as its bytes arrive: the payload of each frame, and after the
/// last frame the tail 00 00 FF FF (not for a message without payload bytes, which is empty). The
/// inflated bytes count against MaxMessageSize (per message) and MaxFrameSize (per frame, the tail
/// counting for the last frame): 1009 as soon as one byte more is inflated. Data that is not DEFLATE:
/// 1007. Text is validated on the inflated bytes as they come: 1007. When several apply, the first in
/// the order of the inflated bytes counts.</item>
/// <item>The receive window is <c>max(9, agreed bits)</c>; with context takeover the DEFLATE stream goes
/// on from message to message, without it every compressed message starts a new one; after a final
/// block (BFINAL) the rest of the message is ignored and the next message starts a new stream.</item>
/// </list>
/// Events are in the coalesced form of <see cref="EngineRun"/>.
/// </summary>
internal static class CompressedReferenceDecoder
{
    private const long MaxArrayLength = 0x7FFFFFC7;
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];

    public static CompressedModel Decode(ReadOnlySpan<byte> data, WebSocketRole role, FrameProfile profile, PerMessageDeflateParameters? agreement)
    {
        var model = new CompressedModel();
        ModelResult result = model.Result;
        bool fragments = profile.DeliverFragments;
        bool receivePooled = agreement?.ReceiveNoContextTakeover(role) ?? false;
        int windowBits = agreement?.ReceiveWindowBits(role) ?? 15;
        long maxInflated = Math.Min(profile.MaxMessageSize, MaxArrayLength - 1);

        bool inMessage = false;
        var messageType = WebSocketMessageKind.Binary;
        bool compressed = false;
        long messageLength = 0;       // announced (compressed) bytes of the message
        long compressedBytes = 0;     // payload bytes of the compressed message received so far
        var message = new ByteBuf();  // the (inflated) bytes of the current message
        var pending = new ByteBuf();  // not yet delivered as a coalesced fragment
        ReferenceInflater? inflater = null;
        int pos = 0;

        while (true)
        {
            int remaining = data.Length - pos;
            if (remaining < 2)
            {
                break;
            }

            byte b0 = data[pos];
            byte b1 = data[pos + 1];
            bool fin = (b0 & 0x80) != 0;
            bool rsv1 = (b0 & 0x40) != 0;
            int opcode = b0 & 0x0F;
            bool masked = (b1 & 0x80) != 0;
            int length7 = b1 & 0x7F;
            bool control = opcode >= 8;

            bool headerOk = (b0 & 0x30) == 0
                && (!rsv1 || (agreement is not null && opcode is 1 or 2))
                && opcode switch
                {
                    0 => inMessage,
                    1 or 2 => !inMessage,
                    8 or 9 or 10 => fin && length7 <= 125,
                    _ => false,
                };
            if (!headerOk || masked != (role == WebSocketRole.Server))
            {
                return Fail(1002, ReferenceFailure.Protocol);
            }

            int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            int headerLength = 2 + extended + (masked ? 4 : 0);
            if (remaining < headerLength)
            {
                break;
            }

            ulong announced = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]),
                127 => BinaryPrimitives.ReadUInt64BigEndian(data[(pos + 2)..]),
                _ => (ulong)length7,
            };
            if (announced > long.MaxValue)
            {
                return Fail(1002, ReferenceFailure.Protocol);
            }

            long length = (long)announced;
            if (!control)
            {
                if (length > profile.MaxFrameSize)
                {
                    return Fail(1009, ReferenceFailure.Limit);
                }

                long total = (opcode == 0 ? messageLength : 0) + length;
                if (total > profile.MaxMessageSize || (!fragments && total > MaxArrayLength))
                {
                    return Fail(1009, ReferenceFailure.Limit);
                }

                if (opcode != 0)
                {
                    inMessage = true;
                    messageType = (WebSocketMessageKind)opcode;
                    compressed = rsv1;
                    compressedBytes = 0;
                    message.Clear();
                    pending.Clear();
                }

                messageLength = total;
            }

            int payloadStart = pos + headerLength;
            int available = (int)Math.Min(length, data.Length - payloadStart);
            bool complete = available == length;
            byte[] payload = data.Slice(payloadStart, available).ToArray();
            if (masked)
            {
                ReadOnlySpan<byte> key = data.Slice(pos + 2 + extended, 4);
                for (int i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            if (control)
            {
                if (!complete)
                {
                    break;
                }

                switch (opcode)
                {
                    case 9:
                        FlushPending();
                        result.Events.Add(FuzzEvent.Ping(payload));
                        result.Output.Add(new OwedFrame(0xA, payload));
                        break;
                    case 10:
                        FlushPending();
                        result.Events.Add(FuzzEvent.Pong(payload));
                        break;
                    default:
                        return OnClose(payload);
                }

                pos = payloadStart + available;
                continue;
            }

            bool endOfMessage = complete && fin;
            if (compressed)
            {
                inflater ??= new ReferenceInflater(windowBits);
                compressedBytes += available;
                long frameInflated = 0;
                inflater.Append(payload);
                if (Inflate(inflater, ref frameInflated, addTail: endOfMessage && compressedBytes > 0) is { } failed)
                {
                    return failed;
                }

                if (endOfMessage && messageType == WebSocketMessageKind.Text && !Utf8.IsValid(message.ReadOnlySpan))
                {
                    return Fail(1007, ReferenceFailure.Utf8);
                }

                if (endOfMessage)
                {
                    model.CompressedMessages++;
                    if (receivePooled || inflater.Ended)
                    {
                        inflater = null;   // a new stream for the next compressed message
                    }
                }
            }
            else
            {
                int messageStart = message.Length;
                message.Append(payload);
                if (messageType == WebSocketMessageKind.Text)
                {
                    int bad = Utf8Reference.FirstInvalidIndex(message.ReadOnlySpan);
                    if (bad >= 0)
                    {
                        pending.Append(payload.AsSpan(0, Math.Max(0, bad - messageStart)));
                        return Fail(1007, ReferenceFailure.Utf8);
                    }

                    if (endOfMessage && !Utf8.IsValid(message.ReadOnlySpan))
                    {
                        pending.Append(payload);
                        return Fail(1007, ReferenceFailure.Utf8);
                    }
                }

                pending.Append(payload);
            }

            if (!complete)
            {
                break;
            }

            if (fin)
            {
                result.Events.Add(fragments
                    ? FuzzEvent.Fragment(messageType, pending.ToArray(), true)
                    : FuzzEvent.Message(messageType, message.ToArray()));
                pending.Clear();
                message.Clear();
                inMessage = false;
            }

            pos = payloadStart + available;
        }

        FlushPending();
        model.EndsInsideMessage = inMessage;
        return model;

        // Inflates what the inflater holds (then the tail), with the limits; returns the failure, or null.
        CompressedModel? Inflate(ReferenceInflater source, ref long frameInflated, bool addTail)
        {
            while (true)
            {
                long budget = Math.Min(maxInflated - message.Length, profile.MaxFrameSize - frameInflated);
                int before = message.Length;
                InflateStop stop = source.Run(message, budget + 1, out int written);
                model.WindowViolation |= source.WindowViolation;   // whatever is reported, zlib might have accepted the distance
                frameInflated += written;
                model.InflatedBytes += written;
                int valid = (int)Math.Min(written, budget);
                if (messageType == WebSocketMessageKind.Text)
                {
                    int bad = Utf8Reference.FirstInvalidIndex(message.ReadOnlySpan[..(before + valid)]);
                    if (bad >= 0)
                    {
                        model.Utf8FailureBeforeOverflow = written > budget || OverflowFollows(source, budget - written, addTail);
                        model.WindowViolation |= source.WindowViolation;
                        pending.Append(message.ReadOnlySpan[before..Math.Max(before, bad)]);
                        return Fail(1007, ReferenceFailure.Utf8);
                    }
                }

                if (written > budget)
                {
                    model.DeflateErrorAfterOverflow = stop == InflateStop.Error || source.ErrorBeforeOutputNeeded();
                    pending.Append(message.ReadOnlySpan.Slice(before, valid));
                    return Fail(1009, ReferenceFailure.Limit);
                }

                pending.Append(message.ReadOnlySpan[before..]);
                if (stop == InflateStop.Error)
                {
                    return Fail(1007, source.WindowViolation ? ReferenceFailure.Window : ReferenceFailure.Deflate);
                }

                if (!addTail)
                {
                    return null;
                }

                addTail = false;
                if (!source.Ended)
                {
                    source.Append(Tail);
                }
            }
        }

        // After invalid UTF-8: would the rest of this frame (and the tail) inflate past the limit?
        static bool OverflowFollows(ReferenceInflater source, long budgetLeft, bool addTail)
        {
            var scratch = new ByteBuf();
            while (true)
            {
                InflateStop stop = source.Run(scratch, budgetLeft + 1, out int written);
                if (written > budgetLeft)
                {
                    return true;
                }

                budgetLeft -= written;
                if (stop != InflateStop.NeedInput || !addTail)
                {
                    return false;
                }

                addTail = false;
                source.Append(Tail);
            }
        }

        void FlushPending()
        {
            if (fragments && pending.Length > 0)
            {
                result.Events.Add(FuzzEvent.Fragment(messageType, pending.ToArray(), false));
                pending.Clear();
            }
        }

        CompressedModel Fail(int code, ReferenceFailure why)
        {
            FlushPending();
            result.Events.Add(FuzzEvent.Failed(code));
            result.Output.Add(new OwedFrame(8, OutputFrames.ClosePayload(code)));
            result.ReceiveDone = true;
            model.Failure = why;
            return model;
        }

        CompressedModel OnClose(byte[] payload)
        {
            model.EndsInsideMessage = inMessage;
            if (payload.Length == 1)
            {
                return Fail(1002, ReferenceFailure.Protocol);
            }

            if (payload.Length == 0)
            {
                FlushPending();
                result.Events.Add(FuzzEvent.Close(1005, null));
                result.Output.Add(new OwedFrame(8, []));
                result.ReceiveDone = true;
                return model;
            }

            int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!ReferenceDecoder.IsSendableCloseCode(code))
            {
                return Fail(1002, ReferenceFailure.Protocol);
            }

            ReadOnlySpan<byte> reason = payload.AsSpan(2);
            if (!Utf8.IsValid(reason))
            {
                return Fail(1007, ReferenceFailure.Utf8);
            }

            FlushPending();
            result.Events.Add(FuzzEvent.Close(code, Encoding.UTF8.GetString(reason)));
            result.Output.Add(new OwedFrame(8, OutputFrames.ClosePayload(code)));
            result.ReceiveDone = true;
            return model;
        }
    }
}
