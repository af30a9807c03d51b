using System.Text;
using Ws4Net.Protocol;

namespace Ws4Net.Tests;

/// <summary>The in-memory pipe adapter: the same driver and core over System.IO.Pipelines instead of a socket.</summary>
public sealed class InMemoryWebSocketTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(65536)]
    [InlineData(3 * 1024 * 1024)]
    public async Task Messages_cross_the_pipe_pair_in_both_directions(int size)
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        await using (client)
        await using (server)
        {
            byte[] payload = [.. Enumerable.Range(0, size).Select(i => (byte)(i * 31))];
            Task<WebSocketMessage?> atServer = server.ReceiveAsync().AsTask();
            await client.SendBinaryAsync(payload).WithTimeout();
            WebSocketMessage received = (await atServer.WithTimeout())!.Value;
            Assert.Equal(WebSocketMessageKind.Binary, received.Type);
            Assert.True(received.Payload.Span.SequenceEqual(payload));

            string text = new('é', size / 2);
            Task<WebSocketMessage?> atClient = client.ReceiveAsync().AsTask();
            await server.SendTextAsync(text).WithTimeout();
            WebSocketMessage echoed = (await atClient.WithTimeout())!.Value;
            Assert.Equal(text, echoed.GetText());

            // Close while the server reads, so its close echo is written and both sides end at once.
            Task<WebSocketMessage?> serverEnd = server.ReceiveAsync().AsTask();
            await client.CloseAsync().WithTimeout();
            Assert.Null(await serverEnd.WithTimeout());
        }
    }

    [Fact]
    public async Task Close_handshake_completes_on_both_sides()
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair(new WebSocketConnectionOptions { CloseTimeout = TimeSpan.FromSeconds(5) });
        await using (client)
        await using (server)
        {
            Task<WebSocketMessage?> serverSees = server.ReceiveAsync().AsTask();
            Task closing = client.CloseAsync((WebSocketCloseCode)4100, "pipe bye").AsTask();
            Assert.Null(await serverSees.WithTimeout());
            await closing.WithTimeout();
            WebSocketCloseInfo atServer = await server.Completion.WithTimeout();
            WebSocketCloseInfo atClient = await client.Completion.WithTimeout();
            Assert.Equal((WebSocketCloseCode)4100, atServer.Code);
            Assert.Equal("pipe bye", atServer.Reason);
            Assert.True(atServer.InitiatedByPeer);
            Assert.Equal((WebSocketCloseCode)4100, atClient.Code);
            Assert.False(atClient.InitiatedByPeer);
            Assert.Equal(WebSocketConnectionState.Closed, client.State);
            await Assert.ThrowsAsync<WebSocketClosedException>(() => client.SendTextAsync("late").AsTask());
        }
    }

    [Fact]
    public async Task Handler_runs_over_the_pipe()
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        await using (client)
        await using (server)
        {
            Task<WebSocketCloseInfo> running = server.RunAsync(new UpperCaseEcho());
            await client.SendTextAsync("shout").WithTimeout();
            WebSocketMessage reply = (await client.ReceiveAsync().WithTimeout())!.Value;
            Assert.Equal("SHOUT", Encoding.UTF8.GetString(reply.Payload.Span));
            await client.CloseAsync().WithTimeout();
            Assert.Equal(WebSocketCloseCode.NormalClosure, (await running.WithTimeout()).Code);
        }
    }

    private sealed class UpperCaseEcho : WebSocketHandler
    {
        protected override ValueTask OnMessageAsync(WebSocketMessage message) => SendTextAsync(message.GetText().ToUpperInvariant());
    }
}
