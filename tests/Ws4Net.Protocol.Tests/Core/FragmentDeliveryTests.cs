namespace Ws4Net.Protocol.Tests.Core;

/// <summary><see cref="WebSocketProtocolOptions.DeliverFragments"/>: data as it arrives, as Fragment events.</summary>
public sealed class FragmentDeliveryTests
{
    private static WebSocketProtocolOptions Fragments() => new() { DeliverFragments = true };

    public static TheoryData<WebSocketRole> Roles => [WebSocketRole.Server, WebSocketRole.Client];

    [Fact]
    public void RfcFragmentedText_ArrivesAsTwoFragments_EndOfMessageOnlyOnTheLast()
    {
        byte[] vector = Hex.Parse("01 03 48 65 6c 80 02 6c 6f");

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, vector, Fragments(), coalesceFragments: true);

        Assert.Equal(
            [
                RecordedEvent.Fragment(WebSocketMessageKind.Text, "Hel"u8.ToArray(), false),
                RecordedEvent.Fragment(WebSocketMessageKind.Text, "lo"u8.ToArray(), true),
            ],
            r.Events);

        // Byte by byte: one fragment per payload byte, EndOfMessage only on the very last one.
        RunResult b = ProtocolDriver.Run(WebSocketRole.Client, vector, Chunkings.ByteByByte(vector.Length), Fragments());
        Assert.All(b.Events, e => Assert.Equal(WebSocketEventType.Fragment, e.Type));
        Assert.All(b.Events, e => Assert.Equal(WebSocketMessageKind.Text, e.MessageType));
        Assert.Equal([false, false, false, false, true], b.Events.Select(e => e.EndOfMessage));
        Assert.Equal("Hello"u8.ToArray(), b.Events.SelectMany(e => e.Payload).ToArray());
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void SingleFrameMessage_IsOneFragmentWithEndOfMessage(WebSocketRole role)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.BinaryOp, [1, 2, 3]), Fragments(), coalesceFragments: true);

        Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Binary, [1, 2, 3], true)], r.Events);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void LargeSingleFrameFedInChunks_YieldsSeveralFragments_ConcatenatingToThePayload(WebSocketRole role)
    {
        byte[] payload = Frames.Pattern(100_003, seed: 100);
        byte[] vector = Frames.To(role, Frames.BinaryOp, payload);
        using var driver = new ProtocolDriver(role, Fragments());

        driver.FeedChunked(vector, Enumerable.Repeat(1000, vector.Length / 1000).Append(vector.Length % 1000));

        List<RecordedEvent> events = driver.Events;
        Assert.True(events.Count >= 100, $"{events.Count} fragments");
        Assert.All(events, e => Assert.Equal(WebSocketEventType.Fragment, e.Type));
        Assert.All(events, e => Assert.Equal(WebSocketMessageKind.Binary, e.MessageType));
        Assert.All(events, e => Assert.NotEmpty(e.Payload));
        Assert.All(events.Take(events.Count - 1), e => Assert.False(e.EndOfMessage));
        Assert.True(events[^1].EndOfMessage);
        Assert.True(payload.AsSpan().SequenceEqual(events.SelectMany(e => e.Payload).ToArray()));
        Assert.Equal(0, driver.Output.WrittenCount);

        // Any other chunking gives the same bytes.
        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, Fragments(), coalesceFragments: true, randomChunkings: 3);
        Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Binary, payload, true)], r.Events);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void LargeTextFrameInChunks_FragmentsMayEndInsideACodePoint(WebSocketRole role)
    {
        string text = string.Concat(Enumerable.Repeat("a€\U0001F600", 2000));
        byte[] payload = System.Text.Encoding.UTF8.GetBytes(text);
        byte[] vector = Frames.To(role, Frames.TextOp, payload);
        using var driver = new ProtocolDriver(role, Fragments());

        driver.FeedChunked(vector, Enumerable.Repeat(7, vector.Length / 7).Append(vector.Length % 7));

        Assert.True(driver.Events.Count > 1000);
        Assert.All(driver.Events, e => Assert.Equal(WebSocketMessageKind.Text, e.MessageType));
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString(driver.Events.SelectMany(e => e.Payload).ToArray()));
        Assert.Single(driver.Events, e => e.EndOfMessage);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void EmptyFrames_NonFinalGiveNoEvent_FinalGivesAnEmptyLastFragment(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, [], fin: false),
            Frames.To(role, Frames.Continuation, [], fin: false),
            Frames.To(role, Frames.Continuation, "abc"u8, fin: false),
            Frames.To(role, Frames.Continuation, []),
            Frames.To(role, Frames.BinaryOp, []));

        RunResult whole = ProtocolDriver.Run(role, vector, Chunkings.Whole(vector.Length), Fragments());
        Assert.Equal(
            [
                RecordedEvent.Fragment(WebSocketMessageKind.Text, "abc"u8.ToArray(), false),
                RecordedEvent.Fragment(WebSocketMessageKind.Text, [], true),
                RecordedEvent.Fragment(WebSocketMessageKind.Binary, [], true),
            ],
            whole.Events);

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, Fragments(), coalesceFragments: true);
        Assert.Equal(
            [
                RecordedEvent.Fragment(WebSocketMessageKind.Text, "abc"u8.ToArray(), true),
                RecordedEvent.Fragment(WebSocketMessageKind.Binary, [], true),
            ],
            ProtocolDriver.Coalesce(r.Events));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void PingBetweenFragments_ComesBetweenTheFragmentEvents(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.BinaryOp, [1, 2], fin: false),
            Frames.To(role, Frames.PingOp, [9]),
            Frames.To(role, Frames.Continuation, [3]));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, Fragments(), coalesceFragments: true);

        Assert.Equal(
            [
                RecordedEvent.Fragment(WebSocketMessageKind.Binary, [1, 2], false),
                RecordedEvent.Ping([9]),
                RecordedEvent.Fragment(WebSocketMessageKind.Binary, [3], true),
            ],
            r.Events);
        OutputAssert.ControlFrames(role, r.Output, (Frames.PongOp, [9]));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void InvalidUtf8InALaterFragment_FailsAfterEarlierFragmentsWereDelivered(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, "Hel"u8, fin: false),
            Frames.To(role, Frames.Continuation, Hex.Parse("6C C0 6F")));

        RunResult whole = ProtocolDriver.Run(role, vector, Chunkings.Whole(vector.Length), Fragments());
        Assert.Equal([RecordedEvent.Fragment(WebSocketMessageKind.Text, "Hel"u8.ToArray(), false), RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData)], whole.Events);
        OutputAssert.SingleClose(role, whole.Output, 1007);

        // Under other chunkings the valid "l" before the invalid byte may be delivered first; nothing after it is.
        foreach (int[] chunks in new[] { Chunkings.ByteByByte(vector.Length), Chunkings.Random(vector.Length, 1), Chunkings.Random(vector.Length, 2) })
        {
            RunResult r = ProtocolDriver.Run(role, vector, chunks, Fragments());
            List<RecordedEvent> c = ProtocolDriver.Coalesce(r.Events);
            Assert.Equal(2, c.Count);
            Assert.Contains(System.Text.Encoding.ASCII.GetString(c[0].Payload), new[] { "Hel", "Hell" });
            Assert.False(c[0].EndOfMessage);
            Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData), c[1]);
            OutputAssert.SingleClose(role, r.Output, 1007);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void MessagesAfterFragmentedOnes_StartFresh(WebSocketRole role)
    {
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.TextOp, Hex.Parse("E2 82"), fin: false),
            Frames.To(role, Frames.Continuation, Hex.Parse("AC")),
            Frames.To(role, Frames.BinaryOp, [0xFF], fin: false),
            Frames.To(role, Frames.Continuation, [0xFE]),
            Frames.To(role, Frames.TextOp, "z"u8));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector, Fragments(), coalesceFragments: true);

        Assert.Equal(
            [
                RecordedEvent.Fragment(WebSocketMessageKind.Text, Hex.Parse("E2 82 AC"), true),
                RecordedEvent.Fragment(WebSocketMessageKind.Binary, [0xFF, 0xFE], true),
                RecordedEvent.Fragment(WebSocketMessageKind.Text, "z"u8.ToArray(), true),
            ],
            ProtocolDriver.Coalesce(r.Events));
    }
}
