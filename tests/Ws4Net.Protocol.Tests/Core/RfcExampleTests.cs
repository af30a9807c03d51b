using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>The frame examples of RFC 6455 §5.7, byte for byte, under every chunking.</summary>
public sealed class RfcExampleTests
{
    private static readonly byte[] Hello = "Hello"u8.ToArray();

    [Fact]
    public void SingleFrameUnmaskedText_ClientReceivesHello()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse("81 05 48 65 6c 6c 6f"));

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
        Assert.Empty(r.Output);
        Assert.Equal(WebSocketProtocolState.Open, r.State);
        Assert.False(r.ReceiveCompleted);
    }

    [Fact]
    public void SingleFrameMaskedText_ServerReceivesHello()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Hex.Parse("81 85 37 fa 21 3d 7f 9f 4d 51 58"));

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
        Assert.Empty(r.Output);
        Assert.Equal(WebSocketProtocolState.Open, r.State);
    }

    [Fact]
    public void FragmentedUnmaskedText_ClientReceivesOneMessage()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse("01 03 48 65 6c 80 02 6c 6f"));

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void FragmentedMaskedText_ServerReceivesOneMessage()
    {
        byte[] vector = Frames.Concat(
            Frames.Build(Frames.TextOp, "Hel"u8, fin: false, mask: Frames.RfcKey),
            Frames.Build(Frames.Continuation, "lo"u8, mask: [0x01, 0x02, 0x03, 0x04]));

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, vector);

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void UnmaskedPing_ClientReceives_OwesMaskedPongWithSameBody()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse("89 05 48 65 6c 6c 6f"));

        Assert.Equal([RecordedEvent.Ping(Hello)], r.Events);
        byte[] o = r.Output;
        Assert.Equal(11, o.Length);
        Assert.Equal(0x8A, o[0]);                 // FIN + pong, no RSV
        Assert.Equal(0x85, o[1]);                 // mask bit + length 5
        byte[] key = o[2..6];
        byte[] body = new byte[5];
        for (int i = 0; i < 5; i++)
        {
            body[i] = (byte)(o[6 + i] ^ key[i % 4]);
        }

        Assert.Equal(Hello, body);
        Assert.Equal(WebSocketProtocolState.Open, r.State);
    }

    [Fact]
    public void MaskedPing_ServerReceives_OwesUnmaskedPongFromRfc()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Hex.Parse("89 85 37 fa 21 3d 7f 9f 4d 51 58"));

        Assert.Equal([RecordedEvent.Ping(Hello)], r.Events);
        Assert.Equal("8A0548656C6C6F", Hex.Format(r.Output));
    }

    [Fact]
    public void MaskedPong_ServerReceives_PongEventNothingOwed()
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, Hex.Parse("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));

        Assert.Equal([RecordedEvent.Pong(Hello)], r.Events);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Binary256_With16BitLength()
    {
        byte[] data = Frames.Pattern(256, seed: 256);
        byte[] vector = Frames.Concat(Hex.Parse("82 7E 01 00"), data);

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, vector);

        Assert.Equal([RecordedEvent.Binary(data)], r.Events);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Binary256_With16BitLength_Masked()
    {
        byte[] data = Frames.Pattern(256, seed: 257);
        byte[] vector = Frames.Build(Frames.BinaryOp, data, mask: Frames.RfcKey);
        Assert.Equal("82FE010037FA213D", Hex.Format(vector.AsSpan(0, 8)));

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, vector);

        Assert.Equal([RecordedEvent.Binary(data)], r.Events);
    }

    [Fact]
    public void Binary64KiB_With64BitLength()
    {
        byte[] data = Frames.Pattern(65536, seed: 65536);
        byte[] vector = Frames.Concat(Hex.Parse("82 7F 00 00 00 00 00 01 00 00"), data);

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, vector);

        Assert.Equal([RecordedEvent.Binary(data)], r.Events);
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Binary64KiB_With64BitLength_Masked()
    {
        byte[] data = Frames.Pattern(65536, seed: 65537);
        byte[] vector = Frames.Build(Frames.BinaryOp, data, mask: [0x9C, 0x01, 0xFF, 0x40]);
        Assert.Equal("82FF00000000000100009C01FF40", Hex.Format(vector.AsSpan(0, 14)));

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, vector);

        Assert.Equal([RecordedEvent.Binary(data)], r.Events);
    }

    [Theory]
    [InlineData("81 7E 00 05 48 65 6c 6c 6f")]
    [InlineData("81 7F 00 00 00 00 00 00 00 05 48 65 6c 6c 6f")]
    public void NonMinimalLengthEncodings_AreAccepted_Client(string hex)
    {
        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, Hex.Parse(hex));

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
        Assert.Empty(r.Output);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void NonMinimalLengthEncodings_AreAccepted_Server(int form)
    {
        byte[] vector = Frames.Build(Frames.TextOp, Hello, mask: Frames.RfcKey, lengthForm: form);

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Server, vector);

        Assert.Equal([RecordedEvent.Text("Hello")], r.Events);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(8)]
    public void EmptyMessages_InEveryLengthForm(int form)
    {
        byte[] vector = Frames.Concat(
            Frames.Build(Frames.TextOp, [], lengthForm: form),
            Frames.Build(Frames.BinaryOp, [], lengthForm: form));

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, vector);

        Assert.Equal([RecordedEvent.Text(string.Empty), RecordedEvent.Binary([])], r.Events);
    }

    [Fact]
    public void AllExamplesBackToBack_InOneStream()
    {
        byte[] big = Frames.Pattern(65536, seed: 3);
        byte[] vector = Frames.Concat(
            Hex.Parse("81 05 48 65 6c 6c 6f"),
            Hex.Parse("01 03 48 65 6c"),
            Hex.Parse("89 05 48 65 6c 6c 6f"),   // a ping between the fragments
            Hex.Parse("80 02 6c 6f"),
            Hex.Parse("8a 05 48 65 6c 6c 6f"),
            Hex.Parse("82 7E 01 00"),
            big[..256],
            Hex.Parse("82 7F 00 00 00 00 00 01 00 00"),
            big);

        RunResult r = ProtocolDriver.RunAllChunkings(WebSocketRole.Client, vector);

        Assert.Equal(
            [
                RecordedEvent.Text("Hello"),
                RecordedEvent.Ping(Hello),
                RecordedEvent.Text("Hello"),
                RecordedEvent.Pong(Hello),
                RecordedEvent.Binary(big[..256]),
                RecordedEvent.Binary(big),
            ],
            r.Events);
        OutputAssert.ControlFrames(WebSocketRole.Client, r.Output, (Frames.PongOp, Hello));
        Assert.Equal("Hello", Encoding.UTF8.GetString(r.OutputFrames[0].Payload));
    }
}
