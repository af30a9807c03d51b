using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>Random permessage-deflate agreements and their compact names in replay targets.</summary>
internal static partial class CompressedAgreements
{
    /// <summary>
    /// Context takeover on or off per direction, window bits per direction (unstated = 15, 9-15, and 8
    /// for the peer's direction when <paramref name="peerMayUseEight"/>: a window of 8 bits is inflated
    /// with 9). The receiving engine's own direction never has 8 bits (it could not compress with it).
    /// </summary>
    public static PerMessageDeflateParameters Random(FuzzRng rng, WebSocketRole receiver, bool peerMayUseEight)
    {
        int? receiverBits = Bits(rng, false);
        int? peerBits = Bits(rng, peerMayUseEight);
        bool serverNoTakeover = rng.NextBool();
        bool clientNoTakeover = rng.NextBool();
        return receiver == WebSocketRole.Server
            ? new PerMessageDeflateParameters(serverNoTakeover, clientNoTakeover, receiverBits, peerBits)
            : new PerMessageDeflateParameters(serverNoTakeover, clientNoTakeover, peerBits, receiverBits);
    }

    private static int? Bits(FuzzRng rng, bool eight) => rng.Next(100) switch
    {
        < 25 => null,
        < 35 => 15,
        < 55 => 9,
        < 60 when eight => 8,
        _ => rng.Next(9, 16),
    };

    /// <summary>The same agreement with this endpoint's own compression settings (level, memLevel, threshold).</summary>
    public static PerMessageDeflateParameters WithSettings(PerMessageDeflateParameters p, int level, int memoryLevel, int threshold) =>
        new(p.ServerNoContextTakeover, p.ClientNoContextTakeover, p.ServerMaxWindowBits, p.ClientMaxWindowBits, level, memoryLevel, threshold);

    /// <summary>"S12c-": S/s server no context takeover on/off, its window bits (or - when unstated), then the same for the client (C/c).</summary>
    public static string Name(PerMessageDeflateParameters p) => string.Create(
        CultureInfo.InvariantCulture,
        $"{(p.ServerNoContextTakeover ? 'S' : 's')}{p.ServerMaxWindowBits?.ToString(CultureInfo.InvariantCulture) ?? "-"}{(p.ClientNoContextTakeover ? 'C' : 'c')}{p.ClientMaxWindowBits?.ToString(CultureInfo.InvariantCulture) ?? "-"}");

    public static PerMessageDeflateParameters Parse(string name)
    {
        Match match = NamePattern().Match(name);
        if (!match.Success)
        {
            throw new ArgumentException($"Not an agreement name: '{name}'.", nameof(name));
        }

        static int? BitsOf(string text) => text == "-" ? null : int.Parse(text, CultureInfo.InvariantCulture);
        return new PerMessageDeflateParameters(match.Groups[1].Value == "S", match.Groups[3].Value == "C", BitsOf(match.Groups[2].Value), BitsOf(match.Groups[4].Value));
    }

    [GeneratedRegex("^([sS])(\\d+|-)([cC])(\\d+|-)$")]
    private static partial Regex NamePattern();
}

/// <summary>Receive limits of the compressed-stream fuzzers (names appear in replay targets).</summary>
internal static class CompressedProfiles
{
    /// <summary>64 KiB and 4 KiB limits for bombs and boundaries; 256 KiB for messages up to 200 KiB.</summary>
    public static IReadOnlyList<FrameProfile> All { get; } =
    [
        new("z64k", 64 * 1024, null, false),
        new("zfrag64k", 64 * 1024, null, true),
        new("z256k", 256 * 1024, null, false),
        new("zfrag256k", 256 * 1024, null, true),
        new("z4k-frame1k", 4096, 1024, false),
        new("zfrag4k-frame1k", 4096, 1024, true),
    ];

    public static FrameProfile Get(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"Unknown compressed profile '{name}'.", nameof(name));

    public static FrameProfile Pick(FuzzRng rng) => rng.Next(100) switch
    {
        < 25 => All[0],
        < 45 => All[1],
        < 60 => All[2],
        < 70 => All[3],
        < 85 => All[4],
        _ => All[5],
    };

    /// <summary>The largest message the generators write under <paramref name="profile"/> (200 KiB at most).</summary>
    public static int MaxMessage(FrameProfile profile) => (int)Math.Min(profile.MaxMessageSize, 200 * 1024);
}

