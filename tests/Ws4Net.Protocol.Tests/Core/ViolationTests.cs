namespace Ws4Net.Protocol.Tests.Core;

/// <summary>Protocol violations fail the connection with the RFC close code and queue that close frame (RFC 6455 §5.2, §5.4, §5.5, §7.1.7).</summary>
public sealed class ViolationTests
{
    public static TheoryData<WebSocketRole> Roles => [WebSocketRole.Server, WebSocketRole.Client];

    /// <summary>Runs the vector under every chunking and asserts exactly one Failed event and one close frame with the code.</summary>
    internal static RunResult AssertFails(WebSocketRole role, byte[] vector, WebSocketCloseCode code, WebSocketProtocolOptions? options = null, params RecordedEvent[] before)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, options);
        Assert.Equal([.. before, RecordedEvent.Failed(code)], r.Events);
        OutputAssert.SingleClose(role, r.Output, (int)code);
        Assert.True(r.ReceiveCompleted);
        Assert.Equal(WebSocketProtocolState.Closed, r.State);
        return r;
    }

    public static TheoryData<WebSocketRole, int, int> RsvCases()
    {
        var data = new TheoryData<WebSocketRole, int, int>();
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            foreach (int rsv in new[] { 4, 2, 1, 7 })   // RSV1 (0x40), RSV2 (0x20), RSV3 (0x10), all
            {
                foreach (int opcode in new[] { Frames.TextOp, Frames.BinaryOp, Frames.PingOp, Frames.CloseOp })
                {
                    data.Add(role, rsv, opcode);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RsvCases))]
    public void ReservedBits_Fail1002(WebSocketRole role, int rsv, int opcode)
    {
        AssertFails(role, Frames.To(role, opcode, [], rsv: rsv), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, opcode, "ab"u8, rsv: rsv), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void ReservedBitOnContinuation_Fails1002(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(Frames.To(role, Frames.TextOp, "a"u8, fin: false), Frames.To(role, Frames.Continuation, "b"u8, rsv: 4));
        AssertFails(role, vector, WebSocketCloseCode.ProtocolError);
    }

    public static TheoryData<WebSocketRole, int> ReservedOpcodes()
    {
        var data = new TheoryData<WebSocketRole, int>();
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            foreach (int opcode in new[] { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 })
            {
                data.Add(role, opcode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReservedOpcodes))]
    public void ReservedOpcode_Fails1002(WebSocketRole role, int opcode)
    {
        AssertFails(role, Frames.To(role, opcode, "Hello"u8), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, opcode, [], fin: false), WebSocketCloseCode.ProtocolError);

        // Inside a fragmented message too, after the first fragment was accepted.
        AssertFails(role, Frames.Concat(Frames.To(role, Frames.BinaryOp, [1], fin: false), Frames.To(role, opcode, [2])), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void ReservedOpcode_IsDetectedFromTheFirstByteAndLength(WebSocketRole role)
    {
        // Only the first two bytes: the engine must not wait for an announced 64-bit length or a payload.
        byte[] header = Frames.HeaderTo(role, 0x3, 1_000_000)[..2];
        using var driver = new ProtocolDriver(role);
        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], driver.FeedCopy(header));
    }

    [Theory]
    [InlineData(WebSocketRole.Server, Frames.PingOp)]
    [InlineData(WebSocketRole.Server, Frames.PongOp)]
    [InlineData(WebSocketRole.Server, Frames.CloseOp)]
    [InlineData(WebSocketRole.Client, Frames.PingOp)]
    [InlineData(WebSocketRole.Client, Frames.PongOp)]
    [InlineData(WebSocketRole.Client, Frames.CloseOp)]
    public void ControlFrameOver125Bytes_Fails1002_AtTheHeader(WebSocketRole role, int opcode)
    {
        byte[] payload = Frames.Pattern(126, seed: 126);
        payload[0] = 0x03;
        payload[1] = 0xE8;

        // Header only (16-bit length 126, plus the key towards a server): fails before the payload.
        AssertFails(role, Frames.HeaderTo(role, opcode, 126), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, opcode, payload), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, opcode, payload.AsSpan(0, 125), lengthForm: 2, declaredLength: 65535), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.HeaderTo(role, opcode, 1L << 40, lengthForm: 8), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [InlineData(WebSocketRole.Server, Frames.PingOp)]
    [InlineData(WebSocketRole.Server, Frames.PongOp)]
    [InlineData(WebSocketRole.Server, Frames.CloseOp)]
    [InlineData(WebSocketRole.Client, Frames.PingOp)]
    [InlineData(WebSocketRole.Client, Frames.PongOp)]
    [InlineData(WebSocketRole.Client, Frames.CloseOp)]
    public void FragmentedControlFrame_Fails1002(WebSocketRole role, int opcode)
    {
        byte[] payload = opcode == Frames.CloseOp ? Frames.ClosePayload(1000) : "Hello"u8.ToArray();
        AssertFails(role, Frames.To(role, opcode, payload, fin: false), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, opcode, [], fin: false), WebSocketCloseCode.ProtocolError);

        // Header only: no need to see the payload.
        AssertFails(role, Frames.HeaderTo(role, opcode, 5, fin: false), WebSocketCloseCode.ProtocolError);
    }

    [Fact]
    public void FragmentedPing_RfcBytes_Fails1002()
    {
        AssertFails(WebSocketRole.Client, Hex.Parse("09 05 48 65 6c 6c 6f"), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void ContinuationWithoutStart_Fails1002(WebSocketRole role)
    {
        AssertFails(role, Frames.To(role, Frames.Continuation, "lo"u8), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, Frames.Continuation, "lo"u8, fin: false), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.To(role, Frames.Continuation, []), WebSocketCloseCode.ProtocolError);

        // After a complete message: no message to continue any more.
        AssertFails(
            role,
            Frames.Concat(Frames.To(role, Frames.TextOp, "Hel"u8, fin: false), Frames.To(role, Frames.Continuation, "lo"u8), Frames.To(role, Frames.Continuation, "!"u8)),
            WebSocketCloseCode.ProtocolError,
            null,
            RecordedEvent.Text("Hello"));
    }

    [Fact]
    public void ContinuationWithoutStart_RfcBytes_Fails1002()
    {
        AssertFails(WebSocketRole.Client, Hex.Parse("80 02 6c 6f"), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [InlineData(WebSocketRole.Server, Frames.TextOp, Frames.TextOp)]
    [InlineData(WebSocketRole.Server, Frames.TextOp, Frames.BinaryOp)]
    [InlineData(WebSocketRole.Server, Frames.BinaryOp, Frames.TextOp)]
    [InlineData(WebSocketRole.Server, Frames.BinaryOp, Frames.BinaryOp)]
    [InlineData(WebSocketRole.Client, Frames.TextOp, Frames.TextOp)]
    [InlineData(WebSocketRole.Client, Frames.TextOp, Frames.BinaryOp)]
    [InlineData(WebSocketRole.Client, Frames.BinaryOp, Frames.TextOp)]
    [InlineData(WebSocketRole.Client, Frames.BinaryOp, Frames.BinaryOp)]
    public void NewDataFrameInsideFragmentedMessage_Fails1002(WebSocketRole role, int first, int second)
    {
        AssertFails(role, Frames.Concat(Frames.To(role, first, "Hel"u8, fin: false), Frames.To(role, second, "lo"u8)), WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.Concat(Frames.To(role, first, "Hel"u8, fin: false), Frames.To(role, second, "lo"u8, fin: false)), WebSocketCloseCode.ProtocolError);

        // Also after a continuation and an interleaved pong; the pong is still delivered.
        AssertFails(
            role,
            Frames.Concat(
                Frames.To(role, first, "He"u8, fin: false),
                Frames.To(role, Frames.Continuation, "l"u8, fin: false),
                Frames.To(role, Frames.PongOp, "p"u8),
                Frames.HeaderTo(role, second, 2)),
            WebSocketCloseCode.ProtocolError,
            null,
            RecordedEvent.Pong("p"u8.ToArray()));
    }

    [Fact]
    public void NewDataFrameInsideFragmentedMessage_RfcBytes_Fails1002()
    {
        AssertFails(WebSocketRole.Client, Hex.Parse("01 03 48 65 6c 81 02 6c 6f"), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [InlineData(WebSocketRole.Server, "8000000000000000")]
    [InlineData(WebSocketRole.Server, "FFFFFFFFFFFFFFFF")]
    [InlineData(WebSocketRole.Server, "8000000000000005")]
    [InlineData(WebSocketRole.Client, "8000000000000000")]
    [InlineData(WebSocketRole.Client, "FFFFFFFFFFFFFFFF")]
    [InlineData(WebSocketRole.Client, "8000000000000005")]
    public void SixtyFourBitLengthWithMostSignificantBit_Fails1002_AtTheHeader(WebSocketRole role, string length)
    {
        byte[] header = Frames.Concat(
            [0x82, (byte)(role == WebSocketRole.Server ? 0xFF : 0x7F)],
            Hex.Parse(length),
            role == WebSocketRole.Server ? Frames.RfcKey : []);

        AssertFails(role, header, WebSocketCloseCode.ProtocolError);
        AssertFails(role, Frames.Concat(header, "Hello"u8.ToArray()), WebSocketCloseCode.ProtocolError);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void FrameOverMaxFrameSize_Fails1009_AtTheHeader(WebSocketRole role)
    {
        var options = new WebSocketProtocolOptions { MaxFrameSize = 1000 };

        // Header only: the failure must not wait for the payload.
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, 1001), WebSocketCloseCode.MessageTooBig, options);
        AssertFails(role, Frames.HeaderTo(role, Frames.TextOp, 1001, fin: false), WebSocketCloseCode.MessageTooBig, options);
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, long.MaxValue), WebSocketCloseCode.MessageTooBig, options);
        AssertFails(role, Frames.To(role, Frames.BinaryOp, Frames.Pattern(1001)), WebSocketCloseCode.MessageTooBig, options);

        // A continuation frame over the frame limit, while the message stays under the message limit.
        AssertFails(
            role,
            Frames.Concat(Frames.To(role, Frames.BinaryOp, [1], fin: false), Frames.HeaderTo(role, Frames.Continuation, 1001)),
            WebSocketCloseCode.MessageTooBig,
            options);

        // Exactly at the limit is fine.
        byte[] atLimit = Frames.Pattern(1000, seed: 1000);
        RunResult ok = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.BinaryOp, atLimit), options);
        Assert.Equal([RecordedEvent.Binary(atLimit)], ok.Events);
        Assert.Empty(ok.Output);
    }

    [Theory]
    [InlineData(WebSocketRole.Server, false)]
    [InlineData(WebSocketRole.Server, true)]
    [InlineData(WebSocketRole.Client, false)]
    [InlineData(WebSocketRole.Client, true)]
    public void MessageOverMaxMessageSize_AcrossFragments_Fails1009_AtTheHeader(WebSocketRole role, bool deliverFragments)
    {
        var options = new WebSocketProtocolOptions { MaxMessageSize = 2000, MaxFrameSize = 1000, DeliverFragments = deliverFragments };
        byte[] a = Frames.Pattern(1000, seed: 1);
        byte[] b = Frames.Pattern(999, seed: 2);

        // 1000 + 999 + (header announcing 2 more): the third header takes the message over 2000.
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.BinaryOp, a, fin: false),
            Frames.To(role, Frames.Continuation, b, fin: false),
            Frames.HeaderTo(role, Frames.Continuation, 2));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, options, coalesceFragments: deliverFragments);
        RecordedEvent failed = RecordedEvent.Failed(WebSocketCloseCode.MessageTooBig);
        Assert.Equal(failed, r.Events[^1]);
        OutputAssert.SingleClose(role, r.Output, 1009);
        if (deliverFragments)
        {
            Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Binary, [.. a, .. b], false), failed], ProtocolDriver.Coalesce(r.Events));
        }
        else
        {
            Assert.Single(r.Events);
        }

        // Exactly 2000 is accepted.
        byte[] vectorOk = Frames.Concat(
            Frames.To(role, Frames.BinaryOp, a, fin: false),
            Frames.To(role, Frames.Continuation, b, fin: false),
            Frames.To(role, Frames.Continuation, [0x42]));
        RunResult ok = ProtocolDriver.RunAllChunkings(role, vectorOk, options, coalesceFragments: deliverFragments);
        byte[] whole = [.. a, .. b, 0x42];
        Assert.Equal(
            deliverFragments ? RecordedEvent.Fragment(WebSocketMessageKind.Binary, whole, true) : RecordedEvent.Binary(whole),
            Assert.Single(deliverFragments ? ProtocolDriver.Coalesce(ok.Events) : ok.Events));
        Assert.Empty(ok.Output);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void SingleFrameOverMaxMessageSize_Fails1009_AtTheHeader(WebSocketRole role)
    {
        var options = new WebSocketProtocolOptions { MaxMessageSize = 200 };
        AssertFails(role, Frames.HeaderTo(role, Frames.TextOp, 201), WebSocketCloseCode.MessageTooBig, options);
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, 65536), WebSocketCloseCode.MessageTooBig, options);

        // The default limit is 4 MiB: a header announcing 4 MiB + 1 fails at once.
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, (4 * 1024 * 1024) + 1), WebSocketCloseCode.MessageTooBig);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void UnlimitedMessageSize_StillFailsAMessageThatCannotBeBuffered_UnlessFragmentsAreDelivered(WebSocketRole role)
    {
        // No configured limit: a reassembled message must still fit in an array.
        var unlimited = new WebSocketProtocolOptions { MaxMessageSize = long.MaxValue };
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, 1L << 31), WebSocketCloseCode.MessageTooBig, unlimited);
        AssertFails(role, Frames.HeaderTo(role, Frames.BinaryOp, 1L << 40), WebSocketCloseCode.MessageTooBig, unlimited);

        // Streamed as fragments, the same header is fine: nothing needs buffering.
        var streamed = new WebSocketProtocolOptions { MaxMessageSize = long.MaxValue, DeliverFragments = true };
        byte[] vector = Frames.To(role, Frames.BinaryOp, [1, 2, 3], declaredLength: 1L << 40);
        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, streamed, coalesceFragments: true);
        Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Binary, [1, 2, 3], false)], ProtocolDriver.Coalesce(r.Events));
        Assert.Empty(r.Output);
        Assert.False(r.ReceiveCompleted);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void ControlFramesDoNotCountTowardsMessageSize(WebSocketRole role)
    {
        var options = new WebSocketProtocolOptions { MaxMessageSize = 200, MaxFrameSize = 125 };
        byte[] a = Frames.Pattern(100, seed: 5);
        byte[] b = Frames.Pattern(100, seed: 6);
        byte[] ping = Frames.Pattern(125, seed: 7);
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.BinaryOp, a, fin: false),
            Frames.To(role, Frames.PingOp, ping),
            Frames.To(role, Frames.PongOp, ping),
            Frames.To(role, Frames.Continuation, b));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, options);

        Assert.Equal([RecordedEvent.Ping(ping), RecordedEvent.Pong(ping), RecordedEvent.Binary([.. a, .. b])], r.Events);
        OutputAssert.ControlFrames(role, r.Output, (Frames.PongOp, ping));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void AfterFailure_FurtherInputIsConsumedAndIgnored(WebSocketRole role)
    {
        using var driver = new ProtocolDriver(role);
        byte[] good = Frames.To(role, Frames.TextOp, "Hello"u8);
        byte[] bad = Frames.To(role, 0x3, "x"u8);

        // The bad frame and good data in one buffer: only the failure.
        Assert.Equal([RecordedEvent.Text("Hello"), RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], driver.FeedCopy(Frames.Concat(good, bad, good, good)));
        byte[] output = driver.Output.WrittenSpan.ToArray();
        OutputAssert.SingleClose(role, output, 1002);
        Assert.Equal(WebSocketProtocolState.Closed, driver.Protocol.State);

        // Later input of any kind: false, all consumed, no event, nothing owed.
        foreach (byte[] later in new[] { good, bad, Frames.To(role, Frames.PingOp, "p"u8), Frames.To(role, Frames.CloseOp, Frames.ClosePayload(1000)), new byte[] { 0x81 }, Array.Empty<byte>() })
        {
            byte[] copy = later.ToArray();
            Assert.False(driver.Protocol.TryReadEvent(copy, out int consumed, out WebSocketEvent e));
            Assert.Equal(copy.Length, consumed);
            Assert.Equal(WebSocketEventType.None, e.Type);
            Assert.False(driver.Protocol.HasPendingOutput);
        }

        Assert.Empty(driver.FeedCopy(Frames.Concat(good, good)));
        Assert.Equal(Hex.Format(output), Hex.Format(driver.Output.WrittenSpan));
        Assert.True(driver.Protocol.IsReceiveCompleted);
    }

    [Fact]
    public void FailureCloseIsOwedUntilFlushed_StateCloseReceivedThenClosed()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        byte[] input = Hex.Parse("81 05 48 65 6c 6c 6f");

        Assert.True(p.TryReadEvent(input, out int consumed, out WebSocketEvent e));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(WebSocketEventType.Failed, e.Type);
        Assert.Equal(WebSocketCloseCode.ProtocolError, e.CloseCode);
        Assert.False(string.IsNullOrEmpty(e.Reason));
        Assert.True(e.Payload.IsEmpty);
        Assert.True(p.HasPendingOutput);
        Assert.Equal(WebSocketProtocolState.CloseReceived, p.State);
        Assert.False(p.IsCloseSent);

        var w = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.Equal(4, p.WritePendingOutput(w));
        Assert.Equal("880203EA", Hex.Format(w.WrittenSpan));
        Assert.True(p.IsCloseSent);
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
        Assert.False(p.HasPendingOutput);
        Assert.Equal(0, p.WritePendingOutput(w));
        Assert.Throws<InvalidOperationException>(() => p.WriteClose(w, WebSocketCloseCode.NormalClosure));
        Assert.Throws<InvalidOperationException>(() => p.WriteMessage(w, WebSocketMessageKind.Text, "x"u8));
    }

    [Fact]
    public void FailureAfterOwnClose_OwesNoSecondClose()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new System.Buffers.ArrayBufferWriter<byte>();
        p.WriteClose(w, WebSocketCloseCode.NormalClosure);
        Assert.Equal(WebSocketProtocolState.CloseSent, p.State);

        Assert.True(p.TryReadEvent(Hex.Parse("81 05 48 65 6c 6c 6f"), out _, out WebSocketEvent e));

        Assert.Equal(WebSocketEventType.Failed, e.Type);
        Assert.False(p.HasPendingOutput);
        Assert.Equal(WebSocketProtocolState.Closed, p.State);
        Assert.Equal("880203E8", Hex.Format(w.WrittenSpan));
    }
}
