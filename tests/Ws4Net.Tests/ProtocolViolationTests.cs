using System.Text;

namespace Ws4Net.Tests;

/// <summary>
/// A raw client that completes the handshake and then breaks the protocol: the server must fail the
/// connection with the right close code (a bare close frame, RFC 6455 §7.1.7) and then close TCP.
/// </summary>
public sealed class ProtocolViolationTests : IAsyncLifetime
{
    private const int SmallLimit = 1024;

    private TestServer _server = null!;
    private TestServer _small = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(configure: LoopbackFixture.Configure);
        _small = await TestServer.StartAsync(configure: o => o.Connection.Protocol.MaxMessageSize = SmallLimit);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _small.DisposeAsync();
    }

    /// <summary>Handshakes on /record, sends <paramref name="bytes"/>, returns everything the server sent until it closed TCP, and the handler.</summary>
    private static async Task<(byte[] Reply, RecordingHandler Handler)> ViolateAsync(TestServer server, byte[] bytes)
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(server.Port, $"/record?id={id}");
        RecordingHandler handler = await server.HandlerAsync<RecordingHandler>(id);
        await raw.WriteAsync(bytes);
        byte[] reply = await raw.ReadToEndAsync(TimeSpan.FromSeconds(10));
        await handler.Closed.WithTimeout();
        return (reply, handler);
    }

    [Fact]
    public async Task UnmaskedFrameFromClient_GetsClose1002_ThenTcpClose()
    {
        (byte[] reply, RecordingHandler handler) = await ViolateAsync(_server, RawClient.Frame(0x1, "hi"u8, mask: false));
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xEA }, reply);
        Assert.Equal(WebSocketCloseCode.ProtocolError, (await handler.Closed).Code);
        Assert.DoesNotContain(handler.Events, e => e.StartsWith("text:", StringComparison.Ordinal));
    }

    public static TheoryData<string, byte[]> OtherProtocolErrors() => new()
    {
        { "reserved bit RSV1 without extension", [0xC1, 0x80, 0, 0, 0, 0] },
        { "unknown data opcode 0x3", RawClient.Frame(0x3, "x"u8) },
        { "unknown control opcode 0xB", RawClient.Frame(0xB, default) },
        { "fragmented ping", RawClient.Frame(0x9, "p"u8, fin: false) },
        { "ping over 125 bytes", RawClient.Frame(0x9, new byte[126]) },
        { "continuation without a message", RawClient.Frame(0x0, "c"u8) },
        { "new text frame inside a fragmented message", [.. RawClient.Frame(0x1, "a"u8, fin: false), .. RawClient.Frame(0x1, "b"u8)] },
        { "close with a 1-byte payload", RawClient.Frame(0x8, new byte[] { 0x03 }) },
    };

    [Theory]
    [MemberData(nameof(OtherProtocolErrors))]
    public async Task OtherFramingViolations_GetClose1002(string violation, byte[] bytes)
    {
        (byte[] reply, _) = await ViolateAsync(_server, bytes);
        Assert.True(new byte[] { 0x88, 0x02, 0x03, 0xEA }.AsSpan().SequenceEqual(reply), $"{violation}: got {Convert.ToHexString(reply)}");
    }

    [Theory]
    [InlineData("C328")] // invalid continuation byte
    [InlineData("EDA080")] // UTF-16 surrogate encoded in UTF-8
    [InlineData("F4908080")] // above U+10FFFF
    [InlineData("C0AF")] // overlong '/'
    [InlineData("FF")]
    public async Task InvalidUtf8InText_GetsClose1007(string hex)
    {
        byte[] payload = [.. "ok "u8, .. Convert.FromHexString(hex)];
        (byte[] reply, RecordingHandler handler) = await ViolateAsync(_server, RawClient.Frame(0x1, payload));
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xEF }, reply);
        Assert.Equal(WebSocketCloseCode.InvalidPayloadData, (await handler.Closed).Code);
    }

    [Fact]
    public async Task InvalidUtf8SplitAcrossFragments_GetsClose1007()
    {
        byte[] bytes = [.. RawClient.Frame(0x1, "abc"u8, fin: false), .. RawClient.Frame(0x0, new byte[] { 0xC3 }, fin: false), .. RawClient.Frame(0x0, new byte[] { 0x28 })];
        (byte[] reply, _) = await ViolateAsync(_server, bytes);
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xEF }, reply);
    }

    [Fact]
    public async Task FrameHeaderAnnouncingMoreThanMaxMessageSize_GetsClose1009_BeforeAnyPayload()
    {
        // 33 MiB announced against a 32 MiB limit: only the header (and mask) is ever sent.
        byte[] header = RawClient.Frame(0x2, default, announcedLength: 33L * 1024 * 1024);
        (byte[] reply, RecordingHandler handler) = await ViolateAsync(_server, header);
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xF1 }, reply);
        Assert.Equal(WebSocketCloseCode.MessageTooBig, (await handler.Closed).Code);
    }

    [Fact]
    public async Task FrameOverASmallLimit_GetsClose1009()
    {
        (byte[] reply, _) = await ViolateAsync(_small, RawClient.Frame(0x2, Payloads.Binary(SmallLimit + 1)));
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xF1 }, reply);
    }

    [Fact]
    public async Task FragmentsSummingOverTheLimit_GetClose1009()
    {
        byte[] bytes = [.. RawClient.Frame(0x2, Payloads.Binary(700), fin: false), .. RawClient.Frame(0x0, Payloads.Binary(700, seed: 2))];
        (byte[] reply, RecordingHandler handler) = await ViolateAsync(_small, bytes);
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xF1 }, reply);
        Assert.DoesNotContain(handler.Events, e => e.StartsWith("binary:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MessageExactlyAtTheLimit_IsAccepted()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_small.Port, $"/record?id={id}");
        RecordingHandler handler = await _small.HandlerAsync<RecordingHandler>(id);
        await raw.WriteAsync(RawClient.Frame(0x2, Payloads.Binary(SmallLimit)));
        ReceivedMessage message = await handler.Messages.ReadAsync().AsTask().WithTimeout();
        Assert.Equal(Payloads.Binary(SmallLimit), message.Payload);
    }

    [Fact]
    public async Task OurClient_SendingOverTheServersLimit_SeesClose1009()
    {
        await using WebSocketConnection client = await _small.ConnectAsync("/echo");
        await client.SendBinaryAsync(Payloads.Binary(SmallLimit * 2)).WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        Assert.Equal(WebSocketCloseCode.MessageTooBig, client.CloseStatus!.Value.Code);
    }

    [Fact]
    public async Task ValidFragmentedTextFromRawClient_IsReassembled()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/record?id={id}");
        RecordingHandler handler = await _server.HandlerAsync<RecordingHandler>(id);
        byte[] euro = Encoding.UTF8.GetBytes("€"); // split inside the code point
        await raw.WriteAsync([.. RawClient.Frame(0x1, [.. "price: "u8, euro[0]], fin: false), .. RawClient.Frame(0x9, "mid"u8), .. RawClient.Frame(0x0, [euro[1], euro[2], .. "5"u8])]);
        ReceivedMessage message = await handler.Messages.ReadAsync().AsTask().WithTimeout();
        Assert.Equal("price: €5", message.Text);

        RawFrame pong = await raw.ReadFrameAsync(); // the ping between fragments was answered
        Assert.Equal(0xA, pong.Opcode);
        Assert.Equal("mid"u8.ToArray(), pong.Payload);
    }
}
