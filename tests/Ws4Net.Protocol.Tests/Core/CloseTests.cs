using System.Buffers;
using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>The closing handshake (RFC 6455 §5.5.1, §7).</summary>
public sealed class CloseTests
{
    public static TheoryData<WebSocketRole> Roles => [WebSocketRole.Server, WebSocketRole.Client];

    [Theory]
    [MemberData(nameof(Roles))]
    public void EmptyClose_GivesNoStatusReceived_AndEchoesAnEmptyClose(WebSocketRole role)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.CloseOp, []));

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.NoStatusReceived, null)], r.Events);
        OutputAssert.SingleClose(role, r.Output, null);
        Assert.True(r.ReceiveCompleted);
        Assert.Equal(WebSocketProtocolState.Closed, r.State);
    }

    [Fact]
    public void EmptyClose_ServerEchoIsExactly8800()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Hex.Parse("88 80 37 fa 21 3d"));

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.NoStatusReceived, null)], r.Events);
        Assert.Equal("8800", Hex.Format(r.Output));
    }

    [Fact]
    public void Close1000Bye_ServerReceives_EchoIs880203E8()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Frames.Build(Frames.CloseOp, Frames.ClosePayload(1000, "bye"), mask: Frames.RfcKey));

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.NormalClosure, "bye")], r.Events);
        Assert.Equal("880203E8", Hex.Format(r.Output));
    }

    [Fact]
    public void Close1000Bye_ClientReceives_EchoIsMasked1000()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse("88 05 03 E8 62 79 65"));

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.NormalClosure, "bye")], r.Events);
        OutputAssert.SingleClose(WebSocketRole.Client, r.Output, 1000);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void CloseWithCodeOnly_HasEmptyNotNullReason(WebSocketRole role)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1001)));

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.GoingAway, string.Empty)], r.Events);
        OutputAssert.SingleClose(role, r.Output, 1001);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void InvalidCloseCode_Fails1002(int code)
    {
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            ViolationTests.AssertFails(role, Frames.To(role, Frames.CloseOp, Frames.ClosePayload(code)), WebSocketCloseCode.ProtocolError);
            ViolationTests.AssertFails(role, Frames.To(role, Frames.CloseOp, Frames.ClosePayload(code, "reason")), WebSocketCloseCode.ProtocolError);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void OneBytePayload_Fails1002(WebSocketRole role)
    {
        ViolationTests.AssertFails(role, Frames.To(role, Frames.CloseOp, [0x03]), WebSocketCloseCode.ProtocolError);
        ViolationTests.AssertFails(role, Frames.To(role, Frames.CloseOp, [0x00]), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [InlineData("C0 80")]
    [InlineData("ED A0 80")]
    [InlineData("E2 82")]
    [InlineData("62 79 FF")]
    [InlineData("80")]
    public void InvalidUtf8Reason_Fails1007(string reason)
    {
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            byte[] payload = Frames.Concat(Frames.ClosePayload(1000), Hex.Parse(reason));
            ViolationTests.AssertFails(role, Frames.To(role, Frames.CloseOp, payload), WebSocketCloseCode.InvalidPayloadData);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Reason123Bytes_IsAccepted(WebSocketRole role)
    {
        string reason = new string('r', 116) + "€" + "é" + "ab";   // 116 + 3 + 2 + 2 = 123 UTF-8 bytes
        Assert.Equal(123, Encoding.UTF8.GetByteCount(reason));

        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.CloseOp, Frames.ClosePayload(3000, reason)));

        Assert.Equal([RecordedEvent.Close((WebSocketCloseCode)3000, reason)], r.Events);
        OutputAssert.SingleClose(role, r.Output, 3000);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1008)]
    [InlineData(1009)]
    [InlineData(1010)]
    [InlineData(1011)]
    [InlineData(1012)]
    [InlineData(1013)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(3999)]
    [InlineData(4000)]
    [InlineData(4999)]
    public void ValidCloseCode_IsAcceptedAndEchoed(int code)
    {
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.CloseOp, Frames.ClosePayload(code, "why")), randomChunkings: 3);

            Assert.Equal([RecordedEvent.Close((WebSocketCloseCode)code, "why")], r.Events);
            OutputAssert.SingleClose(role, r.Output, code);
            Assert.Equal(WebSocketProtocolState.Closed, r.State);
        }
    }

    [Fact]
    public void CloseCodeRules()
    {
        int[] valid = [.. Enumerable.Range(1000, 4), .. Enumerable.Range(1007, 8), .. Enumerable.Range(3000, 2000)];
        for (int code = 0; code <= 65535; code++)
        {
            Assert.Equal(valid.Contains(code), WebSocketCloseCodes.IsValidOnWire(code));
        }

        Assert.False(WebSocketCloseCodes.IsValidOnWire(-1));
        Assert.False(WebSocketCloseCodes.IsValidOnWire(65536 + 1000));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void DataAfterClose_IsIgnored(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, "before"u8),
            Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1000)),
            Frames.To(role, Frames.TextOp, "after"u8),
            Frames.To(role, Frames.PingOp, "p"u8),
            Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1001)),
            Frames.To(role, 0x3, [0xFF]),   // even a violation is not looked at
            [0xFF, 0xFF, 0xFF]);

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector);

        Assert.Equal([RecordedEvent.Text("before"), RecordedEvent.Close(WebSocketCloseCode.NormalClosure, string.Empty)], r.Events);
        OutputAssert.SingleClose(role, r.Output, 1000);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void CloseInsideAFragmentedMessage_EndsTheConnection(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, "Hel"u8, fin: false),
            Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1001)),
            Frames.To(role, Frames.Continuation, "lo"u8));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector);

        Assert.Equal([RecordedEvent.Close(WebSocketCloseCode.GoingAway, string.Empty)], r.Events);
        OutputAssert.SingleClose(role, r.Output, 1001);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void AfterWriteClose_StateIsCloseSent_SendsThrow_AndPeerCloseGivesClosedWithoutSecondClose(WebSocketRole role)
    {
        using var driver = new ProtocolDriver(role);
        WebSocketProtocol p = driver.Protocol;
        var w = new ArrayBufferWriter<byte>();

        p.WriteClose(w, WebSocketCloseCode.NormalClosure, "bye");

        Assert.Equal(WebSocketProtocolState.CloseSent, p.State);
        Assert.True(p.IsCloseSent);
        Assert.False(p.HasPendingOutput);
        int written = w.WrittenCount;
        Assert.Throws<InvalidOperationException>(() => p.WriteMessage(w, WebSocketMessageKind.Text, "x"u8));
        Assert.Throws<InvalidOperationException>(() => p.WriteMessage(w, WebSocketMessageKind.Binary, []));
        Assert.Throws<InvalidOperationException>(() => p.WriteText(w, "x"));
        Assert.Throws<InvalidOperationException>(() => p.WritePing(w, []));
        Assert.Throws<InvalidOperationException>(() => p.WritePong(w, []));
        Assert.Throws<InvalidOperationException>(() => p.WriteClose(w, WebSocketCloseCode.NormalClosure));
        Assert.Throws<InvalidOperationException>(() => p.WriteClose(w, null));
        Assert.Equal(written, w.WrittenCount);

        // Data and pings still arrive until the peer's close; no pong is owed once our close is out.
        List<RecordedEvent> events = driver.FeedCopy(Frames.Concat(
            Frames.To(role, Frames.TextOp, "late"u8),
            Frames.To(role, Frames.PingOp, "p"u8),
            Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1000))));

        Assert.Equal([RecordedEvent.Text("late"), RecordedEvent.Ping("p"u8.ToArray()), RecordedEvent.Close(WebSocketCloseCode.NormalClosure, string.Empty)], events);
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
        Assert.False(p.HasPendingOutput);
        Assert.Equal(0, driver.Output.WrittenCount);
        Assert.True(p.IsReceiveCompleted);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void AfterReceivingClose_WriteCloseWritesTheOwedEchoOnce(WebSocketRole role)
    {
        using var p = new WebSocketProtocol(role);
        byte[] input = Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1001, "gone"));

        Assert.True(p.TryReadEvent(input, out int consumed, out WebSocketEvent e));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(WebSocketEventType.Close, e.Type);
        Assert.Equal(WebSocketCloseCode.GoingAway, e.CloseCode);
        Assert.Equal("gone", e.Reason);
        Assert.Equal(WebSocketProtocolState.CloseReceived, p.State);
        Assert.True(p.HasPendingOutput);
        Assert.False(p.IsCloseSent);

        var w = new ArrayBufferWriter<byte>();
        p.WriteClose(w, WebSocketCloseCode.NormalClosure, "ignored: the echo is owed");

        OutputAssert.SingleClose(role, w.WrittenSpan.ToArray(), 1001);
        Assert.False(p.HasPendingOutput);
        Assert.Equal(0, p.WritePendingOutput(w));
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
        Assert.True(p.IsCloseSent);
        Assert.Throws<InvalidOperationException>(() => p.WriteClose(w, WebSocketCloseCode.NormalClosure));
        OutputAssert.SingleClose(role, w.WrittenSpan.ToArray(), 1001);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void AfterEchoFlushed_WriteCloseThrows_NoDoubleClose(WebSocketRole role)
    {
        RunResult r;
        using (var driver = new ProtocolDriver(role))
        {
            driver.FeedCopy(Frames.To(role, Frames.CloseOp, []));
            Assert.Equal(WebSocketProtocolState.Closed, driver.Protocol.State);
            var w = new ArrayBufferWriter<byte>();
            Assert.Throws<InvalidOperationException>(() => driver.Protocol.WriteClose(w, null));
            Assert.Throws<InvalidOperationException>(() => driver.Protocol.WriteMessage(w, WebSocketMessageKind.Binary, [1]));
            Assert.Equal(0, w.WrittenCount);
            r = driver.Result();
        }

        OutputAssert.SingleClose(role, r.Output, null);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void AfterFailureNotYetFlushed_WriteCloseWritesTheFailureCloseOnly(WebSocketRole role)
    {
        using var p = new WebSocketProtocol(role);
        Assert.True(p.TryReadEvent(Frames.To(role, 0x3, []), out _, out WebSocketEvent e));
        Assert.Equal(WebSocketEventType.Failed, e.Type);
        Assert.Equal(WebSocketProtocolState.CloseReceived, p.State);

        var w = new ArrayBufferWriter<byte>();
        p.WriteClose(w, WebSocketCloseCode.NormalClosure);

        OutputAssert.SingleClose(role, w.WrittenSpan.ToArray(), 1002);
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
        Assert.False(p.HasPendingOutput);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void PongsOwedBeforeTheClose_AreWrittenBeforeTheEcho(WebSocketRole role)
    {
        using var p = new WebSocketProtocol(role);
        byte[] input = Frames.Concat(
            Frames.To(role, Frames.PingOp, "1"u8),
            Frames.To(role, Frames.PingOp, "2"u8),
            Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1000)));
        Memory<byte> rest = input;
        var types = new List<WebSocketEventType>();
        while (p.TryReadEvent(rest, out int consumed, out WebSocketEvent e))
        {
            types.Add(e.Type);
            rest = rest[consumed..];
        }

        Assert.Equal([WebSocketEventType.Ping, WebSocketEventType.Ping, WebSocketEventType.Close], types);
        var w = new ArrayBufferWriter<byte>();
        p.WriteClose(w, null);   // writes everything owed, the echo last

        OutputAssert.ControlFrames(role, w.WrittenSpan.ToArray(), (Frames.PongOp, "1"u8.ToArray()), (Frames.PongOp, "2"u8.ToArray()), (Frames.CloseOp, Frames.ClosePayload(1000)));
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
    }

    /// <summary>
    /// A pong owed (not yet flushed) when the application starts the closing handshake must not reach
    /// the wire after our close frame: the engine itself refuses to send or owe anything once its close
    /// is out (WritePong throws, OwePong drops), so the wire must end with the close frame.
    /// </summary>
    [Theory]
    [MemberData(nameof(Roles))]
    public void PongOwedBeforeWriteClose_IsNotSentAfterTheCloseFrame(WebSocketRole role)
    {
        using var p = new WebSocketProtocol(role);
        byte[] ping = Frames.To(role, Frames.PingOp, "hb"u8);
        Assert.True(p.TryReadEvent(ping, out _, out WebSocketEvent e));
        Assert.Equal(WebSocketEventType.Ping, e.Type);
        Assert.True(p.HasPendingOutput);

        // The application closes before its driver flushed the pong, then the driver flushes.
        var wire = new ArrayBufferWriter<byte>();
        p.WriteClose(wire, WebSocketCloseCode.NormalClosure);
        p.WritePendingOutput(wire);

        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        int close = frames.FindIndex(f => f.Opcode == Frames.CloseOp);
        Assert.True(close >= 0);
        Assert.True(close == frames.Count - 1, $"frames on the wire: {string.Join(", ", frames.Select(f => f.Opcode))} - a frame follows our close frame");
    }

    [Fact]
    public void CloseSplitAcrossChunks_ReasonReassembled()
    {
        byte[] vector = Frames.Build(Frames.CloseOp, Frames.ClosePayload(4001, "κόσμε €"), mask: [1, 2, 3, 4]);
        foreach (int[] chunks in new[] { Chunkings.SplitAt(vector.Length, 1), Chunkings.SplitAt(vector.Length, 6, 7), Chunkings.SplitAt(vector.Length, 8, 9, 10) })
        {
            RunResult r = ProtocolDriver.Run(WebSocketRole.Server, vector, chunks);
            Assert.Equal([RecordedEvent.Close((WebSocketCloseCode)4001, "κόσμε €")], r.Events);
            Assert.Equal("88020FA1", Hex.Format(r.Output));
        }
    }
}
