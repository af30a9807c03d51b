using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>A message the send-side fuzzer wrote, as the peer must receive it.</summary>
internal sealed record SentMessage(WebSocketMessageKind Type, byte[] Payload, bool Compressed);

/// <summary>
/// The send-side fuzzer: random sequences of WriteMessage / WriteText calls on a compressing engine
/// (messages in parts, empty parts, <c>compress</c> true/false/null, a random threshold, level and
/// memLevel, auto-fragmentation by <c>MaxSendFrameSize</c>, pings and pongs between the parts, text with
/// lone surrogates, an optional close), then:
/// <list type="bullet">
/// <item>the frames obey RFC 6455 and RFC 7692, checked by this folder's own parser: masking by role,
/// no RSV2/RSV3, RSV1 on the first frame of a compressed message only and never on a control frame, the
/// message compressed exactly when the first part's <c>compress ?? size ≥ threshold</c> says so, control
/// frames final and at most 125 bytes, frames within <c>MaxSendFrameSize</c>, nothing after a close, no
/// compressed payload ending with the 00 00 FF FF it must remove (§7.2.1);</item>
/// <item>every compressed message inflates to the message written, with <see cref="ReferenceInflater"/>
/// at the sender's agreed window (no distance beyond 2^bits, never a final block) and with
/// <see cref="DeflateStream"/>: one stream for the connection with context takeover, a fresh one per
/// message without;</item>
/// <item>a receiving engine in the other role gets exactly the messages, pings, pongs and close, under
/// every chunking (all of <see cref="CompressedFrameChecks"/>).</item>
/// </list>
/// </summary>
internal static class CompressedSendChecks
{
    public const string TargetPrefix = "zsend:";

    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
    private static long s_messages;
    private static long s_compressed;
    private static long s_frames;

    public static string Statistics => string.Create(
        CultureInfo.InvariantCulture,
        $"send side: {Interlocked.Read(ref s_messages)} messages written ({Interlocked.Read(ref s_compressed)} compressed) in {Interlocked.Read(ref s_frames)} frames");

    public static string Target(WebSocketRole sender, PerMessageDeflateParameters agreement, int maxSendFrame, FrameProfile profile, ulong chunkSeed) => string.Create(
        CultureInfo.InvariantCulture,
        $"{TargetPrefix}{(sender == WebSocketRole.Server ? "server" : "client")}/{CompressedAgreements.Name(agreement)}/{maxSendFrame}/{profile.Name}/{chunkSeed}");

