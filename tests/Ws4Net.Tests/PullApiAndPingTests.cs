using System.Text;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>The pull API (ReceiveAsync / ReadMessagesAsync), and pings and pongs in both directions.</summary>
public sealed class PullApiAndPingTests : IAsyncLifetime
{
    private TestServer _plain = null!;
    private TestServer _secure = null!;

    public async Task InitializeAsync()
    {
        _plain = await TestServer.StartAsync(false, map: Map);
        _secure = await TestServer.StartAsync(true, map: Map);

        static void Map(TestServer t)
        {
            t.MapStandardRoutes();
            t.Server.Map("/burst", request => new BurstHandler(int.Parse(request.Query["n"], System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    public async Task DisposeAsync()
    {
        await _plain.DisposeAsync();
        await _secure.DisposeAsync();
    }

    private TestServer Server(bool secure) => secure ? _secure : _plain;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadMessagesAsync_YieldsEveryMessageInOrder_ThenEndsAtTheServersClose(bool secure)
    {
        const int count = 100;
        await using WebSocketConnection client = await Server(secure).ConnectAsync($"/burst?n={count}");

        var received = new List<ReceivedMessage>();
        async Task ReadAllAsync()
        {
            await foreach (WebSocketMessage message in client.ReadMessagesAsync())
            {
                received.Add(ReceivedMessage.From(message));
            }
        }

        await ReadAllAsync().WithTimeout();

        Assert.Equal(count, received.Count);
        for (int i = 0; i < count; i++)
        {
            ReceivedMessage expected = BurstHandler.Message(i);
            Assert.Equal(expected.Type, received[i].Type);
            Assert.Equal(expected.Payload, received[i].Payload);
        }

        Assert.Equal(WebSocketCloseCode.NormalClosure, client.CloseStatus!.Value.Code);
        Assert.Equal("burst done", client.CloseStatus.Value.Reason);
        Assert.Equal(WebSocketConnectionState.Closed, client.State);
    }

    [Fact]
    public async Task ReadMessagesAsync_ClientClosingWhileEnumerating_EndsWhenTheReplyArrives()
    {
        await using WebSocketConnection client = await _plain.ConnectAsync("/echo");
        for (int i = 0; i < 10; i++)
        {
            await client.SendTextAsync($"echo {i}").WithTimeout();
        }

        var texts = new List<string>();
        async Task ReadAllAsync()
        {
            await foreach (WebSocketMessage message in client.ReadMessagesAsync())
            {
                texts.Add(message.GetText());
                if (texts.Count == 10)
                {
                    // The enumeration is the reader: CloseAsync only sends the frame; the loop sees the reply.
                    await client.CloseAsync(WebSocketCloseCode.NormalClosure, "enough");
                }
            }
        }

        await ReadAllAsync().WithTimeout();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"echo {i}"), texts);
        Assert.Equal(WebSocketCloseCode.NormalClosure, (await client.Completion.WithTimeout()).Code);
        Assert.Equal(WebSocketConnectionState.Closed, client.State);
    }

    [Fact]
    public async Task ReceiveAsync_SecondConcurrentReceive_IsRefused()
    {
        await using WebSocketConnection client = await _plain.ConnectAsync("/echo");
        Task<WebSocketMessage?> first = client.ReceiveAsync().AsTask();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.ReceiveAsync());
        await client.SendTextAsync("unblock").WithTimeout();
        Assert.Equal("unblock", (await first.WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientPing_ServerHandlerSeesPayload_ClientHandlerGetsThePong(bool secure)
    {
        TestServer server = Server(secure);
        (WebSocketConnection client, RecordingHandler serverHandler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            var clientHandler = new RecordingHandler();
            Task<WebSocketCloseInfo> running = client.RunAsync(clientHandler);
            await clientHandler.Opened.WithTimeout();

            byte[][] payloads = [Encoding.UTF8.GetBytes("ping-1"), [], Payloads.Binary(125, seed: 7)];
            foreach (byte[] payload in payloads)
            {
                await client.SendPingAsync(payload).WithTimeout();
                Assert.Equal(payload, await serverHandler.Pings.ReadAsync().AsTask().WithTimeout());
                Assert.Equal(payload, await clientHandler.Pongs.ReadAsync().AsTask().WithTimeout());
            }

            // And the other way round: the server pings, the client core answers.
            await serverHandler.SendPingAsync(new byte[] { 9, 8, 7 }).WithTimeout();
            Assert.Equal(new byte[] { 9, 8, 7 }, await clientHandler.Pings.ReadAsync().AsTask().WithTimeout());
            Assert.Equal(new byte[] { 9, 8, 7 }, await serverHandler.Pongs.ReadAsync().AsTask().WithTimeout());

            await client.CloseAsync().WithTimeout();
            Assert.Equal(WebSocketCloseCode.NormalClosure, (await running.WithTimeout()).Code);
            Assert.Equal(1, clientHandler.CloseCount);
            Assert.Equal("open", clientHandler.Events[0]);
            Assert.StartsWith("close:1000", clientHandler.Events[^1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WebSocketClientRunAsync_HandlerPingsOnOpen_AndClosesOnPong()
    {
        var handler = new PingThenCloseHandler();
        WebSocketCloseInfo status = await WebSocketClient.RunAsync(_plain.Uri("/echo"), handler, _plain.ClientOptions()).WithTimeout();
        Assert.Equal(WebSocketCloseCode.NormalClosure, status.Code);
        Assert.False(status.InitiatedByPeer); // our close; the code is the one the server echoed (RFC 6455 §7.1.5)
        Assert.Equal("ws4net-ping"u8.ToArray(), handler.Pong);
    }

    [Fact]
    public async Task PullApi_AnswersServerPingsAutomatically()
    {
        (WebSocketConnection client, RecordingHandler serverHandler) = await _plain.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            var reader = new MessageCollector(client);
            await serverHandler.Opened.WithTimeout();
            await serverHandler.SendPingAsync(new byte[] { 1, 2, 3 }).WithTimeout();
            Assert.Equal(new byte[] { 1, 2, 3 }, await serverHandler.Pongs.ReadAsync().AsTask().WithTimeout());
            await serverHandler.SendTextAsync("after ping").WithTimeout();
            Assert.Equal("after ping", (await reader.NextAsync()).Text); // the pong itself is not a message
            await serverHandler.CloseAsync().WithTimeout();
            await reader.Loop.WithTimeout();
        }
    }

    [Fact]
    public async Task Ping_PayloadOver125Bytes_IsRefused()
    {
        await using WebSocketConnection client = await _plain.ConnectAsync("/echo");
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await client.SendPingAsync(new byte[126]));
        await client.CloseAsync().WithTimeout();
    }

    /// <summary>Sends n messages (alternating text and binary) on open, then closes with 1000 "burst done".</summary>
    private sealed class BurstHandler(int count) : WebSocketHandler
    {
        public static ReceivedMessage Message(int i) => i % 2 == 0
            ? new ReceivedMessage(WebSocketMessageKind.Text, Encoding.UTF8.GetBytes($"text #{i} ✓"))
            : new ReceivedMessage(WebSocketMessageKind.Binary, Payloads.Binary(i * 37, seed: i));

        protected override async ValueTask OnOpenAsync()
        {
            for (int i = 0; i < count; i++)
            {
                ReceivedMessage message = Message(i);
                await Connection.SendAsync(message.Payload, message.Type, true);
            }

            await CloseAsync(WebSocketCloseCode.NormalClosure, "burst done");
        }
    }

    private sealed class PingThenCloseHandler : WebSocketHandler
    {
        public byte[]? Pong { get; private set; }

        protected override ValueTask OnOpenAsync() => SendPingAsync("ws4net-ping"u8.ToArray());

        protected override ValueTask OnPongAsync(ReadOnlyMemory<byte> payload)
        {
            Pong = payload.ToArray();
            return CloseAsync(WebSocketCloseCode.NormalClosure, "got pong");
        }
    }
}