/// <summary>One frame found by <see cref="WireFrames.Parse"/>, with its unmasked payload.</summary>
internal sealed class WireFrameInfo
{
    public int Offset { get; init; }

    public int Length { get; init; }

    public int HeaderLength { get; init; }

    public bool Fin { get; init; }

    public int Rsv { get; init; }

    public int Opcode { get; init; }

    public bool Masked { get; init; }

    public byte[] Payload { get; init; } = [];

    /// <summary>Gets the index of the data message this frame belongs to (-1 for control frames).</summary>
    public int Message { get; set; } = -1;

    /// <summary>Gets whether this data frame belongs to a message whose first frame has RSV1.</summary>
    public bool Compressed { get; set; }

    public bool IsControl => Opcode >= 8;
}

/// <summary>A frame parser written for the fuzzers (lenient: it splits what it can and stops at the first incomplete frame).</summary>
internal static class WireFrames
{
    /// <summary>Splits <paramref name="data"/> into frames; <paramref name="rest"/> is the offset where parsing stopped.</summary>
    public static List<WireFrameInfo> Parse(ReadOnlySpan<byte> data, out int rest)
    {
        var frames = new List<WireFrameInfo>();
        int pos = 0;
        int message = -1;
        bool compressed = false;
        bool inMessage = false;
        while (data.Length - pos >= 2)
        {
            byte b0 = data[pos];
            byte b1 = data[pos + 1];
            int length7 = b1 & 0x7F;
            int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            bool masked = (b1 & 0x80) != 0;
            int header = 2 + extended + (masked ? 4 : 0);
            if (data.Length - pos < header)
            {
                break;
            }

            ulong length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]),
                127 => BinaryPrimitives.ReadUInt64BigEndian(data[(pos + 2)..]),
                _ => (ulong)length7,
            };
            if (length > (ulong)(data.Length - pos - header))
            {
                break;
            }

            byte[] payload = data.Slice(pos + header, (int)length).ToArray();
            if (masked)
            {
                ReadOnlySpan<byte> key = data.Slice(pos + header - 4, 4);
                for (int i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            var frame = new WireFrameInfo
            {
                Offset = pos,
                Length = header + (int)length,
                HeaderLength = header,
                Fin = (b0 & 0x80) != 0,
                Rsv = (b0 >> 4) & 7,
                Opcode = b0 & 0x0F,
                Masked = masked,
                Payload = payload,
            };
            if (frame.Opcode is 1 or 2)
            {
                message++;
                compressed = (frame.Rsv & 4) != 0;
                inMessage = true;
            }

            if (frame.Opcode is 0 or 1 or 2 && inMessage)
            {
                frame.Message = message;
                frame.Compressed = compressed;
                inMessage = !frame.Fin;
            }

            frames.Add(frame);
            pos += frame.Length;
        }

        rest = pos;
        return frames;
    }

    /// <summary>Re-encodes a frame with a new payload and/or RSV bits, keeping FIN, opcode and masking (a fresh key when masked).</summary>
    public static byte[] Rebuild(FuzzRng rng, WireFrameInfo frame, ReadOnlySpan<byte> payload, int? rsv = null, int? opcode = null) =>
        FrameStreamGenerator.Frame(rng, opcode ?? frame.Opcode, payload, frame.Fin, frame.Masked, 0, rsv ?? frame.Rsv);
}

/// <summary>An event the generator intends, and the input offset at which the frame completing it ends.</summary>
internal readonly record struct IntendedEvent(FuzzEvent Event, int End);

/// <summary>A control frame the receiver will owe, and the offset at which the frame causing it ends.</summary>
internal readonly record struct IntendedOutput(OwedFrame Frame, int End);

/// <summary>A generated compressed stream: its bytes and what a correct engine reports for it (normalized form, see <see cref="CompressedEvents.Normalize"/>).</summary>
internal sealed class CompressedStream
{
    public required PerMessageDeflateParameters Agreement { get; init; }

    public required string Source { get; init; }

    public ByteBuf Bytes { get; } = new(256);

    public List<IntendedEvent> Events { get; } = [];

    public List<IntendedOutput> Output { get; } = [];

    public bool ReceiveDone { get; set; }

    public int CompressedMessages { get; set; }

