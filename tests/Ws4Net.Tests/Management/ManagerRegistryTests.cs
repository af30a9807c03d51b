using System.Collections.Concurrent;
using Ws4Net.Client;
using Ws4Net.Management;

namespace Ws4Net.Tests.Management;

/// <summary>The manager's registry: join on open, leave exactly once on close whatever closed the connection, caps, lookups.</summary>
public sealed class ManagerRegistryTests
{
    [Fact]
    public async Task Connections_join_and_leave_exactly_once_under_parallel_churn_with_clean_closes_and_aborts()
    {
        const int total = 2000;
        await using ManagedServer server = await ManagedServer.StartAsync();
        var joined = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var left = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        server.Manager.ConnectionAdded += c => joined.AddOrUpdate(c.Id, 1, static (_, n) => n + 1);
        server.Manager.ConnectionRemoved += c => left.AddOrUpdate(c.Id, 1, static (_, n) => n + 1);

        // Broadcasts and topic traffic run throughout, so joins and leaves race with readers of the tables.
        using var stop = new CancellationTokenSource();
        Task noise = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                server.Manager.Broadcast("tick");
                server.Manager.Publish("churn", "tock");
                await Task.Delay(1);
            }
        });

        var options = new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            WebSocketConnection client = await WebSocketClient.ConnectAsync(server.Uri(i % 3 == 0 ? "churn" : null), options);
            if (i % 2 == 0)
            {
                client.Abort();
            }
            else
            {
                await client.CloseAsync();
            }

            await client.DisposeAsync();
        }).WithTimeout(TimeSpan.FromMinutes(3));

        await WaitUntilAsync(() => left.Count == total && server.Manager.Count == 0, TimeSpan.FromSeconds(60));
        stop.Cancel();
        await noise.WithTimeout();

        Assert.Equal(total, joined.Count);
        Assert.All(joined.Values, n => Assert.Equal(1, n));
        Assert.All(left.Values, n => Assert.Equal(1, n));
        Assert.Equal(joined.Keys.Order(StringComparer.Ordinal), left.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, server.Manager.Count);
        Assert.Equal(0, server.Manager.TopicCount);
        Assert.Empty(server.Manager.GetSubscribers("churn"));
    }

    [Fact]
    public async Task A_connection_that_completed_before_Add_leaves_at_once_and_Remove_prevents_a_second_leave()
    {
        var manager = new WebSocketConnectionManager();
        int removed = 0;
        manager.ConnectionRemoved += _ => Interlocked.Increment(ref removed);
        (WebSocketConnection client, WebSocketConnection serverSide) = InMemoryWebSocket.CreatePair();
        serverSide.Abort();
        await serverSide.Completion.WithTimeout();
        Assert.True(manager.Add(serverSide));
        Assert.Equal(0, manager.Count);
        Assert.Equal(1, removed);

        (WebSocketConnection client2, WebSocketConnection serverSide2) = InMemoryWebSocket.CreatePair();
        Assert.True(manager.Add(serverSide2));
        Assert.False(manager.Add(serverSide2));
        Assert.True(manager.TryGetConnection(serverSide2.Id, out WebSocketConnection? found));
        Assert.Same(serverSide2, found);
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(serverSide2, "t"));
        Assert.True(manager.Remove(serverSide2));
        Assert.False(manager.Remove(serverSide2));
        Assert.Equal(0, manager.TopicCount);
        Assert.Equal(WebSocketSubscribeResult.NotRegistered, manager.Subscribe(serverSide2, "t"));
        serverSide2.Abort();
        await serverSide2.Completion.WithTimeout();
        Assert.Equal(2, removed);
        Assert.False(manager.TryGetConnection(serverSide2.Id, out _));

        await InMemoryPairs.DisposeAsync([(client, serverSide), (client2, serverSide2)]);
    }

    [Fact]
    public async Task Connections_beyond_MaxConnections_are_refused_and_closed_with_1013()
    {
        var manager = new WebSocketConnectionManager(new WebSocketConnectionManagerOptions { MaxConnections = 2 });
        await using ManagedServer server = await ManagedServer.StartAsync(manager);
        (WebSocketConnection a, MessageCollector _, _) = await server.ConnectAsync();
        (WebSocketConnection b, MessageCollector _, _) = await server.ConnectAsync();
        WebSocketConnection c = await WebSocketClient.ConnectAsync(server.Uri()).WithTimeout();
        var drain = new MessageCollector(c);
        await drain.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.TryAgainLater, c.CloseStatus?.Code);
        Assert.Equal(2, manager.Count);
        Assert.Same(manager, server.Server.Manager);
        await a.DisposeAsync();
        await b.DisposeAsync();
        await c.DisposeAsync();
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new WebSocketConnectionManager(new WebSocketConnectionManagerOptions { MaxTopics = 0, MaxTopicsPerConnection = -1 }));
        Assert.Contains("MaxTopics ", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxTopicsPerConnection", error.Message, StringComparison.Ordinal);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException("The condition did not become true in time.");
            }

            await Task.Delay(20);
        }
    }
}
