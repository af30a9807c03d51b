using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>What the reference decoder expects for one input.</summary>
internal sealed class ModelResult
{
    public List<FuzzEvent> Events { get; } = [];

    public List<OwedFrame> Output { get; } = [];

    /// <summary>Whether a close frame or a failure ended the receive side.</summary>
    public bool ReceiveDone { get; set; }
}

/// <summary>
/// A deliberately simple, whole-buffer (non-incremental) decoder of a received byte stream that
/// states the receive policy of RFC 6455 §5-§7 as the engine implements it, written independently of
/// the engine. It is the oracle for mutated streams:
/// <list type="bullet">
/// <item>RSV bits set, a reserved opcode, a continuation outside a message, a new data frame inside
/// one, a fragmented control frame, a control frame whose 7-bit length field is over 125, wrong
/// masking for the role, a 64-bit length with the top bit set, a close frame with a 1-byte payload or
/// a code not valid on the wire: Failed 1002. The first two header bytes are judged as soon as they
/// are there, before the extended length arrives.</item>
/// <item>A data frame longer than MaxFrameSize, or a message whose announced total exceeds
/// MaxMessageSize (or, when reassembling, the largest array): Failed 1009, decided on the header.</item>
/// <item>Text that can no longer be valid UTF-8 (checked on the bytes received so far, even inside an
/// incomplete frame), text ending inside a code point, an invalid close reason: Failed 1007.</item>
/// <item>Non-minimal length encodings are accepted. Nothing after a close or a failure is looked at.</item>
/// <item>Owed output: a pong per ping (same payload), the echo of a close (its code, no reason; an
/// empty close for an empty one), or a close with the failure code.</item>
/// </list>
/// With DeliverFragments the events are in the coalesced form of <see cref="EngineRun"/>.
/// </summary>
internal static class ReferenceDecoder
{
    private const long MaxArrayLength = 0x7FFFFFC7;

    public static ModelResult Decode(ReadOnlySpan<byte> data, WebSocketRole role, FrameProfile profile)
    {
        var result = new ModelResult();
        bool fragments = profile.DeliverFragments;
        bool inMessage = false;
        var messageType = WebSocketMessageType.Binary;
        long messageLength = 0;
        var message = new ByteBuf();    // every byte of the current message
        var pending = new ByteBuf();    // bytes not yet delivered as a (coalesced) fragment
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
            int opcode = b0 & 0x0F;
            bool masked = (b1 & 0x80) != 0;
            int length7 = b1 & 0x7F;
            bool control = opcode >= 8;

            bool headerOk = (b0 & 0x70) == 0 && opcode switch
            {
                0 => inMessage,
                1 or 2 => !inMessage,
                8 or 9 or 10 => fin && length7 <= 125,
                _ => false,
            };
            if (!headerOk || masked != (role == WebSocketRole.Server))
            {
                return Fail(1002);
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
                return Fail(1002);
            }

            long length = (long)announced;
            if (!control)
            {
                if (length > profile.MaxFrameSize)
                {
                    return Fail(1009);
                }

                long total = (opcode == 0 ? messageLength : 0) + length;
                if (total > profile.MaxMessageSize || (!fragments && total > MaxArrayLength))
                {
                    return Fail(1009);
                }

                if (opcode != 0)
                {
                    inMessage = true;
                    messageType = (WebSocketMessageType)opcode;
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

            int messageStart = message.Length;
            message.Append(payload);
            if (messageType == WebSocketMessageType.Text)
            {
                int bad = Utf8Reference.FirstInvalidIndex(message.ReadOnlySpan);
                if (bad >= 0)
                {
                    pending.Append(payload.AsSpan(0, Math.Max(0, bad - messageStart)));
                    return Fail(1007);
                }

                if (complete && fin && !Utf8.IsValid(message.ReadOnlySpan))
                {
                    pending.Append(payload);
                    return Fail(1007);
                }
            }

            pending.Append(payload);
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
        return result;

        // In fragment mode, bytes delivered before a control frame or a failure form their own (coalesced) event.
        void FlushPending()
        {
            if (fragments && pending.Length > 0)
            {
                result.Events.Add(FuzzEvent.Fragment(messageType, pending.ToArray(), false));
                pending.Clear();
            }
        }

        ModelResult Fail(int code)
        {
            FlushPending();
            result.Events.Add(FuzzEvent.Failed(code));
            result.Output.Add(new OwedFrame(8, OutputFrames.ClosePayload(code)));
            result.ReceiveDone = true;
            return result;
        }

        ModelResult OnClose(byte[] payload)
        {
            if (payload.Length == 1)
            {
                return Fail(1002);
            }

            if (payload.Length == 0)
            {
                FlushPending();
                result.Events.Add(FuzzEvent.Close(1005, null));
                result.Output.Add(new OwedFrame(8, []));
                result.ReceiveDone = true;
                return result;
            }

            int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!IsSendableCloseCode(code))
            {
                return Fail(1002);
            }

            ReadOnlySpan<byte> reason = payload.AsSpan(2);
            if (!Utf8.IsValid(reason))
            {
                return Fail(1007);
            }

            FlushPending();
            result.Events.Add(FuzzEvent.Close(code, Encoding.UTF8.GetString(reason)));
            result.Output.Add(new OwedFrame(8, OutputFrames.ClosePayload(code)));
            result.ReceiveDone = true;
            return result;
        }
    }

    /// <summary>
    /// The owed output when the driver flushes only at the end: pongs are owed only while the owed bytes
    /// plus a maximal header (14) plus the payload stay within MaxPendingControlBytes (RFC 6455 §5.5.3
    /// allows answering only some pings); closes are always owed.
    /// </summary>
    public static List<OwedFrame> LazyOutput(ModelResult model, WebSocketRole role, FrameProfile profile)
    {
        var owed = new List<OwedFrame>();
        int owedBytes = 0;
        foreach (OwedFrame frame in model.Output)
        {
            int size = (role == WebSocketRole.Client ? 6 : 2) + frame.Payload.Length;
            if (frame.Opcode == 0xA && owedBytes + 14 + frame.Payload.Length > profile.Options.MaxPendingControlBytes)
            {
                continue;
            }

            owed.Add(frame);
            owedBytes += size;
        }

        return owed;
    }

    /// <summary>RFC 6455 §7.4.1/§7.4.2 and the IANA registry: the codes a close frame may carry.</summary>
    public static bool IsSendableCloseCode(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