    public string Describe() =>
        Source + ", " + CompressedAgreements.Name(Agreement) + ", " + CompressedMessages + " compressed message(s); intended: " + FuzzEvent.Describe(Events.Select(e => e.Event));
}

/// <summary>Event-list helpers for compressed streams.</summary>
internal static class CompressedEvents
{
    /// <summary>
    /// The normalized form used against the generator: with DeliverFragments, the coalesced fragments of
    /// one message are merged into one fragment and the pings/pongs received inside the message are moved
    /// before it (where the inflated bytes are cut by a control frame depends on the DEFLATE bit stream,
    /// which the generator does not model). Without DeliverFragments the list is unchanged.
    /// </summary>
    public static List<FuzzEvent> Normalize(IEnumerable<FuzzEvent> events, bool fragments)
    {
        var result = new List<FuzzEvent>();
        if (!fragments)
        {
            result.AddRange(events);
            return result;
        }

        var held = new List<FuzzEvent>();
        ByteBuf? open = null;
        WebSocketMessageKind type = default;
        foreach (FuzzEvent e in events)
        {
            if (e.Type == WebSocketEventType.Fragment)
            {
                open ??= new ByteBuf();
                open.Append(e.Payload);
                type = e.MessageType;
                if (e.EndOfMessage)
                {
                    Flush(true);
                }
            }
            else if (open is not null && e.Type is WebSocketEventType.Ping or WebSocketEventType.Pong)
            {
                held.Add(e);
            }
            else
            {
                if (open is not null)
                {
                    Flush(false);
                }

                result.Add(e);
            }
        }

        if (open is not null)
        {
            Flush(false);
        }

        return result;

        void Flush(bool end)
        {
            result.AddRange(held);
            held.Clear();
            result.Add(FuzzEvent.Fragment(type, open!.ToArray(), end));
            open = null;
        }
    }

    /// <summary>The event for a whole message under the profile (a message, or one fragment in normalized form).</summary>
    public static FuzzEvent MessageEvent(FrameProfile profile, WebSocketMessageKind type, byte[] payload) =>
        profile.DeliverFragments ? FuzzEvent.Fragment(type, payload, true) : FuzzEvent.Message(type, payload);
}

/// <summary>Message payloads: valid UTF-8 text or binary, random, compressible, runs, short patterns, window-long repeats, mixes.</summary>
internal static class CompressedContent
{
    private static readonly string[] Words =
    [
        "deflate ", "window ", "context ", "takeover ", "frame ", "message ", "Ws4Net ", "zlib ", "\n", "é ", "€ ", "😀 ", "{\"id\":", "\"value\":", "},", "0123456789",
    ];

    /// <summary>Exactly <paramref name="length"/> bytes; text is valid UTF-8. <paramref name="window"/> is the sender's window size, for the repeats at its edge.</summary>
    public static byte[] Make(FuzzRng rng, bool text, int length, int window)
    {
        var buffer = new ByteBuf(length + 8);
        int mode = rng.Next(100);
        if (mode < 20)
        {
            // Mixes: several pieces of different kinds.
            while (buffer.Length < length)
            {
                int piece = Math.Min(length - buffer.Length, rng.SkewedLength(4096) + 1);
                AppendPiece(rng, buffer, text, piece, window, rng.Next(80));
            }
        }
        else
        {
            AppendPiece(rng, buffer, text, length, window, mode - 20);
        }

        return buffer.ToArray();
    }

    private static void AppendPiece(FuzzRng rng, ByteBuf buffer, bool text, int length, int window, int kind)
    {
        int end = buffer.Length + length;
        switch (kind)
        {
            case < 25:
                AppendRandom(rng, buffer, text, length);
                break;
            case < 50:
                while (buffer.Length < end)
                {
                    byte[] word = Encoding.UTF8.GetBytes(Words[rng.Next(Words.Length)]);
                    if (buffer.Length + word.Length > end)
                    {
                        AppendRandom(rng, buffer, text, end - buffer.Length);
                        break;
                    }

                    buffer.Append(word);
                }

                break;
            case < 60:
                {
                    // A run of one byte (NUL and ASCII are valid text).
                    byte b = text ? (rng.NextBool() ? (byte)0 : (byte)rng.Next(0x20, 0x7F)) : rng.NextByte();
                    buffer.AppendSpan(length).Fill(b);
                    break;
                }

            case < 70:
                AppendRepeats(rng, buffer, text, end, rng.Next(1, 40));
                break;
            default:
                // A block as long as the window (or a little less or more), then repeats of it: matches at the window's edge.
                AppendRepeats(rng, buffer, text, end, Math.Max(1, window + rng.Next(-3, 4)));
                break;
        }
    }

