namespace Ws4Net.Protocol.Tests.Core;

/// <summary>RFC 6455 §5.1: a client masks every frame, a server masks none; the wrong masking fails the connection with 1002.</summary>
public sealed class RoleTests
{
    public static TheoryData<int> Opcodes => [Frames.TextOp, Frames.BinaryOp, Frames.CloseOp, Frames.PingOp, Frames.PongOp];

    [Fact]
    public void Server_ReceivingUnmaskedFrame_Fails1002_WithExactCloseFrame()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Hex.Parse("81 05 48 65 6c 6c 6f"));

        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], r.Events);
        Assert.Equal("880203EA", Hex.Format(r.Output));
        Assert.True(r.ReceiveCompleted);
        Assert.Equal(WebSocketProtocolState.Closed, r.State);   // failed, and the failure close was flushed
    }

    [Fact]
    public void Client_ReceivingMaskedFrame_Fails1002_WithMaskedCloseFrame()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse("81 85 37 fa 21 3d 7f 9f 4d 51 58"));

        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], r.Events);
        byte[] o = r.Output;
        Assert.Equal(8, o.Length);
        Assert.Equal(0x88, o[0]);
        Assert.Equal(0x82, o[1]);   // mask bit + 2-byte payload
        Assert.Equal(0x03, o[6] ^ o[2]);
        Assert.Equal(0xEA, o[7] ^ o[3]);
        Assert.True(r.ReceiveCompleted);
    }

    [Theory]
    [MemberData(nameof(Opcodes))]
    public void WrongMasking_FailsForEveryOpcode(int opcode)
    {
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            byte[] payload = opcode == Frames.CloseOp ? Frames.ClosePayload(1000) : "x"u8.ToArray();
            RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.WronglyMaskedTo(role, opcode, payload));

            Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], r.Events);
            OutputAssert.SingleClose(role, r.Output, 1002);
        }
    }

    [Theory]
    [InlineData(WebSocketRole.Server, "8105")]
    [InlineData(WebSocketRole.Server, "8900")]
    [InlineData(WebSocketRole.Client, "81FE")]
    [InlineData(WebSocketRole.Client, "8280")]
    public void WrongMasking_IsDetectedFromTheFirstTwoBytes(WebSocketRole role, string header)
    {
        using var driver = new ProtocolDriver(role);

        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], driver.FeedCopy(Hex.Parse(header)));
        OutputAssert.SingleClose(role, driver.Output.WrittenSpan.ToArray(), 1002);
    }

    [Fact]
    public void WrongMasking_AfterValidMessages_FailsOnlyAtTheBadFrame()
    {
        byte[] vector = Frames.Concat(
            Frames.To(WebSocketRole.Server, Frames.TextOp, "one"u8),
            Frames.To(WebSocketRole.Server, Frames.PingOp, "p"u8),
            Frames.WronglyMaskedTo(WebSocketRole.Server, Frames.TextOp, "two"u8),
            Frames.To(WebSocketRole.Server, Frames.TextOp, "three"u8));

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, vector);

        Assert.Equal([RecordedEvent.Text("one"), RecordedEvent.Ping("p"u8.ToArray()), RecordedEvent.Failed(WebSocketCloseCode.ProtocolError)], r.Events);
        Assert.Equal("8A0170" + "880203EA", Hex.Format(r.Output));
    }

    [Fact]
    public void RoleAndOptions_AreExposed()
    {
        var options = new WebSocketProtocolOptions();
        using var server = new WebSocketProtocol(WebSocketRole.Server, options);
        using var client = new WebSocketProtocol(WebSocketRole.Client);

        Assert.Equal(WebSocketRole.Server, server.Role);
        Assert.Same(options, server.Options);
        Assert.Equal(WebSocketRole.Client, client.Role);
        Assert.Same(WebSocketProtocolOptions.Default, client.Options);
        Assert.Equal(WebSocketProtocolState.Open, client.State);
        Assert.False(client.HasPendingOutput);
        Assert.False(client.IsCloseSent);
        Assert.False(client.IsReceiveCompleted);
    }
}