    /// <summary>One iteration: generate the writes, then check the wire and the receiver.</summary>
    public static void RunIteration(FuzzRng rng, FuzzContext context, WebSocketRole sender)
    {
        WebSocketRole receiver = sender == WebSocketRole.Server ? WebSocketRole.Client : WebSocketRole.Server;
        PerMessageDeflateParameters agreement = CompressedAgreements.Random(rng, receiver, peerMayUseEight: false);
        FrameProfile profile = rng.Next(100) switch
        {
            < 40 => CompressedProfiles.Get("z256k"),
            < 70 => CompressedProfiles.Get("zfrag256k"),
            < 85 => CompressedProfiles.Get("z64k"),
            _ => CompressedProfiles.Get("zfrag64k"),
        };
        int threshold = CompressedStreamGenerator.PickThreshold(rng);
        PerMessageDeflateParameters settings = CompressedAgreements.WithSettings(agreement, rng.Next(10), rng.Next(1, 10), threshold);
        int maxSendFrame = CompressedStreamGenerator.PickMaxSendFrame(rng, profile);
        var stream = new CompressedStream { Agreement = agreement, Source = "send" };
        var sent = new List<SentMessage>();
        var writer = new ArrayBufferWriter<byte>(256);
        int maxMessage = (int)Math.Min(CompressedProfiles.MaxMessage(profile), profile.MaxMessageSize - 600);
        int window = 1 << agreement.SendWindowBits(sender);
        using (var engine = new WebSocketProtocol(sender, new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrame }, settings))
        {
            int messages = rng.Next(100) switch { < 10 => 0, < 60 => rng.Next(1, 3), < 90 => rng.Next(3, 7), _ => rng.Next(7, 13) };
            for (int m = 0; m < messages; m++)
            {
                if (rng.Chance(15))
                {
                    CompressedStreamGenerator.WriteControl(rng, engine, writer, stream);
                }

                bool text = rng.NextBool();
                int length = CompressedContent.Length(rng, CompressedStreamGenerator.MaxForFrames(maxSendFrame, maxMessage));
                byte[] message = CompressedContent.Make(rng, text, length, window);
                string? chars = null;
                if (text && rng.Chance(8))
                {
                    // Lone surrogates: WriteText sends U+FFFD for them.
                    var builder = new StringBuilder(Encoding.UTF8.GetString(message));
                    for (int i = rng.Next(1, 4); i > 0; i--)
                    {
                        builder.Insert(rng.Next(builder.Length + 1), (char)(rng.NextBool() ? rng.Next(0xD800, 0xDC00) : rng.Next(0xDC00, 0xE000)));
                    }

                    chars = builder.ToString();
                    message = Encoding.UTF8.GetBytes(chars);
                }

                bool? compress = rng.Next(100) switch { < 30 => true, < 45 => false, _ => null };
                if (message.Length > CompressedStreamGenerator.CompressibleLimit(profile))
                {
                    compress = false;   // must stay within the receiver's limits whatever DEFLATE does with it
                }

                bool compressed = CompressedStreamGenerator.WriteParts(rng, engine, writer, stream, text, message, compress, threshold, chars);
                var type = text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
                sent.Add(new SentMessage(type, message, compressed));
                stream.CompressedMessages += compressed ? 1 : 0;
                stream.Events.Add(new IntendedEvent(CompressedEvents.MessageEvent(profile, type, message), stream.Bytes.Length));
            }

            if (rng.Chance(20))
            {
                CompressedStreamGenerator.WriteClose(rng, engine, writer, stream);
            }
        }