    private static void AppendRepeats(FuzzRng rng, ByteBuf buffer, bool text, int end, int period)
    {
        var block = new ByteBuf(period);
        AppendRandom(rng, block, text, Math.Min(period, end - buffer.Length));
        while (buffer.Length + block.Length <= end && block.Length > 0)
        {
            buffer.Append(block.ReadOnlySpan);
        }

        AppendRandom(rng, buffer, text, end - buffer.Length);
    }

    private static void AppendRandom(FuzzRng rng, ByteBuf buffer, bool text, int length)
    {
        if (text)
        {
            Utf8Reference.AppendValidText(rng, buffer, length);
        }
        else
        {
            rng.NextBytes(buffer.AppendSpan(length));
        }
    }

    /// <summary>A message length: mostly small, sometimes up to <paramref name="max"/>.</summary>
    public static int Length(FuzzRng rng, int max)
    {
        int value = rng.Next(1000) switch
        {
            < 70 => 0,
            < 400 => rng.Next(1, 17),
            < 650 => rng.Next(17, 126),
            < 760 => rng.Next(126, 301),
            < 900 => rng.Next(301, 2049),
            < 960 => rng.Next(2049, 16385),
            < 990 => rng.Next(16385, 65537),
            _ => rng.Next(65537, 200 * 1024 + 1),
        };
        return Math.Min(value, max);
    }
}

/// <summary>
/// Generates VALID compressed streams as the peer of the receiving role sends them, for a random
/// agreement: text and binary messages of 0 B to 200 KiB, compressed or not (RFC 7692 §6 leaves the
/// choice to the sender), fragmented at random (empty frames included, the compressed bytes cut
/// anywhere), with pings and pongs between the fragments and between the messages and an optional
/// close at the end. The compressed payloads come from one of three independent sources per stream:
/// <list type="bullet">
/// <item><c>bcl</c>: <see cref="DeflateStream"/> (the runtime's zlib through the BCL, raw, any level),
/// one stream for the connection with context takeover and one per message without; each message ends
/// with a sync flush whose 00 00 FF FF is removed, or now and then with a final block (the next message
/// then starts a new stream). DeflateStream always uses a 15-bit window, so with a smaller agreed window
/// it is used only while the data since the stream started fits in the window (or at level 0); otherwise
/// the message goes uncompressed (context takeover) or through <c>own</c> (no context takeover).</item>
/// <item><c>own</c>: <see cref="ReferenceDeflater"/> (this folder's LZ77 + fixed-Huffman/stored encoder),
/// which honours every window from 8 to 15 bits and reaches its edge.</item>
/// <item><c>engine</c>: <see cref="WebSocketProtocol"/> in the peer's role with the same agreement and a
/// random level, memLevel, threshold and <c>MaxSendFrameSize</c>, written with
/// <see cref="WebSocketProtocol.WriteMessage"/> / <see cref="WebSocketProtocol.WriteText"/> in parts,
/// with <c>compress</c> true, false or null, and pings/pongs between parts.</item>
/// </list>
/// Messages fit the profile's limits in both their compressed and inflated size; under a frame limit
/// a compressed message is at most the frame limit inflated (the inflated bytes of one frame are
/// bounded by it). Some messages are exactly at the message limit.
/// </summary>
internal static class CompressedStreamGenerator
{
    public static CompressedStream Generate(FuzzRng rng, WebSocketRole receiver, FrameProfile profile, PerMessageDeflateParameters agreement, string? source = null)
    {
        WebSocketRole sender = receiver == WebSocketRole.Server ? WebSocketRole.Client : WebSocketRole.Server;
        int senderBits = agreement.SendWindowBits(sender);
        source ??= rng.Next(100) switch
        {
            < 40 => "bcl",
            < 70 => "own",
            _ => senderBits >= 9 ? "engine" : "own",
        };
        var stream = new CompressedStream { Agreement = agreement, Source = source };
        if (source == "engine")
        {
            GenerateWithEngine(rng, stream, sender, profile, agreement);
        }
        else
        {
            GenerateWithDeflater(rng, stream, receiver, sender, profile, agreement, source == "bcl");
        }

        return stream;
    }

