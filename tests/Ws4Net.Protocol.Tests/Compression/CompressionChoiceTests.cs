using System.Buffers;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Tests.Core;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Which messages are compressed (threshold, the per-send flag, the first part deciding), what an
/// empty message looks like on the wire, and when zlib state is held.
/// </summary>
public sealed class CompressionChoiceTests
{
    [Theory]
    [InlineData(WebSocketRole.Client)]
    [InlineData(WebSocketRole.Server)]
    public void Threshold_decides_when_the_sender_does_not(WebSocketRole role)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(false, false, threshold: 100);
        using var tx = new WebSocketProtocol(role, null, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[] small = DeflateKit.CompressibleText(99, 1);
        byte[] exact = DeflateKit.CompressibleText(100, 2);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, small);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, exact);
        tx.WriteText(wire, new string('a', 99));
        tx.WriteText(wire, new string('a', 100));
        tx.WriteText(wire, new string('é', 50));     // 100 UTF-8 bytes: the threshold counts bytes
        Assert.Equal([0, 4, 0, 4, 4], WireFrame.ParseAll(wire.WrittenSpan).Select(f => f.Rsv));
        Assert.Equal(small, WireFrame.ParseAll(wire.WrittenSpan)[0].Payload);

        AssertReceived(role, agreement, wire, [
            RecordedEvent.Binary(small), RecordedEvent.Binary(exact), RecordedEvent.Text(new string('a', 99)),
            RecordedEvent.Text(new string('a', 100)), RecordedEvent.Text(new string('é', 50))]);
    }

    [Theory]
    [InlineData(WebSocketRole.Client, 0)]
    [InlineData(WebSocketRole.Server, 0)]
    [InlineData(WebSocketRole.Client, 1000)]
    [InlineData(WebSocketRole.Server, 333)]
    public void Per_send_flag_overrides_the_threshold(WebSocketRole role, int maxSendFrameSize)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(false, false, threshold: 1024);
        using var tx = new WebSocketProtocol(role, new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrameSize }, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[] secret = Encoding.UTF8.GetBytes("session=" + new string('s', 20_000));   // large and compressible, but sent raw
        byte[] tiny = "hi"u8.ToArray();
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, secret, compress: false);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, tiny, compress: true);
        tx.WriteText(wire, new string('x', 5000), compress: false);
        tx.WriteText(wire, "tiny", compress: true);

        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        List<List<WireFrame>> messages = GroupMessages(frames);
        Assert.Equal(4, messages.Count);
        Assert.All(messages[0].Concat(messages[2]), f => Assert.Equal(0, f.Rsv));         // compress: false -> RSV1 = 0 on every frame
        Assert.Equal(secret, messages[0].SelectMany(f => f.Payload).ToArray());          // and the bytes travel as they are
        Assert.Equal(4, messages[1][0].Rsv);
        Assert.Equal(4, messages[3][0].Rsv);
        Assert.Equal(Encoding.ASCII.GetBytes("tiny"), DeflateKit.BclInflate(messages[3].SelectMany(f => f.Payload).ToArray(), 4));

        AssertReceived(role, agreement, wire, [
            RecordedEvent.Binary(secret), RecordedEvent.Binary(tiny), RecordedEvent.Text(new string('x', 5000)), RecordedEvent.Text("tiny")]);
    }

    [Fact]
    public void The_first_part_of_a_message_decides()
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(false, false, threshold: 100);
        using var tx = new WebSocketProtocol(WebSocketRole.Server, null, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[] big = DeflateKit.CompressibleText(5000, 3);

        // Small first part: uncompressed, whatever follows (and whatever the later parts ask for).
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, big.AsSpan(0, 10), endOfMessage: false);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, big.AsSpan(10), endOfMessage: true, compress: true);

        // Large first part: compressed, even with a tiny or explicitly uncompressed tail.
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, big.AsSpan(0, 4990), endOfMessage: false);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, big.AsSpan(4990), endOfMessage: true, compress: false);

        // Text parts follow the same rule.
        tx.WriteText(wire, "short ", endOfMessage: false, compress: true);
        tx.WriteText(wire, new string('z', 3000), endOfMessage: true, compress: false);

        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        Assert.Equal([0, 0, 4, 0, 4, 0], frames.Select(f => f.Rsv));
        Assert.Equal(big.AsSpan(10).ToArray(), frames[1].Payload);
        Assert.True(frames[2].Payload.Length + frames[3].Payload.Length < 2500);

        AssertReceived(WebSocketRole.Server, agreement, wire, [RecordedEvent.Binary(big), RecordedEvent.Binary(big), RecordedEvent.Text("short " + new string('z', 3000))]);
    }

    [Fact]
    public void Without_an_agreement_nothing_is_compressed()
    {
        using var tx = new WebSocketProtocol(WebSocketRole.Client);
        var wire = new ArrayBufferWriter<byte>();
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, new byte[5000], compress: true);
        tx.WriteText(wire, new string('a', 5000), compress: true);
        Assert.All(WireFrame.ParseAll(wire.WrittenSpan), f => Assert.Equal(0, f.Rsv));
        Assert.Null(tx.PerMessageDeflate);
        Assert.False(tx.HoldsCompressionState);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Empty_message_compresses_to_a_single_zero_octet(bool noContextTakeover)
    {
        using var tx = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(noContextTakeover, noContextTakeover));
        var wire = new ArrayBufferWriter<byte>();
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, [], compress: true);
        Assert.Equal("C20100", Hex.Format(wire.WrittenSpan));

        wire.Clear();
        tx.WriteMessage(wire, WebSocketMessageKind.Text, [], compress: false);
        Assert.Equal("8100", Hex.Format(wire.WrittenSpan));
    }

    /// <summary>
    /// RFC 7692 §7.2.3.6 / §7.2.1: an empty message is compressed to the single octet 0x00 (an empty payload
    /// plus 00 00 FF FF is not a complete DEFLATE block). Every empty message must look like that, not only
    /// the first one on a connection: zlib emits nothing for a second sync flush without new input.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_empty_compressed_message_carries_a_payload(bool noContextTakeover)
    {
        using var tx = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(noContextTakeover, noContextTakeover));
        var wire = new ArrayBufferWriter<byte>();
        foreach (string text in new[] { "", "first message", "", "", "third message", "" })
        {
            tx.WriteText(wire, text, compress: true);
        }

        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        Assert.All(frames, f => Assert.Equal(4, f.Rsv));
        int[] emptyIndexes = [0, 2, 3, 5];
        Assert.All(emptyIndexes, i => Assert.True(frames[i].Payload.Length > 0, $"empty message {i} was sent as RSV1 with an empty payload ({Hex.Format(frames[i].Payload)})"));
    }

    /// <summary>Our sender to our receiver, with empty messages among others: every message arrives intact.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Empty_messages_between_others_round_trip(bool serverNoContextTakeover, bool clientNoContextTakeover)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(serverNoContextTakeover, clientNoContextTakeover);
        foreach (WebSocketRole sender in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            using var tx = new WebSocketProtocol(sender, null, agreement);
            var wire = new ArrayBufferWriter<byte>();
            byte[][] messages = [[], "first message"u8.ToArray(), [], [], "third message"u8.ToArray(), [], DeflateKit.RandomBytes(2000, 1), []];
            foreach (byte[] m in messages)
            {
                tx.WriteMessage(wire, WebSocketMessageKind.Binary, m, compress: true);
            }

            AssertReceived(sender, agreement, wire, [.. messages.Select(RecordedEvent.Binary)]);
        }
    }

    /// <summary>
    /// A message written in parts whose last part is empty (a stream writer that ends with
    /// <c>WriteMessage(empty, endOfMessage: true)</c>): the previous part's sync flush already emitted
    /// 00 00 FF FF and the last flush emits nothing, so the message must still end so that the receiver's
    /// appended tail completes an empty block (RFC 7692 §7.2.1), and the next messages must be intact.
    /// </summary>
    [Theory]
    [InlineData(false, WebSocketRole.Client)]
    [InlineData(false, WebSocketRole.Server)]
    [InlineData(true, WebSocketRole.Client)]
    public void Message_written_in_parts_with_an_empty_last_part_round_trips(bool noContextTakeover, WebSocketRole sender)
    {
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(noContextTakeover, noContextTakeover);
        using var tx = new WebSocketProtocol(sender, null, agreement);
        var wire = new ArrayBufferWriter<byte>();
        byte[] first = DeflateKit.CompressibleText(2000, 1);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, first, endOfMessage: false);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, [], endOfMessage: true);
        byte[] second = "the next message"u8.ToArray();
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, second);
        tx.WriteMessage(wire, WebSocketMessageKind.Binary, second);

        List<List<WireFrame>> messages = GroupMessages(WireFrame.ParseAll(wire.WrittenSpan));
        byte[] firstPayload = [.. messages[0].SelectMany(f => f.Payload)];
        Assert.False(firstPayload.AsSpan().EndsWith(DeflateKit.SyncTail), $"the message ends with an unstripped sync-flush marker ({Hex.Format(firstPayload.AsSpan(firstPayload.Length - 6))}); with the receiver's tail that is an incomplete stored block");
        AssertReceived(sender, agreement, wire, [RecordedEvent.Binary(first), RecordedEvent.Binary(second), RecordedEvent.Binary(second)]);
    }

    /// <summary>
    /// A peer that compresses an empty message to an empty payload (RSV1, length 0: what zlib's second sync
    /// flush yields, and what some peers send) must not corrupt the next messages of a context-takeover
    /// stream: the receiver may deliver the empty message or fail with 1007, but never hand out wrong bytes.
    /// </summary>
    [Theory]
    [InlineData("c1 01 00")]                          // an empty compressed text message done right
    [InlineData("c2 0b 00 05 00 fa ff 48 65 6c 6c 6f 00")]   // a stored block "Hello", as binary
    [InlineData("c2 07 f2 48 cd c9 c9 07 00")]       // "Hello", fixed Huffman
    public void Empty_compressed_payload_never_corrupts_later_messages(string next)
    {
        byte[] following = Hex.Parse(next);
        byte[] wire = Frames.Concat(Hex.Parse("c2 00"), following, Hex.Parse("c2 07 f2 48 cd c9 c9 07 00"));
        using var rx = new DeflateReceiver(WebSocketRole.Client, DeflateKit.Agreement(false, false));
        rx.FeedCopy(wire);
        if (rx.Failure is { } failure)
        {
            Assert.Equal(WebSocketCloseCode.InvalidPayloadData, failure.CloseCode);
            return;
        }

        byte[] expectedNext = following[0] == 0xC1 ? [] : "Hello"u8.ToArray();
        Assert.Equal([RecordedEvent.Binary([]), RecordedEvent.Message(following[0] == 0xC1 ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, expectedNext), RecordedEvent.Binary("Hello"u8.ToArray())], rx.Events);
    }

    [Fact]
    public void Final_block_resets_the_context_and_the_next_message_stands_alone()
    {
        // §7.2.3.4: a message may end with a BFINAL block; the next one then starts a fresh DEFLATE stream.
        byte[] wire = Hex.Parse("c1 08 f3 48 cd c9 c9 07 00 00" + "c1 07 f2 48 cd c9 c9 07 00" + "c1 05 f2 00 11 00 00");
        using var rx = new DeflateReceiver(WebSocketRole.Client, DeflateKit.Agreement(false, false));
        rx.FeedChunked(wire, Chunkings.ByteByByte(wire.Length));
        Assert.Equal([RecordedEvent.Text("Hello"), RecordedEvent.Text("Hello"), RecordedEvent.Text("Hello")], rx.Events);
    }

    [Fact]
    public void Pooled_directions_hold_zlib_state_only_mid_message()
    {
        PerMessageDeflateParameters pooled = DeflateKit.Agreement(true, true);
        using var server = new WebSocketProtocol(WebSocketRole.Server, null, pooled);
        using var client = new DeflateReceiver(WebSocketRole.Client, pooled);
        var wire = new ArrayBufferWriter<byte>();
        Assert.False(server.HoldsCompressionState);
        server.WriteMessage(wire, WebSocketMessageKind.Binary, DeflateKit.CompressibleText(5000, 1), endOfMessage: false);
        Assert.True(server.HoldsCompressionState);
        server.WriteMessage(wire, WebSocketMessageKind.Binary, DeflateKit.CompressibleText(5000, 2), endOfMessage: true);
        Assert.False(server.HoldsCompressionState);

        byte[] bytes = wire.WrittenSpan.ToArray();
        int firstFrame = WireFrame.ParseAll(bytes)[0].HeaderLength + WireFrame.ParseAll(bytes)[0].Payload.Length;
        client.FeedCopy(bytes.AsSpan(0, firstFrame));
        Assert.True(client.Protocol.HoldsCompressionState);   // a pooled inflater is rented for the message in progress
        client.FeedCopy(bytes.AsSpan(firstFrame));
        Assert.False(client.Protocol.HoldsCompressionState);
        Assert.Single(client.Events);

        // With context takeover the states stay for the life of the connection.
        PerMessageDeflateParameters takeover = DeflateKit.Agreement(false, false);
        using var keeper = new WebSocketProtocol(WebSocketRole.Server, null, takeover);
        keeper.WriteMessage(new ArrayBufferWriter<byte>(), WebSocketMessageKind.Binary, new byte[10]);
        Assert.True(keeper.HoldsCompressionState);
        keeper.Dispose();
        Assert.False(keeper.HoldsCompressionState);
    }

    [Fact]
    public void An_agreement_asking_to_compress_with_8_bits_is_refused()
    {
        // The server may be told client_max_window_bits=8 by... nobody: our client refuses it. The engine checks too.
        Assert.Throws<ArgumentException>(() => new WebSocketProtocol(WebSocketRole.Client, null, new PerMessageDeflateParameters(false, false, null, 8)));
        Assert.Throws<ArgumentException>(() => new WebSocketProtocol(WebSocketRole.Server, null, new PerMessageDeflateParameters(false, false, 8, null)));

        // Inflating an 8-bit peer window is fine (with 9 bits).
        using var server = new WebSocketProtocol(WebSocketRole.Server, null, new PerMessageDeflateParameters(false, false, null, 8));
        Assert.Equal(9, server.PerMessageDeflate!.ReceiveWindowBits(WebSocketRole.Server));
    }

    // ---------------------------------------------------------------------------------------------

    internal static List<List<WireFrame>> GroupMessages(IEnumerable<WireFrame> frames)
    {
        var messages = new List<List<WireFrame>>();
        List<WireFrame>? current = null;
        foreach (WireFrame frame in frames.Where(f => f.Opcode < Frames.CloseOp))
        {
            if (frame.Opcode != Frames.Continuation)
            {
                current = [];
                messages.Add(current);
            }

            current!.Add(frame);
        }

        return messages;
    }

    private static void AssertReceived(WebSocketRole sender, PerMessageDeflateParameters agreement, ArrayBufferWriter<byte> wire, RecordedEvent[] expected)
    {
        WebSocketRole receiver = sender == WebSocketRole.Client ? WebSocketRole.Server : WebSocketRole.Client;
        foreach (int[] chunks in new[] { Chunkings.Whole(wire.WrittenCount), Chunkings.ByteByByte(wire.WrittenCount), Chunkings.Random(wire.WrittenCount, 42) })
        {
            using var rx = new DeflateReceiver(receiver, agreement);
            rx.FeedChunked(wire.WrittenSpan, chunks);
            Assert.Equal(expected, rx.Events);
        }
    }
}
