using Ws4Net.Management;

namespace Ws4Net.Tests.Management;

/// <summary>Graceful shutdown: what was queued goes first, then 1001; peers that do not answer are aborted at the deadline.</summary>
public sealed class ManagerShutdownTests
{
    [Fact]
    public async Task Shutdown_delivers_what_was_queued_then_1001_and_counts_the_clean_closes()
    {
        await using ManagedServer server = await ManagedServer.StartAsync();
        var peers = new List<(WebSocketConnection Client, MessageCollector Messages, WebSocketConnection ServerSide)>();
        for (int i = 0; i < 3; i++)
        {
            peers.Add(await server.ConnectAsync("t"));
        }

        for (int i = 0; i < 50; i++)
        {
            server.Manager.Publish("t", "m" + i);
        }

        WebSocketShutdownResult result = await server.Manager.ShutdownAsync(TimeSpan.FromSeconds(10)).WithTimeout();
        Assert.Equal(new WebSocketShutdownResult(3, 0), result);
        Assert.True(server.Manager.IsShuttingDown);
        foreach (var peer in peers)
        {
            List<ReceivedMessage> received = await peer.Messages.NextAsync(50);
            Assert.Equal(Enumerable.Range(0, 50).Select(i => "m" + i), received.Select(m => m.Text));
            await peer.Messages.Loop.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, peer.Client.CloseStatus?.Code);
            Assert.Equal("going away", peer.Client.CloseStatus?.Reason);
            await peer.Client.DisposeAsync();
        }

        // Leaving runs as a continuation of each Completion: it follows the close, not necessarily before ShutdownAsync returns.
        await ManagerRegistryTests.WaitUntilAsync(() => server.Manager.Count == 0, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_peer_that_never_answers_the_close_is_aborted_at_the_deadline()
    {
        await using ManagedServer server = await ManagedServer.StartAsync();
        var (client, messages, _) = await server.ConnectAsync();
        await using RawClient silent = await RawClient.HandshakeAsync(server.Port, "/m");
        await ManagerRegistryTests.WaitUntilAsync(() => server.Manager.Count == 2, TimeSpan.FromSeconds(10));

        WebSocketShutdownResult result = await server.Manager.ShutdownAsync(TimeSpan.FromMilliseconds(500)).WithTimeout();

        Assert.Equal(new WebSocketShutdownResult(1, 1), result);
        await messages.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.GoingAway, client.CloseStatus?.Code);
        RawFrame close = await silent.ReadFrameAsync();
        Assert.Equal(8, close.Opcode);
        Assert.Equal(1001, close.CloseCode);
        await ManagerRegistryTests.WaitUntilAsync(() => server.Manager.Count == 0, TimeSpan.FromSeconds(10));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_connection_that_joins_during_shutdown_is_closed_with_1001_at_once()
    {
        await using ManagedServer server = await ManagedServer.StartAsync();
        await server.Manager.ShutdownAsync(TimeSpan.FromSeconds(1)).WithTimeout();
        var (client, messages, _) = await server.ConnectAsync();
        await messages.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.GoingAway, client.CloseStatus?.Code);
        await client.DisposeAsync();
    }
}
