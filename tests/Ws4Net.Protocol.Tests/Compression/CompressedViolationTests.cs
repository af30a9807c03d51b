using System.Buffers;
using System.IO.Compression;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Tests.Core;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Misuse of RSV1 (1002), corrupt DEFLATE data (1007), invalid UTF-8 inside compressed text (1007, as
/// soon as it is inflated) and the limits applied to the inflated size (1009).
/// </summary>
public sealed class CompressedViolationTests
{
    private static readonly PerMessageDeflateParameters Takeover = DeflateKit.Agreement(false, false);

    public static TheoryData<WebSocketRole> Roles => new() { WebSocketRole.Client, WebSocketRole.Server };

    [Theory]
    [MemberData(nameof(Roles))]
    public void Rsv1_on_a_continuation_frame_fails_with_1002(WebSocketRole receiver)
    {
        byte[] compressed = DeflateKit.BclCompress(DeflateKit.CompressibleText(2000, 1));
        int cut = compressed.Length / 2;
        byte[] wire = Frames.Concat(
            DeflateKit.Frame(receiver, Frames.TextOp, compressed.AsSpan(0, cut), fin: false, rsv: 4),
            DeflateKit.Frame(receiver, Frames.Continuation, compressed.AsSpan(cut), fin: true, rsv: 4));
        AssertFails(receiver, Takeover, wire, WebSocketCloseCode.ProtocolError);

        // Also when the message itself is not compressed.
        wire = Frames.Concat(
            DeflateKit.Frame(receiver, Frames.BinaryOp, "abc"u8, fin: false),
            DeflateKit.Frame(receiver, Frames.Continuation, "def"u8, fin: true, rsv: 4));
        AssertFails(receiver, Takeover, wire, WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [InlineData(WebSocketRole.Client, 0x8)]
    [InlineData(WebSocketRole.Client, 0x9)]
    [InlineData(WebSocketRole.Client, 0xA)]
    [InlineData(WebSocketRole.Server, 0x8)]
    [InlineData(WebSocketRole.Server, 0x9)]
    [InlineData(WebSocketRole.Server, 0xA)]
    public void Rsv1_on_a_control_frame_fails_with_1002(WebSocketRole receiver, int opcode)
    {
        byte[] payload = opcode == Frames.CloseOp ? Frames.ClosePayload(1000) : "x"u8.ToArray();
        AssertFails(receiver, Takeover, DeflateKit.Frame(receiver, opcode, payload, rsv: 4), WebSocketCloseCode.ProtocolError);

        // Between the fragments of a compressed message too.
        byte[] compressed = DeflateKit.BclCompress("Hello, Hello, Hello"u8);
        byte[] wire = Frames.Concat(
            DeflateKit.Frame(receiver, Frames.TextOp, compressed.AsSpan(0, 3), fin: false, rsv: 4),
            DeflateKit.Frame(receiver, opcode, payload, rsv: 4),
            DeflateKit.Frame(receiver, Frames.Continuation, compressed.AsSpan(3)));
        AssertFails(receiver, Takeover, wire, WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Rsv1_without_negotiation_fails_with_1002(WebSocketRole receiver)
    {
        byte[] compressed = DeflateKit.BclCompress("Hello"u8);
        AssertFails(receiver, null, DeflateKit.Frame(receiver, Frames.TextOp, compressed, rsv: 4), WebSocketCloseCode.ProtocolError);
        AssertFails(receiver, null, DeflateKit.Frame(receiver, Frames.BinaryOp, compressed, rsv: 4), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Rsv2_and_rsv3_fail_with_1002_even_with_deflate(WebSocketRole receiver)
    {
        byte[] compressed = DeflateKit.BclCompress("Hello"u8);
        foreach (int rsv in new[] { 2, 1, 6, 5, 7 })
        {
            AssertFails(receiver, Takeover, DeflateKit.Frame(receiver, Frames.TextOp, compressed, rsv: rsv), WebSocketCloseCode.ProtocolError);
        }
    }

    public static TheoryData<string, string> CorruptPayloads => new()
    {
        { "reserved block type, final", "07 00" },
        { "reserved block type", "06" },
        { "stored block with LEN != ~NLEN", "00 05 00 00 00 48 65 6c 6c 6f" },
        { "distance before the start of the stream", "f2 00 11 00 00" },
        { "dynamic block with 32 distance codes", "04 ff ff ff ff ff ff ff" },
        { "valid block then a reserved block", "f2 48 cd c9 c9 07 00 00 00 ff ff 07" },
        { "garbage", "ff ff ff ff ff ff ff ff ff ff" },
    };

    [Theory]
    [MemberData(nameof(CorruptPayloads))]
    public void Corrupt_deflate_data_fails_with_1007(string what, string hex)
    {
        _ = what;
        byte[] payload = Hex.Parse(hex);
        foreach (WebSocketRole receiver in new[] { WebSocketRole.Client, WebSocketRole.Server })
        {
            foreach (PerMessageDeflateParameters agreement in new[] { Takeover, DeflateKit.Agreement(true, true) })
            {
                foreach (int opcode in new[] { Frames.TextOp, Frames.BinaryOp })
                {
                    AssertFails(receiver, agreement, DeflateKit.Frame(receiver, opcode, payload, rsv: 4), WebSocketCloseCode.InvalidPayloadData, byteByByte: true);
                }
            }
        }
    }

    [Fact]
    public void Receiver_without_context_takeover_does_not_keep_the_window()
    {
        // The peer agreed to server_no_context_takeover but refers to its previous message: that is corrupt data
        // for a receiver that reset its inflater, as it must.
        byte[] wire = Hex.Parse("c1 07 f2 48 cd c9 c9 07 00" + "c1 05 f2 00 11 00 00");
        using var rx = new DeflateReceiver(WebSocketRole.Client, DeflateKit.Agreement(serverNoContextTakeover: true, clientNoContextTakeover: false));
        rx.FeedCopy(wire);
        Assert.Equal([RecordedEvent.Text("Hello"), RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData)], rx.Events);
        Assert.Equal(1007, rx.OwedCloseCode());
        Assert.False(rx.Protocol.HoldsCompressionState);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Invalid_utf8_in_compressed_text_fails_as_soon_as_it_is_inflated(WebSocketRole receiver)
    {
        // 1 MiB of compressible text with an invalid byte near the start: the failure must come from the first
        // bytes of the frame, long before the frame (or the message) is complete.
        byte[] text = DeflateKit.CompressibleText(1 << 20, 9);
        text[10] = 0xFF;
        byte[] compressed = DeflateKit.BclCompress(text);
        byte[] frame = DeflateKit.Frame(receiver, Frames.TextOp, compressed, rsv: 4);
        int header = WireFrame.Parse(frame, out _).HeaderLength;

        using var rx = new DeflateReceiver(receiver, Takeover, new WebSocketProtocolOptions { MaxMessageSize = 2 << 20 });
        Assert.True(compressed.Length > 50_000);
        rx.FeedCopy(frame.AsSpan(0, header + 2048));   // past the dynamic Huffman header of the first block
        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData)], rx.Events);
        Assert.Equal(1007, rx.OwedCloseCode());
    }

    [Theory]
    [InlineData("e282")]        // truncated 3-byte sequence at the end of the message
    [InlineData("f09f98")]      // truncated 4-byte sequence
    [InlineData("eda080")]      // a surrogate
    [InlineData("c0af")]        // overlong
    [InlineData("f4908080")]    // above U+10FFFF
    public void Invalid_utf8_is_caught_across_inflated_chunks_and_frames(string badHex)
    {
        byte[] bad = Hex.Parse(badHex);
        bool truncated = badHex is "e282" or "f09f98";
        byte[] text = [.. DeflateKit.RandomText(50_000, 3), .. bad, .. (truncated ? Array.Empty<byte>() : DeflateKit.RandomText(50_000, 4))];
        foreach (WebSocketRole receiver in new[] { WebSocketRole.Client, WebSocketRole.Server })
        {
            foreach (bool deliverFragments in new[] { false, true })
            {
                // Sent by our engine in several frames; received byte by byte and whole.
                WebSocketRole sender = receiver == WebSocketRole.Client ? WebSocketRole.Server : WebSocketRole.Client;
                using var tx = new WebSocketProtocol(sender, new WebSocketProtocolOptions { MaxSendFrameSize = 7000 }, Takeover);
                var wire = new ArrayBufferWriter<byte>();
                tx.WriteMessage(wire, WebSocketMessageKind.Text, text);
                foreach (int[] chunks in new[] { Chunkings.Whole(wire.WrittenCount), Chunkings.Random(wire.WrittenCount, 8) })
                {
                    using var rx = new DeflateReceiver(receiver, Takeover, new WebSocketProtocolOptions { DeliverFragments = deliverFragments });
                    rx.FeedChunked(wire.WrittenSpan, chunks);
                    Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData), rx.Events[^1]);
                    Assert.All(rx.Events.Take(rx.Events.Count - 1), e => Assert.False(e.EndOfMessage));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Message_limit_applies_to_the_inflated_size_exactly(WebSocketRole receiver)
    {
        const int Limit = 64 * 1024;
        var options = new WebSocketProtocolOptions { MaxMessageSize = Limit };
        foreach ((int size, bool ok) in new[] { (Limit, true), (Limit + 1, false), (10 * Limit, false) })
        {
            byte[] compressed = DeflateKit.BclCompress(new byte[size]);
            Assert.True(compressed.Length < 1000);
            using var rx = new DeflateReceiver(receiver, Takeover, options);
            rx.FeedCopy(DeflateKit.Frame(receiver, Frames.BinaryOp, compressed, rsv: 4));
            RecordedEvent e = Assert.Single(rx.Events);
            if (ok)
            {
                Assert.Equal(RecordedEvent.Binary(new byte[size]), e);
            }
            else
            {
                Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.MessageTooBig), e);
                Assert.Equal(1009, rx.OwedCloseCode());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Frame_limit_applies_to_the_inflated_frame(WebSocketRole receiver)
    {
        const int FrameLimit = 64 * 1024;
        var options = new WebSocketProtocolOptions { MaxMessageSize = 1 << 20, MaxFrameSize = FrameLimit };
        WebSocketRole sender = receiver == WebSocketRole.Client ? WebSocketRole.Server : WebSocketRole.Client;
        byte[] half = DeflateKit.CompressibleText(50 * 1024, 5);

        // 100 KiB in one frame of a few hundred compressed bytes: the inflated frame is over the limit.
        using (var tx = new WebSocketProtocol(sender, null, Takeover))
        {
            var wire = new ArrayBufferWriter<byte>();
            tx.WriteMessage(wire, WebSocketMessageKind.Binary, [.. half, .. half]);
            Assert.True(WireFrame.ParseAll(wire.WrittenSpan).Single().Payload.Length < FrameLimit);
            AssertFails(receiver, Takeover, wire.WrittenSpan.ToArray(), WebSocketCloseCode.MessageTooBig, options: options);
        }

        // The same 100 KiB as two frames of 50 KiB each (each part sync-flushed): accepted.
        using (var tx = new WebSocketProtocol(sender, null, Takeover))
        {
            var wire = new ArrayBufferWriter<byte>();
            tx.WriteMessage(wire, WebSocketMessageKind.Binary, half, endOfMessage: false);
            tx.WriteMessage(wire, WebSocketMessageKind.Binary, half, endOfMessage: true);
            foreach (int[] chunks in new[] { Chunkings.Whole(wire.WrittenCount), Chunkings.ByteByByte(wire.WrittenCount) })
            {
                using var rx = new DeflateReceiver(receiver, Takeover, options);
                rx.FeedChunked(wire.WrittenSpan, chunks);
                Assert.Equal([RecordedEvent.Binary([.. half, .. half])], rx.Events);
            }
        }
    }

    [Fact]
    public void Compressed_length_is_limited_too()
    {
        // The announced (compressed) length is checked against the limits before anything is inflated.
        var options = new WebSocketProtocolOptions { MaxMessageSize = 1000 };
        byte[] random = DeflateKit.BclCompress(DeflateKit.RandomBytes(2000, 1));
        AssertFails(WebSocketRole.Client, Takeover, Frames.Concat(DeflateKit.ServerFrameHeader(Frames.BinaryOp, random.Length, rsv: 4), random.AsSpan(0, 10).ToArray()), WebSocketCloseCode.MessageTooBig, options: options);
    }

    // ---------------------------------------------------------------------------------------------

    /// <summary>Feeds <paramref name="wire"/> (whole, and byte by byte when asked) and expects one failure with <paramref name="code"/>, and the close frame owed.</summary>
    internal static void AssertFails(WebSocketRole receiver, PerMessageDeflateParameters? agreement, byte[] wire, WebSocketCloseCode code, bool byteByByte = true, WebSocketProtocolOptions? options = null)
    {
        var chunkings = new List<int[]> { Chunkings.Whole(wire.Length) };
        if (byteByByte)
        {
            chunkings.Add(Chunkings.ByteByByte(wire.Length));
        }

        foreach (int[] chunks in chunkings)
        {
            using var rx = new DeflateReceiver(receiver, agreement, options);
            rx.FeedChunked(wire, chunks);
            Assert.True(rx.Failure is not null, $"no failure; events: {string.Join(" | ", rx.Events)}");
            Assert.Equal(RecordedEvent.Failed(code), rx.Events[^1]);
            Assert.Equal((int)code, rx.OwedCloseCode());
            Assert.True(rx.Protocol.IsReceiveCompleted);
        }
    }
}
