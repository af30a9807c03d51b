using System.Text;

namespace Ws4Net.Tests;

/// <summary>Echo through real sockets, ws and wss, text and binary, across the frame-length encodings.</summary>
public sealed class EchoTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private const int SixteenMiB = 16 * 1024 * 1024;

    public static TheoryData<bool, WebSocketMessageKind, int> Cases()
    {
        var data = new TheoryData<bool, WebSocketMessageKind, int>();
        foreach (bool secure in new[] { false, true })
        {
            foreach (WebSocketMessageKind type in new[] { WebSocketMessageKind.Text, WebSocketMessageKind.Binary })
            {
                // 7-bit length limit, first 16-bit length, 16-bit limit, first 64-bit length, and a large message.
                foreach (int size in new[] { 0, 125, 126, 65535, 65536, SixteenMiB })
                {
                    data.Add(secure, type, size);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Echo_ReturnsTheSameBytes(bool secure, WebSocketMessageKind type, int size)
    {
        TestServer server = fixture.Get(secure);
        await using WebSocketConnection client = await server.ConnectAsync("/echo");

        byte[] expected;
        if (type == WebSocketMessageKind.Text)
        {
            string text = Payloads.Utf8Text(size, seed: size);
            expected = Encoding.UTF8.GetBytes(text);
            await client.SendTextAsync(text).WithTimeout();
        }
        else
        {
            expected = Payloads.Binary(size, seed: size);
            await client.SendBinaryAsync(expected).WithTimeout();
        }

        WebSocketMessage? reply = await client.ReceiveAsync().WithTimeout();
        Assert.NotNull(reply);
        Assert.Equal(type, reply.Value.Type);
        Assert.True(reply.Value.EndOfMessage);
        Assert.Equal(expected.Length, reply.Value.Payload.Length);
        Assert.True(reply.Value.Payload.Span.SequenceEqual(expected), "payload differs");
        if (type == WebSocketMessageKind.Text)
        {
            Assert.Equal(Encoding.UTF8.GetString(expected), reply.Value.GetText());
        }

        await client.CloseAsync().WithTimeout();
        Assert.Equal(WebSocketConnectionState.Closed, client.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Echo_MultiByteUtf8Text_RoundTripsExactly(bool secure)
    {
        TestServer server = fixture.Get(secure);
        await using WebSocketConnection client = await server.ConnectAsync("/echo");
        string[] texts =
        [
            "héllo wörld",
            "Grüße – 你好，世界 – Привет – مرحبا – שלום",
            "emoji 😀🎉👍🏽 and a flag 🇫🇷",
            "math 𝔸𝕓𝕔 ∑ ∞ ≠",
            "\u0000 nul and \uFEFF BOM",
        ];
        foreach (string text in texts)
        {
            await client.SendTextAsync(text).WithTimeout();
        }

        foreach (string text in texts)
        {
            WebSocketMessage? reply = await client.ReceiveAsync().WithTimeout();
            Assert.NotNull(reply);
            Assert.True(reply.Value.IsText);
            Assert.True(reply.Value.Payload.Span.SequenceEqual(Encoding.UTF8.GetBytes(text)));
            Assert.Equal(text, reply.Value.GetText());
        }

        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task Echo_OverTheClientsMessageLimit_ClientFailsWith1009()
    {
        // The server accepts 32 MiB, our client only 64 KiB: the echo of a 100 KB message is too big for it.
        TestServer server = fixture.Plain;
        await using WebSocketConnection client = await server.ConnectAsync("/echo", server.ClientOptions(maxMessageSize: 64 * 1024));
        await client.SendBinaryAsync(Payloads.Binary(100_000)).WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        Assert.Equal(WebSocketCloseCode.MessageTooBig, client.CloseStatus!.Value.Code);
    }
}
