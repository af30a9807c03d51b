using System.Buffers;
using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>Ping and pong (RFC 6455 §5.5.2, §5.5.3).</summary>
public sealed class PingPongTests
{
    public static TheoryData<WebSocketRole> Roles => [WebSocketRole.Server, WebSocketRole.Client];

    [Theory]
    [MemberData(nameof(Roles))]
    public void TenPingsInOneBuffer_TenEventsAndTenPongsInOrder(WebSocketRole role)
    {
        byte[][] payloads = Enumerable.Range(0, 10).Select(i => Encoding.ASCII.GetBytes($"ping-{i}" + new string('.', i * 12))).ToArray();
        byte[] vector = Frames.Concat(payloads.Select(p => Frames.To(role, Frames.PingOp, p)).ToArray());

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector);

        Assert.Equal(payloads.Select(RecordedEvent.Ping), r.Events);
        OutputAssert.ControlFrames(role, r.Output, payloads.Select(p => (Frames.PongOp, p)).ToArray());
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void TenPingsInOneBuffer_FlushedOnceAtTheEnd_PongsInOrder(WebSocketRole role)
    {
        byte[][] payloads = Enumerable.Range(0, 10).Select(i => new[] { (byte)i, (byte)(i * 3) }).ToArray();
        byte[] vector = Frames.Concat(payloads.Select(p => Frames.To(role, Frames.PingOp, p)).ToArray());
        using var p = new WebSocketProtocol(role);
        Memory<byte> rest = vector;
        int pings = 0;
        while (p.TryReadEvent(rest, out int consumed, out WebSocketEvent e))
        {
            Assert.Equal(WebSocketEventType.Ping, e.Type);
            Assert.True(e.Payload.Span.SequenceEqual(payloads[pings++]));
            rest = rest[consumed..];
        }

        Assert.Equal(10, pings);
        Assert.True(p.HasPendingOutput);
        var w = new ArrayBufferWriter<byte>();
        int written = p.WritePendingOutput(w);

        Assert.Equal(w.WrittenCount, written);
        OutputAssert.ControlFrames(role, w.WrittenSpan.ToArray(), payloads.Select(x => (Frames.PongOp, x)).ToArray());
        Assert.False(p.HasPendingOutput);
        Assert.Equal(WebSocketProtocolState.Open, p.State);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Ping125Bytes_AnsweredWithIdenticalPong(WebSocketRole role)
    {
        byte[] payload = Frames.Pattern(125, seed: 125);

        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.PingOp, payload));