        byte[] wire = stream.Bytes.ToArray();
        string target = Target(sender, agreement, maxSendFrame, profile, rng.NextSeed());
        context.Set(target, wire, () => string.Create(CultureInfo.InvariantCulture, $"threshold {threshold}, level {settings.CompressionLevel}, memLevel {settings.MemoryLevel}; sent: {string.Join(", ", sent.Select(s => $"{s.Type} {s.Payload.Length} B{(s.Compressed ? " compressed" : string.Empty)}"))}; intended: {FuzzEvent.Describe(stream.Events.Select(e => e.Event))}"));
        CheckWire(target, wire, sent, stream);
    }

    /// <summary>Checks the frames a compressing engine wrote (and, with the writes known, that they carry exactly them), then the receiver.</summary>
    public static void CheckWire(string target, byte[] wire, List<SentMessage>? sent = null, CompressedStream? stream = null)
    {
        string[] parts = target[TargetPrefix.Length..].Split('/');
        WebSocketRole sender = parts[0] == "server" ? WebSocketRole.Server : WebSocketRole.Client;
        PerMessageDeflateParameters agreement = CompressedAgreements.Parse(parts[1]);
        int maxSendFrame = int.Parse(parts[2], CultureInfo.InvariantCulture);
        FrameProfile profile = CompressedProfiles.Get(parts[3]);
        ulong chunkSeed = ulong.Parse(parts[4], CultureInfo.InvariantCulture);
        WebSocketRole receiver = sender == WebSocketRole.Server ? WebSocketRole.Client : WebSocketRole.Server;

        List<SentMessage> onWire = CheckFrames(wire, sender, maxSendFrame);
        List<byte[]> inflated = InflateOwn(onWire, agreement, sender);
        List<byte[]> inflatedBcl = InflateBcl(onWire, inflated, agreement.SendNoContextTakeover(sender));
        var decoded = new List<SentMessage>();
        for (int i = 0; i < onWire.Count; i++)
        {
            if (onWire[i].Compressed && !inflated[i].AsSpan().SequenceEqual(inflatedBcl[i]))
            {
                throw Check.Fail($"message {i}: the reference inflater and DeflateStream disagree ({inflated[i].Length} vs {inflatedBcl[i].Length} bytes)");
            }

            decoded.Add(onWire[i] with { Payload = inflated[i] });
        }

        if (sent is not null)
        {
            if (sent.Count != decoded.Count)
            {
                throw Check.Fail($"{sent.Count} message(s) written, {decoded.Count} on the wire");
            }

            for (int i = 0; i < sent.Count; i++)
            {
                if (sent[i].Type != decoded[i].Type || sent[i].Compressed != decoded[i].Compressed || !sent[i].Payload.AsSpan().SequenceEqual(decoded[i].Payload))
                {
                    throw Check.Fail($"message {i}: written {sent[i].Type} {sent[i].Payload.Length} B compressed={sent[i].Compressed}, on the wire {decoded[i].Type} {decoded[i].Payload.Length} B compressed={decoded[i].Compressed}{(sent[i].Payload.AsSpan().SequenceEqual(decoded[i].Payload) ? string.Empty : " (payload differs)")}");
                }
            }
        }

        Interlocked.Add(ref s_messages, decoded.Count);
        Interlocked.Add(ref s_compressed, decoded.Count(m => m.Compressed));

        string receiveTarget = CompressedFrameChecks.Target(receiver, profile, agreement, chunkSeed);
        CompressedIntent? intent = stream is null ? null : new CompressedIntent { Stream = stream, FirstDifference = wire.Length, IsWholeStream = true };
        CompressedFrameChecks.CheckInput(receiveTarget, wire, intent);
    }

    /// <summary>RFC 6455 / RFC 7692 framing rules; returns the messages with their (still compressed) payloads.</summary>
    private static List<SentMessage> CheckFrames(byte[] wire, WebSocketRole sender, int maxSendFrame)
    {
        List<WireFrameInfo> frames = WireFrames.Parse(wire, out int rest);
        if (rest != wire.Length)
        {
            throw Check.Fail($"the written bytes do not end with a complete frame (parsed up to {rest} of {wire.Length})");
        }

        var messages = new List<SentMessage>();
        ByteBuf? payload = null;
        var type = WebSocketMessageKind.Binary;
        bool compressed = false;
        bool closed = false;
        foreach (WireFrameInfo frame in frames)
        {
            string at = string.Create(CultureInfo.InvariantCulture, $"frame at offset {frame.Offset} (op {frame.Opcode:X}, rsv {frame.Rsv}, fin {frame.Fin}, {frame.Payload.Length} B)");
            Check.That(!closed, $"{at} follows a close frame");
            Check.That(frame.Masked == (sender == WebSocketRole.Client), $"{at}: masking does not match the {sender} role");
            Check.That((frame.Rsv & 3) == 0, $"{at}: RSV2/RSV3 set");
            if (frame.IsControl)
            {
                Check.That(frame.Opcode is 8 or 9 or 10, $"{at}: reserved control opcode");
                Check.That(frame.Fin && frame.Rsv == 0 && frame.Payload.Length <= 125, $"{at}: a control frame must be final, without RSV1, at most 125 bytes (RFC 6455 §5.5, RFC 7692 §6.1)");
                closed = frame.Opcode == 8;
                continue;
            }

            Check.That(maxSendFrame == 0 || frame.Payload.Length <= maxSendFrame, $"{at}: over MaxSendFrameSize {maxSendFrame}");
            if (frame.Opcode is 1 or 2)
            {
                Check.That(payload is null, $"{at}: a new message inside an unfinished one");
                payload = new ByteBuf();
                type = (WebSocketMessageKind)frame.Opcode;
                compressed = (frame.Rsv & 4) != 0;
            }
            else
            {
                Check.That(frame.Opcode == 0 && payload is not null, $"{at}: reserved opcode, or a continuation outside a message");
                Check.That(frame.Rsv == 0, $"{at}: RSV1 on a continuation frame (RFC 7692 §6.1)");
            }

            payload!.Append(frame.Payload);
            Interlocked.Increment(ref s_frames);
            if (frame.Fin)
            {
                byte[] bytes = payload.ToArray();
                Check.That(!compressed || !bytes.AsSpan().EndsWith(Tail), $"message {messages.Count}: the compressed payload still ends with 00 00 FF FF (RFC 7692 §7.2.1)");
                messages.Add(new SentMessage(type, bytes, compressed));
                payload = null;
            }
        }

        Check.That(payload is null, "the writes end inside a message");
        return messages;
    }

    /// <summary>Inflates with <see cref="ReferenceInflater"/> at the sender's window: context carried over with takeover, a new stream per message without.</summary>
    private static List<byte[]> InflateOwn(List<SentMessage> messages, PerMessageDeflateParameters agreement, WebSocketRole sender)
    {
        bool takeover = !agreement.SendNoContextTakeover(sender);
        int bits = agreement.SendWindowBits(sender);
        ReferenceInflater? inflater = null;
        var result = new List<byte[]>();
        for (int i = 0; i < messages.Count; i++)
        {
            SentMessage message = messages[i];
            if (!message.Compressed)
            {
                result.Add(message.Payload);
                continue;
            }

            if (inflater is null || !takeover)
            {
                inflater = new ReferenceInflater(bits);
            }

            var output = new ByteBuf(message.Payload.Length * 4);
            if (message.Payload.Length > 0)
            {
                inflater.Append(message.Payload);
                inflater.Append(Tail);
            }

            InflateStop stop = inflater.Run(output, long.MaxValue, out _);
            if (stop != InflateStop.NeedInput)
            {
                throw Check.Fail($"message {i}: the compressed payload {(stop == InflateStop.Ended ? "ends the DEFLATE stream (BFINAL)" : $"is not valid DEFLATE for a {bits}-bit window: {inflater.Error}")}");
            }

            result.Add(output.ToArray());
        }

        return result;
    }

    /// <summary>Inflates with DeflateStream: one stream over all compressed messages (takeover) or one per message.</summary>
    private static List<byte[]> InflateBcl(List<SentMessage> messages, List<byte[]> expectedLengths, bool noTakeover)
    {
        var result = new List<byte[]>();
        if (noTakeover)
        {
            for (int i = 0; i < messages.Count; i++)
            {
                if (!messages[i].Compressed || messages[i].Payload.Length == 0)
                {
                    result.Add(messages[i].Payload);
                    continue;
                }

                using var input = new MemoryStream();
                input.Write(messages[i].Payload);
                input.Write(Tail);
                input.Position = 0;
                using var inflate = new DeflateStream(input, CompressionMode.Decompress);
                using var output = new MemoryStream();
                inflate.CopyTo(output);
                result.Add(output.ToArray());
            }

            return result;
        }

        using var wire = new MemoryStream();
        foreach (SentMessage message in messages.Where(m => m.Compressed && m.Payload.Length > 0))
        {
            wire.Write(message.Payload);
            wire.Write(Tail);
        }

        wire.Position = 0;
        using var stream = new DeflateStream(wire, CompressionMode.Decompress);
        for (int i = 0; i < messages.Count; i++)
        {
            if (!messages[i].Compressed)
            {
                result.Add(messages[i].Payload);
                continue;
            }

            byte[] message = new byte[expectedLengths[i].Length];
            stream.ReadExactly(message);
            result.Add(message);
        }

        if (stream.Read(new byte[1]) != 0)
        {
            throw Check.Fail("DeflateStream inflates more bytes than the messages hold");
        }

        return result;
    }
}
