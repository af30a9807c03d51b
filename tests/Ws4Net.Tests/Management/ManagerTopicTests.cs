using System.Collections.Concurrent;
using System.Globalization;
using Ws4Net.Management;

namespace Ws4Net.Tests.Management;

/// <summary>Topics: subscribe, unsubscribe, publish, ordering with direct sends, release of empty topics, and every cap.</summary>
public sealed class ManagerTopicTests
{
    [Fact]
    public async Task Subscriptions_are_listed_both_ways_and_an_emptied_topic_is_released()
    {
        var manager = new WebSocketConnectionManager();
        var pairs = InMemoryPairs.Create(manager, 2);
        WebSocketConnection a = pairs[0].Server, b = pairs[1].Server;

        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(a, "news"));
        Assert.Equal(WebSocketSubscribeResult.AlreadySubscribed, manager.Subscribe(a, "news"));
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(a, "sport"));
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(b, "news"));
        Assert.Equal(["news", "sport"], manager.GetTopics(a));
        Assert.Equal(2, manager.TopicCount);
        Assert.Equal(2, manager.GetSubscriberCount("news"));
        Assert.Equal([a, b], manager.GetSubscribers("news").OrderBy(c => c == b));

        Assert.True(manager.Unsubscribe(a, "news"));
        Assert.False(manager.Unsubscribe(a, "news"));
        Assert.Equal(["sport"], manager.GetTopics(a));
        Assert.Equal([b], manager.GetSubscribers("news"));

        Assert.True(manager.Unsubscribe(b, "news"));
        Assert.Equal(1, manager.TopicCount);
        Assert.Equal(["sport"], manager.GetTopicNames());
        Assert.Empty(manager.GetSubscribers("news"));

        // A released topic comes back on the next subscription.
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(b, "news"));
        Assert.Equal(2, manager.TopicCount);

        // Leaving drops every subscription.
        a.Abort();
        b.Abort();
        await Task.WhenAll(a.Completion, b.Completion).WithTimeout();
        await ManagerRegistryTests.WaitUntilAsync(() => manager.Count == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, manager.TopicCount);
        Assert.Empty(manager.GetTopics(a));
        await InMemoryPairs.DisposeAsync(pairs);
    }

    [Fact]
    public async Task Every_table_a_peer_can_grow_has_a_cap_and_pushing_past_it_gets_a_status()
    {
        var manager = new WebSocketConnectionManager(new WebSocketConnectionManagerOptions { MaxTopicsPerConnection = 3, MaxTopics = 4, MaxSubscribersPerTopic = 2, MaxTopicLength = 8 });
        var pairs = InMemoryPairs.Create(manager, 3);
        WebSocketConnection a = pairs[0].Server, b = pairs[1].Server, c = pairs[2].Server;

        // Topics per connection.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(a, "t" + i));
        }

        Assert.Equal(WebSocketSubscribeResult.TooManyTopicsForConnection, manager.Subscribe(a, "t3"));
        Assert.Equal(3, manager.GetTopics(a).Count);

        // Live topics in the manager: t0, t1, t2 + one more.
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(b, "u0"));
        Assert.Equal(WebSocketSubscribeResult.TooManyTopics, manager.Subscribe(b, "u1"));
        Assert.Equal(4, manager.TopicCount);
        Assert.True(manager.Unsubscribe(b, "u0"));
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(b, "u1"));

        // Subscribers per topic.
        Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(b, "t0"));
        Assert.Equal(WebSocketSubscribeResult.TooManySubscribers, manager.Subscribe(c, "t0"));
        Assert.Equal(2, manager.GetSubscriberCount("t0"));

        // Topic names.
        Assert.Equal(WebSocketSubscribeResult.TopicNameTooLong, manager.Subscribe(c, "123456789"));
        Assert.Throws<ArgumentException>(() => manager.Subscribe(c, string.Empty));

        // The registry itself.
        var small = new WebSocketConnectionManager(new WebSocketConnectionManagerOptions { MaxConnections = 1 });
        Assert.True(small.Add(pairs[0].Server));
        Assert.False(small.Add(pairs[1].Server));
        Assert.Equal(1, small.Count);

        await InMemoryPairs.DisposeAsync(pairs);
    }

    [Fact]
    public async Task Publishes_and_direct_sends_reach_a_subscriber_in_call_order()
    {
        await using ManagedServer server = await ManagedServer.StartAsync();
        var (client, messages, serverSide) = await server.ConnectAsync("room");
        var expected = new List<string>();
        for (int i = 0; i < 200; i++)
        {
            string text = i.ToString(CultureInfo.InvariantCulture);
            expected.Add(text);
            if (i % 3 == 0)
            {
                Assert.NotEqual(WebSocketSendStatus.Closed, serverSide.TrySendText(text));
            }
            else if (i % 3 == 1)
            {
                Assert.Equal(1, server.Manager.Publish("room", text).Delivered);
            }
            else
            {
                Assert.Equal(1, server.Manager.Broadcast(text).Delivered);
            }
        }

        List<ReceivedMessage> received = await messages.NextAsync(expected.Count);
        Assert.Equal(expected, received.Select(m => m.Text));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Publish_to_a_thousand_subscribers_while_some_unsubscribe_and_some_never_read()
    {
        const int subscribers = 1000;
        const int leavers = 100;
        const int stalledCount = 5;
        const int messages = 20;
        const int cap = 256 * 1024;
        await using ManagedServer server = await ManagedServer.StartAsync(configure: o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(1);
            o.Connection.MaxBufferedAmount = cap;
            o.Connection.BackpressurePolicy = WebSocketBackpressurePolicy.DropMessage;
        });
        var peers = new ConcurrentBag<(WebSocketConnection Client, MessageCollector Messages, WebSocketConnection ServerSide)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, subscribers), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (_, _) => peers.Add(await server.ConnectAsync("feed")))
            .WithTimeout(TimeSpan.FromMinutes(2));

        // Stalled subscribers: raw sockets that complete the handshake and then never read a byte.
        var stalled = new List<RawClient>();
        for (int i = 0; i < stalledCount; i++)
        {
            stalled.Add(await RawClient.HandshakeAsync(server.Port, "/m?topics=feed,stall"));
        }

        await ManagerRegistryTests.WaitUntilAsync(() => server.Manager.GetSubscriberCount("feed") == subscribers + stalledCount, TimeSpan.FromSeconds(20));

        var all = peers.ToArray();
        var leaving = all.Take(leavers).ToArray();
        string payload = new('x', 1000);
        Task unsubscribing = Task.Run(async () =>
        {
            foreach (var peer in leaving)
            {
                Assert.True(server.Manager.Unsubscribe(peer.ServerSide, "feed"));
                await Task.Yield();
            }
        });

        int minTotal = int.MaxValue;
        for (int i = 0; i < messages; i++)
        {
            WebSocketBroadcastResult result = server.Manager.Publish("feed", $"{i:D4}{payload}");
            minTotal = Math.Min(minTotal, result.Total);
            Assert.Equal(0, result.Closed);
            await Task.Yield();
        }

        await unsubscribing.WithTimeout();
        Assert.True(minTotal >= subscribers - leavers + stalledCount);
        Assert.Equal(subscribers - leavers + stalledCount, server.Manager.GetSubscriberCount("feed"));

        // Those who stayed got everything, in order; those who left got an in-order prefix, then nothing.
        foreach (var peer in all.Skip(leavers))
        {
            for (int i = 0; i < messages; i++)
            {
                Assert.Equal(i.ToString("D4", CultureInfo.InvariantCulture), (await peer.Messages.NextAsync()).Text[..4]);
            }
        }

        foreach (var peer in leaving)
        {
            int next = 0;
            while (!await peer.Messages.NothingWithinAsync(TimeSpan.FromMilliseconds(next == 0 ? 100 : 20)))
            {
                Assert.Equal(next.ToString("D4", CultureInfo.InvariantCulture), (await peer.Messages.NextAsync()).Text[..4]);
                next++;
            }

            Assert.True(next <= messages);
        }

        // The stalled peers' queues reach the cap: the policy (drop) applies to them alone, and nobody waits for them.
        byte[] block = new byte[64 * 1024];
        int dropped = 0;
        for (int i = 0; i < 400; i++)
        {
            WebSocketBroadcastResult result = server.Manager.Publish("stall", block, WebSocketMessageKind.Binary);
            Assert.Equal(stalledCount, result.Total);
            Assert.Equal(0, result.Closed);
            dropped += result.Dropped;
        }

        Assert.True(dropped > 0, "the stalled peers' queues never reached MaxBufferedAmount");
        foreach (WebSocketConnection stalledSide in server.Manager.GetSubscribers("stall"))
        {
            Assert.InRange(stalledSide.BufferedAmount, 0, cap);
        }

        Assert.Equal(subscribers - leavers, server.Manager.Publish("feed", "after", except: null).Total - stalledCount);
        foreach (var peer in all.Skip(leavers))
        {
            Assert.Equal("after", (await peer.Messages.NextAsync()).Text);
        }

        foreach (RawClient raw in stalled)
        {
            await raw.DisposeAsync();
        }

        await Parallel.ForEachAsync(all, async (peer, _) => await peer.Client.DisposeAsync());
    }

    [Fact]
    public async Task Concurrent_subscribe_unsubscribe_and_publish_leave_consistent_tables()
    {
        var manager = new WebSocketConnectionManager();
        var pairs = InMemoryPairs.Create(manager, 16);
        var drains = pairs.Select(p => new MessageCollector(p.Client)).ToList();
        string[] topics = ["a", "b", "c"];
        using var stop = new CancellationTokenSource();
        Task publisher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (string topic in topics)
                {
                    Assert.Equal(0, manager.Publish(topic, "x").Closed);
                }
            }
        });

        await Parallel.ForEachAsync(pairs, async (pair, _) =>
        {
            for (int round = 0; round < 500; round++)
            {
                string topic = topics[round % topics.Length];
                Assert.Equal(WebSocketSubscribeResult.Subscribed, manager.Subscribe(pair.Server, topic));
                Assert.True(manager.Unsubscribe(pair.Server, topic));
                if (round % 50 == 0)
                {
                    await Task.Yield();
                }
            }
        }).WithTimeout(TimeSpan.FromMinutes(1));

        stop.Cancel();
        await publisher.WithTimeout();
        Assert.Equal(0, manager.TopicCount);
        Assert.Empty(manager.GetTopicNames());
        await InMemoryPairs.DisposeAsync(pairs);
    }
}