        Assert.Equal([RecordedEvent.Ping(payload)], r.Events);
        OutputAssert.ControlFrames(role, r.Output, (Frames.PongOp, payload));
        if (role == WebSocketRole.Server)
        {
            Assert.Equal("8A7D" + Hex.Format(payload), Hex.Format(r.Output));
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void EmptyPing_AnsweredWithEmptyPong(WebSocketRole role)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.PingOp, []));

        Assert.Equal([RecordedEvent.Ping([])], r.Events);
        OutputAssert.ControlFrames(role, r.Output, (Frames.PongOp, []));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void UnsolicitedPong_GivesPongEvent_NothingOwed(WebSocketRole role)
    {
        byte[] payload = "heartbeat"u8.ToArray();

        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.Concat(Frames.To(role, Frames.PongOp, payload), Frames.To(role, Frames.PongOp, [])));

        Assert.Equal([RecordedEvent.Pong(payload), RecordedEvent.Pong([])], r.Events);
        Assert.Empty(r.Output);
        Assert.Equal(WebSocketProtocolState.Open, r.State);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void PingBetweenFragments_IsDeliveredAtOnce_AndMessageCompletes(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, "Hel"u8, fin: false),
            Frames.To(role, Frames.PingOp, "Hello"u8));

        // Only the first fragment and the ping have arrived: the ping is delivered and answered now.
        using var driver = new ProtocolDriver(role);
        Assert.Equal([RecordedEvent.Ping("Hello"u8.ToArray())], driver.FeedCopy(vector));
        OutputAssert.ControlFrames(role, driver.Output.WrittenSpan.ToArray(), (Frames.PongOp, "Hello"u8.ToArray()));

        Assert.Equal([RecordedEvent.Text("Hello")], driver.FeedCopy(Frames.To(role, Frames.Continuation, "lo"u8)));

        // And as one stream under every chunking.
        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.Concat(vector, Frames.To(role, Frames.Continuation, "lo"u8)));
        Assert.Equal([RecordedEvent.Ping("Hello"u8.ToArray()), RecordedEvent.Text("Hello")], r.Events);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void PingInsideASplitCodePoint_MessageStillValid(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, Hex.Parse("E2"), fin: false),
            Frames.To(role, Frames.PingOp, "a"u8),
            Frames.To(role, Frames.PongOp, "b"u8),
            Frames.To(role, Frames.Continuation, Hex.Parse("82"), fin: false),
            Frames.To(role, Frames.PingOp, "c"u8),
            Frames.To(role, Frames.Continuation, Hex.Parse("AC")));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector);

        Assert.Equal(
            [RecordedEvent.Ping("a"u8.ToArray()), RecordedEvent.Pong("b"u8.ToArray()), RecordedEvent.Ping("c"u8.ToArray()), RecordedEvent.Text("€")],
            r.Events);
        OutputAssert.ControlFrames(role, r.Output, (Frames.PongOp, "a"u8.ToArray()), (Frames.PongOp, "c"u8.ToArray()));
    }

    [Fact]
    public void PendingControlBytesLimit_DropsPongsBeyondIt_ButDeliversEveryPing()
    {
        var options = new WebSocketProtocolOptions { MaxPendingControlBytes = 256 };
        using var p = new WebSocketProtocol(WebSocketRole.Server, options);
        byte[][] payloads = Enumerable.Range(0, 6).Select(i => Frames.Pattern(125, seed: i)).ToArray();
        Memory<byte> rest = Frames.Concat(payloads.Select(x => Frames.To(WebSocketRole.Server, Frames.PingOp, x)).ToArray());
        int pings = 0;
        while (p.TryReadEvent(rest, out int consumed, out WebSocketEvent e))
        {
            Assert.Equal(WebSocketEventType.Ping, e.Type);
            pings++;
            rest = rest[consumed..];
        }

        var w = new ArrayBufferWriter<byte>();
        p.WritePendingOutput(w);

        Assert.Equal(6, pings);
        Assert.InRange(w.WrittenCount, 127, 256);
        List<WireFrame> pongs = WireFrame.ParseAll(w.WrittenSpan);
        Assert.All(pongs, f => Assert.Equal(Frames.PongOp, f.Opcode));
        Assert.Equal(payloads[0], pongs[0].Payload);

        // After a flush, pongs are owed again.
        Assert.True(p.TryReadEvent(Frames.To(WebSocketRole.Server, Frames.PingOp, "x"u8), out _, out _));
        var w2 = new ArrayBufferWriter<byte>();
        p.WritePendingOutput(w2);
        Assert.Equal("8A0178", Hex.Format(w2.WrittenSpan));
    }

    [Fact]
    public void PingPayloadSplitAcrossManyChunks_IsReassembledAndUnmasked()
    {
        byte[] payload = Frames.Pattern(125, seed: 9);
        byte[] vector = Frames.Build(Frames.PingOp, payload, mask: [0xA1, 0xB2, 0xC3, 0xD4]);
        for (int cut = 1; cut < vector.Length; cut++)
        {
            RunResult r = ProtocolDriver.Run(WebSocketRole.Server, vector, Chunkings.SplitAt(vector.Length, cut));
            Assert.Equal([RecordedEvent.Ping(payload)], r.Events);
            Assert.Equal("8A7D" + Hex.Format(payload), Hex.Format(r.Output));
        }
    }
}