    private static int ItemCount(FuzzRng rng) => rng.Next(100) switch
    {
        < 5 => 0,
        < 55 => rng.Next(1, 3),
        < 88 => rng.Next(3, 7),
        _ => rng.Next(7, 16),
    };

    /// <summary>
    /// The largest message that may be compressed under the profile: inflated, at most the frame limit
    /// (one frame may inflate to all of it); compressed, within the message limit even when DEFLATE expands
    /// it (zlib's conservative bound for small memLevels is about +14 %, plus the flushes of the parts).
    /// </summary>
    public static int CompressibleLimit(FrameProfile profile) =>
        (int)Math.Max(0, Math.Min(Math.Min(CompressedProfiles.MaxMessage(profile), profile.MaxFrameSize), (profile.MaxMessageSize - 256) / 1.17));

    private static int PickLength(FuzzRng rng, FrameProfile profile, bool compressible, bool limitAllowed, out bool atLimit)
    {
        atLimit = false;
        int max = CompressedProfiles.MaxMessage(profile);
        if (limitAllowed && profile.MaxMessageSize <= 64 * 1024 && profile.MaxFrameSize >= profile.MaxMessageSize && rng.Chance(2))
        {
            atLimit = true;
            return (int)profile.MaxMessageSize;   // exactly at the limit: must be delivered
        }

        return CompressedContent.Length(rng, compressible ? Math.Min(max, CompressibleLimit(profile)) : max);
    }

    private static void GenerateWithDeflater(FuzzRng rng, CompressedStream stream, WebSocketRole receiver, WebSocketRole sender, FrameProfile profile, PerMessageDeflateParameters agreement, bool bcl)
    {
        bool masked = receiver == WebSocketRole.Server;
        bool takeover = !agreement.SendNoContextTakeover(sender);
        int senderBits = agreement.SendWindowBits(sender);
        int window = 1 << senderBits;
        CompressionLevel level = PickLevel(rng);
        var bclState = new BclDeflater(level);
        var own = new ReferenceDeflater(senderBits);
        try
        {
            int items = ItemCount(rng);
            for (int item = 0; item < items; item++)
            {
                if (rng.Chance(70))
                {
                    bool text = rng.NextBool();
                    bool compress = rng.Chance(75);
                    // At the limit only with a compressing compressor (level 0 would expand it past the limit).
                    int length = PickLength(rng, profile, compress, limitAllowed: !bcl || level != CompressionLevel.NoCompression, out bool atLimit);
                    byte[] message = atLimit
                        ? (text ? CompressedContent.Make(rng, true, length, window) : new byte[length])
                        : CompressedContent.Make(rng, text, length, window);
                    if (atLimit)
                    {
                        compress = true;
                        if (text)
                        {
                            // A compressible text of exactly the limit: a run.
                            message.AsSpan().Fill((byte)'a');
                        }
                    }

                    byte[]? payload = null;
                    if (compress && (length <= CompressibleLimit(profile) || atLimit))
                    {
                        payload = bcl
                            ? CompressBcl(rng, bclState, own, message, takeover, senderBits, window, level, atLimit)
                            : CompressOwn(rng, ref own, message, takeover, senderBits);
                    }

                    AddDataMessage(rng, stream, profile, masked, text, message, payload);
                }
                else
                {
                    AddControl(rng, stream, masked, rng.Chance(60) ? 9 : 10);
                }
            }

            if (rng.Chance(25))
            {
                AddClose(rng, stream, masked);
            }
        }
        finally
        {
            bclState.Dispose();
        }
    }

    private static CompressionLevel PickLevel(FuzzRng rng) => rng.Next(100) switch
    {
        < 40 => CompressionLevel.Optimal,
        < 65 => CompressionLevel.Fastest,
        < 85 => CompressionLevel.SmallestSize,
        _ => CompressionLevel.NoCompression,
    };

