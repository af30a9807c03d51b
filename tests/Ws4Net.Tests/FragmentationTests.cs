using System.Text;

namespace Ws4Net.Tests;

/// <summary>Fragmented messages through real sockets: sent in pieces, auto-fragmented, delivered as fragments.</summary>
public sealed class FragmentationTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BinarySentInFragments_IsEchoedAsOneMessage(bool secure)
    {
        TestServer server = fixture.Get(secure);
        await using WebSocketConnection client = await server.ConnectAsync("/echo");
        byte[] whole = Payloads.Binary(300_000, seed: 3);
        await client.SendAsync(whole.AsMemory(0, 1), WebSocketMessageKind.Binary, false).WithTimeout();
        await client.SendAsync(whole.AsMemory(1, 100_000), WebSocketMessageKind.Binary, false).WithTimeout();
        await client.SendPingAsync("between fragments"u8.ToArray()).WithTimeout(); // control frames may interleave
        await client.SendAsync(whole.AsMemory(100_001), WebSocketMessageKind.Binary, true).WithTimeout();

        WebSocketMessage? reply = await client.ReceiveAsync().WithTimeout();
        Assert.Equal(WebSocketMessageKind.Binary, reply!.Value.Type);
        Assert.True(reply.Value.EndOfMessage);
        Assert.True(reply.Value.Payload.Span.SequenceEqual(whole));
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task TextSentInFragments_SplitBetweenCodePoints_IsEchoedAsOneMessage()
    {
        await using WebSocketConnection client = await fixture.Plain.ConnectAsync("/echo");
        string text = "héllo – 你好 – 😀 end";
        int split = text.IndexOf('–', StringComparison.Ordinal);
        await client.SendTextAsync(text.AsMemory(0, split), false).WithTimeout();
        await client.SendTextAsync(text.AsMemory(split), true).WithTimeout();
        Assert.Equal(text, (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task TextSentInFragments_SplitInsideASurrogatePair_KeepsTheCharacter()
    {
        await using WebSocketConnection client = await fixture.Plain.ConnectAsync("/echo");
        string text = "a😀b"; // 😀 is two UTF-16 chars: split between them
        Assert.True(char.IsHighSurrogate(text[1]));
        await client.SendTextAsync(text.AsMemory(0, 2), false).WithTimeout();
        await client.SendTextAsync(text.AsMemory(2), true).WithTimeout();
        WebSocketMessage? reply = await client.ReceiveAsync().WithTimeout();
        Assert.NotNull(reply);
        Assert.Equal(Convert.ToHexString(Encoding.UTF8.GetBytes(text)), Convert.ToHexString(reply.Value.Payload.Span));
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task AnotherDataMessageWhileAFragmentedOneIsInProgress_WaitsBehindIt()
    {
        await using WebSocketConnection client = await fixture.Plain.ConnectAsync("/echo");
        await client.SendAsync("part 1"u8.ToArray(), WebSocketMessageKind.Binary, false).WithTimeout();

        // A complete message from another caller is never encoded as a continuation: it is queued after the final fragment.
        await client.SendTextAsync("interloper").WithTimeout();
        await client.SendAsync("part 2"u8.ToArray(), WebSocketMessageKind.Binary, true).WithTimeout();
        WebSocketMessage first = (await client.ReceiveAsync().WithTimeout())!.Value;
        Assert.Equal(WebSocketMessageKind.Binary, first.Type);
        Assert.Equal("part 1part 2", Encoding.UTF8.GetString(first.Payload.Span));
        WebSocketMessage second = (await client.ReceiveAsync().WithTimeout())!.Value;
        Assert.Equal(WebSocketMessageKind.Text, second.Type);
        Assert.Equal("interloper", second.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AutoFragmentedSend_IsReassembledByTheServer(bool secure)
    {
        TestServer server = fixture.Get(secure);
        var options = server.ClientOptions();
        options.Connection.Protocol.MaxSendFrameSize = 1000;
        await using WebSocketConnection client = await server.ConnectAsync("/echo", options);
        byte[] data = Payloads.Binary(25_000, seed: 9);
        string text = Payloads.Utf8Text(25_000, seed: 9);
        await client.SendBinaryAsync(data).WithTimeout();
        await client.SendTextAsync(text).WithTimeout();
        Assert.True((await client.ReceiveAsync().WithTimeout())!.Value.Payload.Span.SequenceEqual(data));
        Assert.Equal(text, (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task DeliverFragments_ClientReceivesTheMessageInPiecesThatAddUp()
    {
        TestServer server = fixture.Plain;
        var options = server.ClientOptions();
        options.Connection.Protocol.DeliverFragments = true;
        await using WebSocketConnection client = await server.ConnectAsync("/echo", options);
        byte[] data = Payloads.Binary(2 * 1024 * 1024, seed: 11);
        await client.SendBinaryAsync(data).WithTimeout();

        using var assembled = new MemoryStream();
        int pieces = 0;
        while (true)
        {
            WebSocketMessage? piece = await client.ReceiveAsync().WithTimeout();
            Assert.NotNull(piece);
            Assert.Equal(WebSocketMessageKind.Binary, piece.Value.Type);
            assembled.Write(piece.Value.Payload.Span);
            pieces++;
            if (piece.Value.EndOfMessage)
            {
                break;
            }
        }

        Assert.True(assembled.ToArray().AsSpan().SequenceEqual(data));
        Assert.True(pieces > 1, "a 2 MiB message should arrive in several reads");
        await client.CloseAsync().WithTimeout();
    }
}
