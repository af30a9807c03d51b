using System.Buffers;
using System.IO.Compression;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Tests.Core;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Property tests in the style of Autobahn 12.x/13.x: a client engine and a server engine with every
/// combination of context takeover (per direction) and window bits 9/15 (per direction) exchange text
/// and binary messages of 16 B to 128 KiB, whole or written in parts, with and without auto-fragmentation,
/// with pings between the parts; the receiver is fed under random chunkings. The wire is also checked
/// frame by frame (RSV1 on first frames only) and inflated independently with the BCL's DeflateStream.
/// </summary>
public sealed class CompressedRoundTripTests
{
    private static readonly int[] AutobahnSizes = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

    public static TheoryData<bool, bool, int, int, int> Combinations()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (bool serverNoTakeover in new[] { false, true })
        {
            foreach (bool clientNoTakeover in new[] { false, true })
            {
                foreach (int serverBits in new[] { 9, 15 })
                {
                    foreach (int clientBits in new[] { 9, 15 })
                    {
                        foreach (int maxSendFrameSize in new[] { 0, 1000 })
                        {
                            data.Add(serverNoTakeover, clientNoTakeover, serverBits, clientBits, maxSendFrameSize);
                        }
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Messages_round_trip_in_both_directions(bool serverNoTakeover, bool clientNoTakeover, int serverBits, int clientBits, int maxSendFrameSize)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(serverNoTakeover, clientNoTakeover, serverBits, clientBits);
        int seed = (serverNoTakeover ? 1 : 0) + (clientNoTakeover ? 2 : 0) + (serverBits * 4) + (clientBits * 64) + maxSendFrameSize;
        foreach (WebSocketRole sender in new[] { WebSocketRole.Client, WebSocketRole.Server })
        {
            var options = new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrameSize, MaxMessageSize = 1 << 20 };
            Transcript transcript = Send(sender, agreement, options, seed + (int)sender);
            bool senderResets = agreement.SendNoContextTakeover(sender);
            int senderBits = agreement.SendWindowBits(sender);

            transcript.CheckFrames(maxSendFrameSize);
            transcript.CheckWithBcl(senderResets);
            transcript.CheckContextAndWindow(shared: !senderResets && senderBits == 15);

            WebSocketRole receiver = sender == WebSocketRole.Client ? WebSocketRole.Server : WebSocketRole.Client;
            foreach (int[] chunks in new[] { Chunkings.Whole(transcript.Wire.Length), Chunkings.Random(transcript.Wire.Length, seed), Chunkings.Random(transcript.Wire.Length, seed + 1) })
            {
                using var rx = new DeflateReceiver(receiver, agreement, new WebSocketProtocolOptions { MaxMessageSize = 1 << 20 });
                rx.FeedChunked(transcript.Wire, chunks);
                Assert.True(rx.Failure is null, $"failed after {rx.Events.Count(e => e.Type == WebSocketEventType.Message)} messages: {rx.Failure}\n" + string.Join('\n', transcript.Log.Take(40)));
                Assert.Equal(transcript.Expected.Count, rx.Events.Count);
                for (int i = 0; i < transcript.Expected.Count; i++)
                {
                    Assert.True(transcript.Expected[i].Equals(rx.Events[i]), $"event {i}: expected {transcript.Expected[i]}, got {rx.Events[i]}");
                }

                List<WireFrame> pongs = WireFrame.ParseAll(rx.Owed.WrittenSpan);
                Assert.Equal(transcript.PingCount, pongs.Count);
                Assert.All(pongs, f => Assert.True(f.Opcode == Frames.PongOp && f.Rsv == 0));
                Assert.Equal(receiver == WebSocketRole.Server ? !clientNoTakeover : !serverNoTakeover, rx.Protocol.HoldsCompressionState);
            }

            Assert.Equal(!senderResets, transcript.SenderHeldState);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 125)]
    [InlineData(true, 126)]
    public void Tiny_send_frames_split_compressed_messages_correctly(bool noContextTakeover, int maxSendFrameSize)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(noContextTakeover, noContextTakeover);
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrameSize };
        using var server = new WebSocketProtocol(WebSocketRole.Server, options, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[][] messages = [DeflateKit.CompressibleText(3000, 1), DeflateKit.RandomBytes(500, 2), DeflateKit.CompressibleText(300, 3), DeflateKit.RandomBytes(1, 4)];
        foreach (byte[] m in messages)
        {
            server.WriteMessage(wire, WebSocketMessageKind.Binary, m);
        }

        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        Assert.All(frames, f => Assert.True(f.Payload.Length <= maxSendFrameSize));
        Assert.Equal(messages.Length, frames.Count(f => f.Opcode != Frames.Continuation));
        Assert.All(frames.Where(f => f.Opcode == Frames.Continuation), f => Assert.Equal(0, f.Rsv));
        Assert.All(frames.Where(f => f.Opcode != Frames.Continuation), f => Assert.Equal(4, f.Rsv));

        using var rx = new DeflateReceiver(WebSocketRole.Client, agreement);
        rx.FeedChunked(wire.WrittenSpan, Chunkings.ByteByByte(wire.WrittenCount));
        Assert.Equal(messages.Select(RecordedEvent.Binary), rx.Events);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compressed_messages_are_delivered_as_fragments_when_asked(bool noContextTakeover)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(noContextTakeover, noContextTakeover);
        using var client = new WebSocketProtocol(WebSocketRole.Client, new WebSocketProtocolOptions { MaxSendFrameSize = 4000 }, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[] text = DeflateKit.RandomText(100_000, 7);
        byte[] binary = DeflateKit.CompressibleText(200_000, 8);
        client.WriteMessage(wire, WebSocketMessageKind.Text, text);
        client.WriteMessage(wire, WebSocketMessageKind.Binary, binary);
        foreach (int seed in new[] { 1, 2, 3 })
        {
            using var rx = new DeflateReceiver(WebSocketRole.Server, agreement, new WebSocketProtocolOptions { DeliverFragments = true });
            rx.FeedChunked(wire.WrittenSpan, Chunkings.Random(wire.WrittenCount, seed));
            Assert.Null(rx.Failure);
            Assert.All(rx.Events, e => Assert.Equal(WebSocketEventType.Fragment, e.Type));
            List<RecordedEvent> merged = ProtocolDriver.Coalesce(rx.Events);
            Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Text, text, true), RecordedEvent.Fragment(WebSocketMessageKind.Binary, binary, true)], merged);
        }
    }

    [Theory]
    [InlineData(CompressionLevel.NoCompression, false)]
    [InlineData(CompressionLevel.Fastest, false)]
    [InlineData(CompressionLevel.Optimal, false)]
    [InlineData(CompressionLevel.SmallestSize, false)]
    [InlineData(CompressionLevel.Optimal, true)]
    public void Messages_from_an_independent_deflater_are_inflated(CompressionLevel level, bool fragmented)
    {
        // One BCL deflater for the whole connection (context takeover), sync flush after each message.
        byte[][] messages = [.. AutobahnSizes.Select((size, i) => i % 2 == 0 ? DeflateKit.CompressibleText(size, i) : DeflateKit.RandomText(size, i)), []];
        var wire = new List<byte>();
        using (var buffer = new MemoryStream())
        using (var deflate = new DeflateStream(buffer, level))
        {
            long start = 0;
            foreach (byte[] m in messages)
            {
                deflate.Write(m);
                deflate.Flush();
                byte[] payload = buffer.ToArray()[(int)start..];
                start = buffer.Length;
                if (payload.Length == 0)
                {
                    // zlib emits nothing for a sync flush with no new input: send the empty stored block's
                    // header, 0x00 (RFC 7692 §7.2.3.6), which with the tail is a complete empty block.
                    payload = [0x00];
                }
                else
                {
                    Assert.True(payload.AsSpan().EndsWith(DeflateKit.SyncTail));
                    payload = payload[..^4];
                }

                if (fragmented && payload.Length > 10)
                {
                    int cut = payload.Length / 3;
                    wire.AddRange(DeflateKit.ServerFrameHeader(Frames.TextOp, cut, fin: false, rsv: 4));
                    wire.AddRange(payload[..cut]);
                    wire.AddRange(Frames.Build(Frames.PingOp, "between"u8));
                    wire.AddRange(DeflateKit.ServerFrameHeader(Frames.Continuation, 0, fin: false));
                    wire.AddRange(DeflateKit.ServerFrameHeader(Frames.Continuation, payload.Length - cut));
                    wire.AddRange(payload[cut..]);
                }
                else
                {
                    wire.AddRange(DeflateKit.ServerFrameHeader(Frames.TextOp, payload.Length, rsv: 4));
                    wire.AddRange(payload);
                }
            }
        }

        foreach (int seed in new[] { 0, 5, 6 })
        {
            using var rx = new DeflateReceiver(WebSocketRole.Client, DeflateKit.Agreement(false, false));
            rx.FeedChunked(wire.ToArray(), seed == 0 ? Chunkings.Whole(wire.Count) : Chunkings.Random(wire.Count, seed));
            Assert.Null(rx.Failure);
            Assert.Equal(messages.Select(m => Encoding.UTF8.GetString(m)), rx.Events.Where(e => e.Type == WebSocketEventType.Message).Select(e => Encoding.UTF8.GetString(e.Payload)));
        }
    }

    // ---------------------------------------------------------------------------------------------

    /// <summary>Writes a varied sequence of messages from <paramref name="sender"/>, recording what the receiver must see.</summary>
    private static Transcript Send(WebSocketRole sender, PerMessageDeflateParameters agreement, WebSocketProtocolOptions options, int seed)
    {
        var random = new Random(seed);
        using var tx = new WebSocketProtocol(sender, options, agreement);
        var wire = new ArrayBufferWriter<byte>();
        var transcript = new Transcript();
        var sizes = new List<int>(AutobahnSizes);
        for (int i = 0; i < 6; i++)
        {
            sizes.Add(random.Next(16, 131073));
        }

        // A repeated message: with context takeover its second copy costs almost nothing.
        byte[] repeated = DeflateKit.RandomBytes(3000, seed);
        transcript.Repeat = (transcript.Messages.Count, transcript.Messages.Count + 1);
        foreach (byte[] copy in new[] { repeated, repeated })
        {
            tx.WriteMessage(wire, WebSocketMessageKind.Binary, copy);
            transcript.Add(WebSocketMessageKind.Binary, copy, compressed: true);
        }

        foreach (int size in sizes)
        {
            foreach (int kind in new[] { 0, 1, 2, 3 })
            {
                WebSocketMessageKind type = kind < 2 ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
                byte[] payload = kind switch
                {
                    0 => DeflateKit.CompressibleText(size, random.Next()),
                    1 => DeflateKit.RandomText(size, random.Next()),
                    2 => DeflateKit.CompressibleText(size, random.Next()),
                    _ => DeflateKit.RandomBytes(size, random.Next()),
                };
                bool? compress = random.Next(8) == 0 ? false : null;   // now and then a message is sent uncompressed
                int parts = random.Next(3) == 0 ? random.Next(2, 6) : 1;
                // Empty parts are allowed anywhere but last: an empty LAST part is the subject of
                // CompressionChoiceTests.Message_written_in_parts_with_an_empty_last_part_round_trips.
                int[] cuts = [.. Enumerable.Range(0, parts - 1).Select(_ => random.Next(0, size)).Order()];
                int start = 0;
                for (int p = 0; p < parts; p++)
                {
                    int end = p < cuts.Length ? cuts[p] : size;
                    tx.WriteMessage(wire, type, payload.AsSpan(start, end - start), endOfMessage: p == parts - 1, compress: p == 0 ? compress : !compress);
                    transcript.Log.Add($"msg {transcript.Messages.Count} part {p}/{parts} [{start},{end}) compress={compress} wire+={wire.WrittenCount}");
                    start = end;
                    if (p < parts - 1 && random.Next(2) == 0)
                    {
                        byte[] ping = Encoding.ASCII.GetBytes($"ping {transcript.PingCount}");
                        tx.WritePing(wire, ping);
                        transcript.Expected.Add(RecordedEvent.Ping(ping));
                        transcript.PingCount++;
                    }
                }

                transcript.Add(type, payload, compressed: compress != false, parts);
            }
        }

        transcript.SenderHeldState = tx.HoldsCompressionState;
        transcript.Wire = wire.WrittenSpan.ToArray();
        return transcript;
    }

    private sealed class Transcript
    {
        public List<(WebSocketMessageKind Type, byte[] Payload, bool Compressed, int Parts)> Messages { get; } = [];

        public List<RecordedEvent> Expected { get; } = [];

        public byte[] Wire { get; set; } = [];

        public int PingCount { get; set; }

        public List<string> Log { get; } = [];

        public bool SenderHeldState { get; set; }

        public (int First, int Second) Repeat { get; set; }

        /// <summary>The payload bytes of each message's frames, concatenated (compressed form when compressed).</summary>
        public List<byte[]> WirePayloads { get; } = [];

        public void Add(WebSocketMessageKind type, byte[] payload, bool compressed, int parts = 1)
        {
            Messages.Add((type, payload, compressed, parts));
            Expected.Add(RecordedEvent.Message(type, payload));
        }

        /// <summary>RSV1 exactly on the first frame of each compressed message; control frames clean; frame size limit kept.</summary>
        public void CheckFrames(int maxSendFrameSize)
        {
            List<WireFrame> frames = WireFrame.ParseAll(Wire);
            int message = -1;
            List<byte>? current = null;
            foreach (WireFrame frame in frames)
            {
                if (frame.Opcode >= Frames.CloseOp)
                {
                    Assert.Equal(0, frame.Rsv);
                    continue;
                }

                if (maxSendFrameSize > 0)
                {
                    Assert.True(frame.Payload.Length <= maxSendFrameSize, $"a {frame.Payload.Length}-byte frame with MaxSendFrameSize {maxSendFrameSize}");
                }

                if (frame.Opcode != Frames.Continuation)
                {
                    Assert.Null(current);
                    message++;
                    current = [];
                    Assert.Equal((int)Messages[message].Type, frame.Opcode);
                    Assert.True(frame.Rsv == (Messages[message].Compressed ? 4 : 0), $"message {message} first frame RSV {frame.Rsv}, compressed={Messages[message].Compressed}");
                }
                else
                {
                    Assert.NotNull(current);
                    Assert.Equal(0, frame.Rsv);
                }

                current!.AddRange(frame.Payload);
                if (frame.Fin)
                {
                    WirePayloads.Add([.. current]);
                    current = null;
                }
            }

            Assert.Null(current);
            Assert.Equal(Messages.Count, WirePayloads.Count);
            for (int i = 0; i < Messages.Count; i++)
            {
                if (!Messages[i].Compressed)
                {
                    Assert.True(Messages[i].Payload.AsSpan().SequenceEqual(WirePayloads[i]), $"uncompressed message {i} differs on the wire");
                }
                else if (Messages[i].Parts == 1)
                {
                    // (A message written in parts whose last part is empty may keep the previous part's marker:
                    // harmless, the receiver's appended tail then adds a second empty block.)
                    Assert.False(WirePayloads[i].AsSpan().EndsWith(DeflateKit.SyncTail), $"message {i} still ends with the sync-flush tail");
                }
            }
        }

        /// <summary>Inflates the compressed messages with the BCL: one inflater for the connection, or one per message.</summary>
        public void CheckWithBcl(bool senderResets)
        {
            var compressed = Enumerable.Range(0, Messages.Count).Where(i => Messages[i].Compressed).ToList();
            for (int i = 0; i < compressed.Count; i++)
            {
                int m = compressed[i];
                try
                {
                    if (senderResets)
                    {
                        DeflateKit.BclInflate(WirePayloads[m], Messages[m].Payload.Length);
                    }
                    else
                    {
                        DeflateKit.BclInflateMessages(compressed.Take(i + 1).Select(k => WirePayloads[k]), compressed.Take(i + 1).Select(k => Messages[k].Payload.Length));
                    }
                }
                catch (InvalidDataException ex)
                {
                    Assert.Fail($"message {m} ({Messages[m].Payload.Length} bytes, {Messages[m].Parts} parts): {ex.Message}; wire {WirePayloads[m].Length} bytes ending {Hex.Format(WirePayloads[m].AsSpan(Math.Max(0, WirePayloads[m].Length - 12)))}");
                }
            }

            List<byte[]> inflated = senderResets
                ? [.. compressed.Select(i => DeflateKit.BclInflate(WirePayloads[i], Messages[i].Payload.Length))]
                : DeflateKit.BclInflateMessages(compressed.Select(i => WirePayloads[i]), compressed.Select(i => Messages[i].Payload.Length));
            for (int k = 0; k < compressed.Count; k++)
            {
                Assert.True(Messages[compressed[k]].Payload.AsSpan().SequenceEqual(inflated[k]), $"the BCL inflates message {compressed[k]} differently");
            }
        }

        /// <summary>
        /// With context takeover and a 15-bit window, the second copy of a repeated 3000-byte message refers back
        /// to the first; without takeover, or with a 9-bit window (at most 250 bytes back in zlib), it cannot.
        /// </summary>
        public void CheckContextAndWindow(bool shared)
        {
            int first = WirePayloads[Repeat.First].Length;
            int second = WirePayloads[Repeat.Second].Length;
            Assert.True(first > 2900, $"3000 random bytes compressed to {first}");
            if (shared)
            {
                Assert.True(second < 100, $"the repeated message took {second} bytes: the context was not kept");
            }
            else
            {
                Assert.True(second > 2900, $"the repeated message took {second} bytes: it referred to a context or window it must not use");
            }

            // Compressible text shrinks whatever the window.
            for (int i = 0; i < Messages.Count; i++)
            {
                if (Messages[i].Compressed && Messages[i].Payload.Length >= 1024 && Messages[i].Payload.AsSpan().IndexOf("takeover"u8) >= 0)
                {
                    Assert.True(WirePayloads[i].Length < Messages[i].Payload.Length / 2, $"compressible message {i} of {Messages[i].Payload.Length} bytes took {WirePayloads[i].Length}");
                }
            }
        }
    }
}
