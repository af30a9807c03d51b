using System.Buffers.Binary;
using System.Text;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>A generated receive stream: its frames, and what a correct engine reports for it.</summary>
internal sealed class GeneratedStream
{
    /// <summary>The frames in order (the last segment may be junk after a close frame).</summary>
    public List<byte[]> Frames { get; } = [];

    /// <summary>The events and owed frames the generator intended (coalesced fragment form under DeliverFragments).</summary>
    public ModelResult Intended { get; } = new();

    public byte[] ToBytes()
    {
        var buffer = new ByteBuf(Frames.Sum(f => f.Length));
        foreach (byte[] frame in Frames)
        {
            buffer.Append(frame);
        }

        return buffer.ToArray();
    }
}

/// <summary>
/// Generates VALID frame streams as the peer of a given role sends them: text (valid UTF-8, code
/// points split anywhere by fragmentation) and binary messages, fragmented into 1-16 frames (zero-length
/// ones included) with pings and pongs interleaved between fragments, every length encoding (7-bit,
/// 16-bit, 64-bit, minimal or not; control frames always use the 7-bit form), masked with a random key
/// towards a server and unmasked towards a client, optionally ended by a close frame (empty, code only,
/// code and UTF-8 reason) possibly followed by junk the engine must ignore. Message and frame sizes
/// respect the profile's limits.
/// </summary>
internal static class FrameStreamGenerator
{
    /// <summary>Close codes valid on the wire (RFC 6455 §7.4 and the IANA registry) that generated close frames pick from.</summary>
    public static readonly int[] CloseCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];

    public static GeneratedStream Generate(FuzzRng rng, WebSocketRole receiver, FrameProfile profile)
    {
        var stream = new GeneratedStream();
        bool masked = receiver == WebSocketRole.Server;
        int items = rng.Next(100) switch
        {
            < 5 => 0,
            < 60 => rng.Next(1, 3),
            < 90 => rng.Next(3, 6),
            _ => rng.Next(6, 16),
        };

        for (int item = 0; item < items; item++)
        {
            int kind = rng.Next(100);
            if (kind < 70)
            {
                AddMessage(rng, stream, masked, profile);
            }
            else
            {
                AddControl(rng, stream, masked, kind < 85 ? 9 : 10);
            }
        }

        if (rng.Chance(25))
        {
            AddClose(rng, stream, masked);
            if (rng.Chance(40))
            {
                // Anything after a close frame is ignored (RFC 6455 §5.5.1): junk or more frames.
                stream.Frames.Add(rng.NextBool() ? rng.Bytes(rng.Next(1, 40)) : Frame(rng, 0x2, rng.Bytes(rng.Next(0, 20)), true, masked, -1));
            }
        }

        return stream;
    }

    /// <summary>
    /// Encodes one frame. <paramref name="lengthForm"/>: -1 random (mostly minimal), 0 minimal, 2 the
    /// 16-bit form, 8 the 64-bit form (forced to a form that can hold the length).
    /// </summary>
    public static byte[] Frame(FuzzRng rng, int opcode, ReadOnlySpan<byte> payload, bool fin, bool masked, int lengthForm, int rsv = 0, ulong? announced = null)
    {
        ulong length = announced ?? (ulong)payload.Length;
        if (lengthForm < 0)
        {
            int pick = rng.Next(100);
            lengthForm = pick < 84 ? 0 : pick < 92 ? 2 : 8;
        }

        if (lengthForm == 0)
        {
            lengthForm = length <= 125 ? 1 : length <= 0xFFFF ? 2 : 8;
        }
        else if (lengthForm == 2 && length > 0xFFFF)
        {
            lengthForm = 8;
        }

        int extended = lengthForm switch { 1 => 0, 2 => 2, _ => 8 };
        var frame = new byte[2 + extended + (masked ? 4 : 0) + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        switch (extended)
        {
            case 0:
                frame[1] = (byte)(maskBit | (byte)length);
                break;
            case 2:
                frame[1] = (byte)(maskBit | 126);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
                break;
            default:
                frame[1] = (byte)(maskBit | 127);
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), length);
                break;
        }

        int pos = 2 + extended;
        Span<byte> key = stackalloc byte[4];
        if (masked)
        {
            if (!rng.Chance(5))
            {
                rng.NextBytes(key);
            }

            key.CopyTo(frame.AsSpan(pos));
            pos += 4;
        }

        for (int i = 0; i < payload.Length; i++)
        {
            frame[pos + i] = (byte)(payload[i] ^ (masked ? key[i & 3] : 0));
        }

        return frame;
    }

    private static void AddMessage(FuzzRng rng, GeneratedStream stream, bool masked, FrameProfile profile)
    {
        bool text = rng.NextBool();
        int length = MessageLength(rng, profile.GeneratorMaxMessage);
        var payload = new ByteBuf(length);
        if (text)
        {
            Utf8Reference.AppendValidText(rng, payload, length);
        }
        else
        {
            rng.NextBytes(payload.AppendSpan(length));
        }

        byte[] message = payload.ToArray();
        List<int> sizes = SplitIntoFrames(rng, length, profile.GeneratorMaxFrame);
        var type = text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
        ModelResult intended = stream.Intended;
        int offset = 0;
        int undelivered = 0;   // fragment mode: bytes since the last flush
        for (int i = 0; i < sizes.Count; i++)
        {
            bool last = i == sizes.Count - 1;
            ReadOnlySpan<byte> part = message.AsSpan(offset, sizes[i]);
            stream.Frames.Add(Frame(rng, i == 0 ? (text ? 0x1 : 0x2) : 0x0, part, last, masked, -1));
            offset += sizes[i];
            undelivered += sizes[i];
            if (!last && rng.Chance(15))
            {
                // A control frame between two fragments (RFC 6455 §5.4) cuts the delivered fragments.
                if (profile.DeliverFragments && undelivered > 0)
                {
                    intended.Events.Add(FuzzEvent.Fragment(type, message.AsSpan(offset - undelivered, undelivered).ToArray(), false));
                    undelivered = 0;
                }

                AddControl(rng, stream, masked, rng.Chance(60) ? 9 : 10);
            }
        }

        intended.Events.Add(profile.DeliverFragments
            ? FuzzEvent.Fragment(type, message.AsSpan(length - undelivered).ToArray(), true)
            : FuzzEvent.Message(type, message));
    }

    private static int MessageLength(FuzzRng rng, int max)
    {
        int value = rng.Next(1000) switch
        {
            < 80 => 0,
            < 520 => rng.Next(1, 17),
            < 800 => rng.Next(17, 126),
            < 910 => rng.Next(126, 301),
            < 992 => rng.Next(301, 2049),
            < 997 => rng.Next(2049, 8193),
            _ => rng.Next(8193, Math.Max(8194, max + 1)),
        };
        return Math.Min(value, max);
    }

    /// <summary>
    /// Frame sizes summing to <paramref name="length"/>, each at most <paramref name="maxFrame"/>; zero-length frames allowed.
    /// With <paramref name="shortCuts"/>, one cut in five is within the first 3 bytes (tiny first frames).
    /// </summary>
    public static List<int> SplitIntoFrames(FuzzRng rng, int length, int maxFrame, bool shortCuts = false)
    {
        int frames = rng.Next(100) switch
        {
            < 55 => 1,
            < 80 => rng.Next(2, 4),
            < 95 => rng.Next(4, 9),
            _ => rng.Next(9, 17),
        };
        var cuts = new List<int>(frames + 1) { 0, length };
        for (int i = 1; i < frames; i++)
        {
            cuts.Add(!shortCuts || rng.Chance(80) ? rng.Next(length + 1) : Math.Min(length, rng.Next(0, 4)));
        }

        cuts.Sort();
        var sizes = new List<int>();
        for (int i = 1; i < cuts.Count; i++)
        {
            int size = cuts[i] - cuts[i - 1];
            while (size > maxFrame)
            {
                int piece = rng.Next(1, maxFrame + 1);
                sizes.Add(piece);
                size -= piece;
            }

            sizes.Add(size);
        }

        return sizes;
    }

    /// <summary>A ping or pong frame with a random payload of 0-125 bytes (<paramref name="payload"/>).</summary>
    public static byte[] ControlFrame(FuzzRng rng, int opcode, bool masked, out byte[] payload)
    {
        int length = rng.Next(100) switch
        {
            < 30 => 0,
            < 80 => rng.Next(1, 17),
            < 95 => rng.Next(17, 126),
            _ => 125,
        };
        payload = rng.Bytes(length);
        return Frame(rng, opcode, payload, true, masked, 0);
    }

    /// <summary>
    /// A close frame: empty (<paramref name="code"/> and <paramref name="reason"/> null), a code only
    /// (empty reason), or a code and a valid UTF-8 reason.
    /// </summary>
    public static byte[] CloseFrame(FuzzRng rng, bool masked, out int? code, out string? reason)
    {
        int pick = rng.Next(100);
        if (pick < 20)
        {
            code = null;
            reason = null;
            return Frame(rng, 0x8, [], true, masked, 0);
        }

        int value = rng.Chance(70) ? CloseCodes[rng.Next(CloseCodes.Length)] : rng.Next(3000, 5000);
        var payload = new ByteBuf(125);
        payload.Append(OutputFrames.ClosePayload(value));
        if (pick >= 50)
        {
            Utf8Reference.AppendValidText(rng, payload, rng.Next(0, 124));
        }

        byte[] bytes = payload.ToArray();
        code = value;
        reason = Encoding.UTF8.GetString(bytes.AsSpan(2));
        return Frame(rng, 0x8, bytes, true, masked, 0);
    }

    private static void AddControl(FuzzRng rng, GeneratedStream stream, bool masked, int opcode)
    {
        stream.Frames.Add(ControlFrame(rng, opcode, masked, out byte[] payload));
        if (opcode == 9)
        {
            stream.Intended.Events.Add(FuzzEvent.Ping(payload));
            stream.Intended.Output.Add(new OwedFrame(0xA, payload));
        }
        else
        {
            stream.Intended.Events.Add(FuzzEvent.Pong(payload));
        }

    }

    private static void AddClose(FuzzRng rng, GeneratedStream stream, bool masked)
    {
        stream.Frames.Add(CloseFrame(rng, masked, out int? code, out string? reason));
        if (code is not { } value)
        {
            stream.Intended.Events.Add(FuzzEvent.Close(1005, null));
            stream.Intended.Output.Add(new OwedFrame(8, []));
        }
        else
        {
            stream.Intended.Events.Add(FuzzEvent.Close(value, reason));
            stream.Intended.Output.Add(new OwedFrame(8, OutputFrames.ClosePayload(value)));
        }

        stream.Intended.ReceiveDone = true;
    }
}