    /// <summary>Compresses with DeflateStream when its 15-bit window is safe for the agreed one; null: send uncompressed.</summary>
    private static byte[]? CompressBcl(FuzzRng rng, BclDeflater state, ReferenceDeflater own, byte[] message, bool takeover, int senderBits, int window, CompressionLevel streamLevel, bool atLimit)
    {
        if (!takeover)
        {
            CompressionLevel level = atLimit ? CompressionLevel.Optimal : PickLevel(rng);
            if (senderBits < 15 && level != CompressionLevel.NoCompression && message.Length > window)
            {
                own.Reset();
                return own.CompressMessage(rng, message, final: rng.Chance(5));
            }

            using var fresh = new BclDeflater(level);
            return fresh.CompressMessage(rng, message, final: rng.Chance(10));
        }

        if (senderBits < 15 && streamLevel != CompressionLevel.NoCompression && state.History + message.Length > window)
        {
            return null;   // DeflateStream might refer further back than the agreed window: send it uncompressed
        }

        bool final = rng.Chance(4);
        byte[] payload = state.CompressMessage(rng, message, final);
        if (final)
        {
            state.Restart();
        }

        return payload;
    }

    private static byte[] CompressOwn(FuzzRng rng, ref ReferenceDeflater own, byte[] message, bool takeover, int senderBits)
    {
        if (!takeover)
        {
            own = new ReferenceDeflater(senderBits);
        }

        return own.CompressMessage(rng, message, final: rng.Chance(4));
    }

    /// <summary>Adds a data message: <paramref name="payload"/> is the compressed payload, or null for an uncompressed message.</summary>
    private static void AddDataMessage(FuzzRng rng, CompressedStream stream, FrameProfile profile, bool masked, bool text, byte[] message, byte[]? payload)
    {
        byte[] wire = payload ?? message;
        List<int> sizes = SplitIntoFrames(rng, wire.Length, (int)Math.Min(profile.MaxFrameSize, 70_000));
        int offset = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            bool last = i == sizes.Count - 1;
            int opcode = i == 0 ? (text ? 1 : 2) : 0;
            int rsv = i == 0 && payload is not null ? 4 : 0;
            stream.Bytes.Append(FrameStreamGenerator.Frame(rng, opcode, wire.AsSpan(offset, sizes[i]), last, masked, -1, rsv));
            offset += sizes[i];
            if (!last && rng.Chance(12))
            {
                AddControl(rng, stream, masked, rng.Chance(60) ? 9 : 10);
            }
        }

        if (payload is not null)
        {
            stream.CompressedMessages++;
        }

