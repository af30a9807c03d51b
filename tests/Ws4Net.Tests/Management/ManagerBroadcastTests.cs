using Ws4Net.Management;

namespace Ws4Net.Tests.Management;

/// <summary>Encode-once broadcast: every registered peer gets the message; counts per outcome; except and filters.</summary>
public sealed class ManagerBroadcastTests
{
    [Fact]
    public async Task Broadcast_reaches_every_connection_except_the_excluded_one_and_counts_them()
    {
        await using ManagedServer server = await ManagedServer.StartAsync();
        var peers = new List<(WebSocketConnection Client, MessageCollector Messages, WebSocketConnection ServerSide)>();
        for (int i = 0; i < 5; i++)
        {
            peers.Add(await server.ConnectAsync());
        }

        WebSocketBroadcastResult all = server.Manager.Broadcast("hello all");
        Assert.Equal(5, all.Delivered);
        Assert.Equal(5, all.Total);
        foreach (var peer in peers)
        {
            Assert.Equal("hello all", (await peer.Messages.NextAsync()).Text);
        }

        WebSocketBroadcastResult others = server.Manager.Broadcast("not you"u8, WebSocketMessageKind.Binary, except: peers[0].ServerSide);
        Assert.Equal(4, others.Delivered);
        foreach (var peer in peers.Skip(1))
        {
            ReceivedMessage message = await peer.Messages.NextAsync();
            Assert.Equal(WebSocketMessageKind.Binary, message.Type);
            Assert.Equal("not you", message.Text);
        }

        using (var prepared = WebSocketPreparedMessage.CreateText("chosen"))
        {
            string chosen = peers[2].ServerSide.Id;
            WebSocketBroadcastResult filtered = server.Manager.Broadcast(prepared, static (c, id) => c.Id == id, chosen);
            Assert.Equal(new WebSocketBroadcastResult(filtered.Sent, filtered.Queued, 0, 0), filtered);
            Assert.Equal(1, filtered.Delivered);
        }

        Assert.Equal("chosen", (await peers[2].Messages.NextAsync()).Text);
        Assert.True(await peers[0].Messages.NothingWithinAsync(TimeSpan.FromMilliseconds(200)));
        Assert.True(await peers[1].Messages.NothingWithinAsync(TimeSpan.FromMilliseconds(50)));

        foreach (var peer in peers)
        {
            await peer.Client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_closing_peer_counts_as_Closed_and_never_throws()
    {
        var manager = new WebSocketConnectionManager();
        var pairs = InMemoryPairs.Create(manager, 3);

        // Our close frame goes out; the client never answers (nobody reads it), so the server side stays Closing and registered.
        pairs[1].Server.StartClose(WebSocketCloseCode.NormalClosure, "bye");
        WebSocketBroadcastResult result = manager.Broadcast("x");
        Assert.Equal(3, result.Total);
        Assert.Equal(1, result.Closed);
        Assert.Equal(2, result.Delivered);
        Assert.Equal(3, manager.Count);

        pairs[2].Server.Abort();
        await pairs[2].Server.Completion.WithTimeout();
        await ManagerRegistryTests.WaitUntilAsync(() => manager.Count == 2, TimeSpan.FromSeconds(10));
        result = manager.Broadcast("y");
        Assert.Equal(2, result.Total);   // the aborted one has left the registry
        Assert.Equal(1, result.Closed);
        await InMemoryPairs.DisposeAsync(pairs);
    }

    [Fact]
    public async Task One_manager_shared_by_two_servers_reaches_the_connections_of_both()
    {
        var manager = new WebSocketConnectionManager();
        await using ManagedServer first = await ManagedServer.StartAsync(manager);
        await using ManagedServer second = await ManagedServer.StartAsync(manager);
        var a = await first.ConnectAsync("shared");
        var b = await second.ConnectAsync("shared");
        Assert.Same(manager, first.Server.Manager);
        Assert.Same(manager, second.Server.Manager);
        Assert.Equal(2, manager.Count);
        Assert.Equal(2, manager.Broadcast("to both").Delivered);
        Assert.Equal(2, manager.Publish("shared", "topic to both").Delivered);
        foreach (var peer in new[] { a, b })
        {
            Assert.Equal("to both", (await peer.Messages.NextAsync()).Text);
            Assert.Equal("topic to both", (await peer.Messages.NextAsync()).Text);
        }

        await a.Client.DisposeAsync();
        await b.Client.DisposeAsync();
        await ManagerRegistryTests.WaitUntilAsync(() => manager.Count == 0 && manager.TopicCount == 0, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Broadcast_and_publish_allocate_nothing_per_recipient()
    {
        const int recipients = 1000;
        var manager = new WebSocketConnectionManager();
        var pairs = InMemoryPairs.Create(manager, recipients);
        foreach (var pair in pairs)
        {
            Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(pair.Server, "all"));
        }

        using var message = WebSocketPreparedMessage.CreateText("tick");
        manager.Broadcast(message);   // warm-up: first sends set up each connection's queue and pipe segment
        manager.Publish("all", message);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(recipients, manager.Broadcast(message).Delivered);
            Assert.Equal(recipients, manager.Publish("all", message).Delivered);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // One object per recipient, even 24 bytes, would be 10 x 1,000 x 24 = 240,000 bytes; a few hundred
        // bytes per call (the driver's and the pipes' occasional bookkeeping) stay far below 16 KiB.
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated for 10 sends to {recipients} recipients");
        await InMemoryPairs.DisposeAsync(pairs);
    }

    [Fact]
    public void Broadcasting_to_nobody_returns_zero_counts()
    {
        var manager = new WebSocketConnectionManager();
        Assert.Equal(default, manager.Broadcast("nobody"));
        Assert.Equal(default, manager.Publish("nothing", "x"));
    }
}