        stream.Events.Add(new IntendedEvent(CompressedEvents.MessageEvent(profile, text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, message), stream.Bytes.Length));
    }

    /// <summary>Frame sizes summing to <paramref name="length"/>, each at most <paramref name="maxFrame"/>; zero-length frames allowed (tiny first frames too).</summary>
    public static List<int> SplitIntoFrames(FuzzRng rng, int length, int maxFrame) =>
        FrameStreamGenerator.SplitIntoFrames(rng, length, maxFrame, shortCuts: true);

    private static void AddControl(FuzzRng rng, CompressedStream stream, bool masked, int opcode)
    {
        stream.Bytes.Append(FrameStreamGenerator.ControlFrame(rng, opcode, masked, out byte[] payload));
        AddControlIntent(stream, opcode, payload);
    }

    private static void AddControlIntent(CompressedStream stream, int opcode, byte[] payload)
    {
        int end = stream.Bytes.Length;
        if (opcode == 9)
        {
            stream.Events.Add(new IntendedEvent(FuzzEvent.Ping(payload), end));
            stream.Output.Add(new IntendedOutput(new OwedFrame(0xA, payload), end));
        }
        else
        {
            stream.Events.Add(new IntendedEvent(FuzzEvent.Pong(payload), end));
        }
    }

    private static void AddClose(FuzzRng rng, CompressedStream stream, bool masked)
    {
        stream.Bytes.Append(FrameStreamGenerator.CloseFrame(rng, masked, out int? code, out string? reason));
        AddCloseIntent(stream, code, reason);

        if (rng.Chance(40))
        {
            // Ignored after a close frame (RFC 6455 §5.5.1): junk, or a compressed-looking frame.
            stream.Bytes.Append(rng.NextBool() ? rng.Bytes(rng.Next(1, 40)) : FrameStreamGenerator.Frame(rng, 0x2, rng.Bytes(rng.Next(0, 20)), true, masked, -1, 4));
        }
    }

    private static void AddCloseIntent(CompressedStream stream, int? code, string? reason)
    {
        int end = stream.Bytes.Length;
        stream.Events.Add(new IntendedEvent(FuzzEvent.Close(code ?? 1005, code is null ? null : reason), end));
        stream.Output.Add(new IntendedOutput(new OwedFrame(8, OutputFrames.ClosePayload(code)), end));
        stream.ReceiveDone = true;
    }

    /// <summary>The peer is our own engine: messages written in parts through the public send API.</summary>
    private static void GenerateWithEngine(FuzzRng rng, CompressedStream stream, WebSocketRole sender, FrameProfile profile, PerMessageDeflateParameters agreement)
    {
        PerMessageDeflateParameters settings = CompressedAgreements.WithSettings(agreement, rng.Next(10), rng.Next(1, 10), PickThreshold(rng));
        int maxSendFrame = PickMaxSendFrame(rng, profile);
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrame };
        using var engine = new WebSocketProtocol(sender, options, settings);
        var writer = new ArrayBufferWriter<byte>(256);
        int window = 1 << agreement.SendWindowBits(sender);
        int items = ItemCount(rng);
        for (int item = 0; item < items; item++)
        {
            if (rng.Chance(70))
            {
                bool text = rng.NextBool();
                int length = CompressedContent.Length(rng, MaxForFrames(maxSendFrame, CompressedProfiles.MaxMessage(profile)));
                byte[] message = CompressedContent.Make(rng, text, length, window);
                bool? compress = rng.Next(100) switch { < 35 => true, < 50 => false, _ => null };
                if (length > CompressibleLimit(profile))
                {
                    compress = false;   // must stay within the limits whatever DEFLATE does with it
                }

                bool compressed = WriteParts(rng, engine, writer, stream, text, message, compress, settings.Threshold);
                stream.CompressedMessages += compressed ? 1 : 0;
                stream.Events.Add(new IntendedEvent(CompressedEvents.MessageEvent(profile, text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, message), stream.Bytes.Length));
            }
            else
            {
                WriteControl(rng, engine, writer, stream);
            }
        }

        if (rng.Chance(25))
        {
            WriteClose(rng, engine, writer, stream);
        }
    }

    public static int PickThreshold(FuzzRng rng) => rng.Next(100) switch
    {
        < 40 => 0,
        < 55 => 1,
        < 70 => rng.Next(2, 200),
        < 90 => 1024,
        _ => rng.Next(200, 70_000),
    };

    /// <summary>0 (one frame per write) or a frame size; under a frame limit always at most the limit.</summary>
    public static int PickMaxSendFrame(FuzzRng rng, FrameProfile profile)
    {
        int pick = rng.Next(100) switch
        {
            < 50 => 0,
            < 62 => rng.Next(1, 126),
            < 90 => rng.Next(126, 4097),
            _ => rng.Next(4097, 70_000),
        };
        if (profile.MaxFrameSize < profile.MaxMessageSize && (pick == 0 || pick > profile.MaxFrameSize))
        {
            pick = rng.Next(1, (int)profile.MaxFrameSize + 1);
        }

        return pick;
    }

    /// <summary>Keeps the number of frames of one message reasonable (at most about 2,000).</summary>
    public static int MaxForFrames(int maxSendFrame, int max) => maxSendFrame == 0 ? max : Math.Min(max, maxSendFrame * 2000);

    /// <summary>
    /// Writes <paramref name="message"/> in 1-8 parts (empty ones included) through WriteMessage or
    /// WriteText (text only, split anywhere between UTF-16 code units), with pings/pongs between parts.
    /// Returns whether the engine should compress it (the first part decides: compress ?? size ≥ threshold).
    /// </summary>
    /// <remarks>With <paramref name="text"/> given, the message is written with WriteText from it (lone surrogates become U+FFFD).</remarks>
    public static bool WriteParts(FuzzRng rng, WebSocketProtocol engine, ArrayBufferWriter<byte> writer, CompressedStream stream, bool text, byte[] message, bool? compress, int threshold, string? chars = null)
    {
        int parts = rng.Next(100) switch { < 60 => 1, < 85 => rng.Next(2, 4), _ => rng.Next(4, 9) };
        chars ??= text && rng.NextBool() ? Encoding.UTF8.GetString(message) : null;
        int total = chars?.Length ?? message.Length;
        var cuts = new List<int> { 0, total };
        for (int i = 1; i < parts; i++)
        {
            cuts.Add(rng.Next(total + 1));
        }

        cuts.Sort();
        bool compressed = false;
        for (int i = 1; i < cuts.Count; i++)
        {
            bool end = i == cuts.Count - 1;
            bool? flag = i == 1 ? compress : rng.Next(3) switch { 0 => true, 1 => false, _ => null };   // later parts' flags are ignored
            if (chars is not null)
            {
                ReadOnlySpan<char> part = chars.AsSpan(cuts[i - 1], cuts[i] - cuts[i - 1]);
                if (i == 1)
                {
                    int bytes = Encoding.UTF8.GetEncoder().GetByteCount(part, end);
                    compressed = flag ?? bytes >= threshold;
                }

                engine.WriteText(writer, part, end, flag);
            }
            else
            {
                ReadOnlySpan<byte> part = message.AsSpan(cuts[i - 1], cuts[i] - cuts[i - 1]);
                if (i == 1)
                {
                    compressed = flag ?? part.Length >= threshold;
                }

                engine.WriteMessage(writer, text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, part, end, flag);
            }

            Take(writer, stream);
            if (!end && rng.Chance(15))
            {
                WriteControl(rng, engine, writer, stream);
            }
        }

        return compressed;
    }

    public static void WriteControl(FuzzRng rng, WebSocketProtocol engine, ArrayBufferWriter<byte> writer, CompressedStream stream)
    {
        byte[] payload = rng.Bytes(rng.Next(100) switch { < 30 => 0, < 85 => rng.Next(1, 17), _ => rng.Next(17, 126) });
        bool ping = rng.Chance(60);
        if (ping)
        {
            engine.WritePing(writer, payload);
        }
        else
        {
            engine.WritePong(writer, payload);
        }

        Take(writer, stream);
        AddControlIntent(stream, ping ? 9 : 10, payload);
    }

    public static void WriteClose(FuzzRng rng, WebSocketProtocol engine, ArrayBufferWriter<byte> writer, CompressedStream stream)
    {
        if (rng.Chance(20))
        {
            engine.WriteClose(writer, null);
            Take(writer, stream);
            AddCloseIntent(stream, null, null);
            return;
        }

        int code = FrameStreamGenerator.CloseCodes[rng.Next(FrameStreamGenerator.CloseCodes.Length)];
        var reason = new ByteBuf(123);
        if (rng.NextBool())
        {
            Utf8Reference.AppendValidText(rng, reason, rng.Next(0, 124));
        }

        string text = Encoding.UTF8.GetString(reason.ReadOnlySpan);
        engine.WriteClose(writer, (WebSocketCloseCode)code, text);
        Take(writer, stream);
        AddCloseIntent(stream, code, text);
    }

    private static void Take(ArrayBufferWriter<byte> writer, CompressedStream stream)
    {
        stream.Bytes.Append(writer.WrittenSpan);
        writer.ResetWrittenCount();
    }

    /// <summary>DeflateStream over a MemoryStream, one message at a time (Flush = zlib sync flush; Dispose = final block).</summary>
    private sealed class BclDeflater(CompressionLevel level) : IDisposable
    {
        private MemoryStream _buffer = new();
        private DeflateStream? _deflate;

        /// <summary>Gets the bytes compressed since this stream started.</summary>
        public long History { get; private set; }

        public byte[] CompressMessage(FuzzRng rng, byte[] message, bool final)
        {
            _deflate ??= new DeflateStream(_buffer, level, leaveOpen: true);
            long start = _buffer.Length;
            _deflate.Write(message);
            History += message.Length;
            if (final)
            {
                _deflate.Dispose();
                _deflate = null;
            }
            else
            {
                _deflate.Flush();
            }

            byte[] bytes = _buffer.GetBuffer().AsSpan((int)start, (int)(_buffer.Length - start)).ToArray();
            if (bytes.AsSpan().EndsWith(DeflateTail))
            {
                bytes = bytes[..^4];
            }

            if (bytes.Length == 0 && rng.Chance(50))
            {
                bytes = [0x00];   // RFC 7692 §7.2.3.6: an empty message as one empty stored block
            }

            return bytes;
        }

        public void Restart()
        {
            _deflate?.Dispose();
            _deflate = null;
            _buffer = new MemoryStream();
            History = 0;
        }

        public void Dispose() => _deflate?.Dispose();
    }

    private static ReadOnlySpan<byte> DeflateTail => [0x00, 0x00, 0xFF, 0xFF];
}
