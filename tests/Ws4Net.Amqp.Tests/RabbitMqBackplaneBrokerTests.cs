using Ws4Net.Amqp.Tests.Infrastructure;
using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Amqp.Tests;

/// <summary>The outgoing buffer's caps against a real broker: a publisher faster than the broker fills the buffer, and the excess is dropped and counted, never queued without bound.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqBackplaneBrokerTests(RabbitMqBroker broker)
{
    [Fact]
    public async Task APublisherFasterThanTheBrokerMeetsTheCountCap()
    {
        await using var backplane = new RabbitMqBackplane(new RabbitMqBackplaneOptions
        {
            Uri = broker.Uri,
            ExchangeName = "ws4net-caps-" + Guid.NewGuid().ToString("N")[..8],
            MaxPendingPublishes = 8,
            MaxUnconfirmedPublishes = 1,
        });
        backplane.Attach(new NullReceiver());
        backplane.Start();
        await backplane.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));

        byte[] payload = new byte[64];
        int accepted = 0;
        int full = 0;
        const int total = 20_000;
        for (int i = 0; i < total; i++)
        {
            switch (backplane.Publish(Message(payload)))
            {
                case WebSocketBackplanePublishStatus.Forwarded: accepted++; break;
                case WebSocketBackplanePublishStatus.BufferFull: full++; break;
                default: Assert.Fail("the broker connection dropped during the test"); break;
            }

            Assert.InRange(backplane.PendingPublishes, 0, 8);
        }

        Assert.True(full > 0, $"a synchronous loop of {total} publishes against one publish in flight never filled a buffer of 8");
        Assert.Equal(total, accepted + full);
        RabbitMqBackplaneStatistics stats = backplane.GetStatistics();
        Assert.Equal(full, stats.DroppedBufferFull);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (backplane.GetStatistics().Confirmed < accepted)
        {
            await Task.Delay(20, deadline.Token);
        }

        Assert.Equal(accepted, backplane.GetStatistics().Forwarded);
    }

    [Fact]
    public async Task APublisherFasterThanTheBrokerMeetsTheByteCap()
    {
        await using var backplane = new RabbitMqBackplane(new RabbitMqBackplaneOptions
        {
            Uri = broker.Uri,
            ExchangeName = "ws4net-caps-" + Guid.NewGuid().ToString("N")[..8],
            MaxPendingBytes = 4096,
            MaxUnconfirmedPublishes = 1,
        });
        backplane.Attach(new NullReceiver());
        backplane.Start();
        await backplane.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));

        byte[] payload = new byte[1024];
        int full = 0;
        for (int i = 0; i < 5_000; i++)
        {
            if (backplane.Publish(Message(payload)) == WebSocketBackplanePublishStatus.BufferFull)
            {
                full++;
            }

            Assert.InRange(backplane.PendingPublishes, 0, 4);
        }

        Assert.True(full > 0);
        Assert.Equal(full, backplane.GetStatistics().DroppedBufferFull);
    }

    [Fact]
    public async Task ASlowNodesQueueOnTheBrokerIsCappedAndDropsTheOldest()
    {
        string exchange = "ws4net-caps-" + Guid.NewGuid().ToString("N")[..8];
        using var release = new ManualResetEventSlim(false);
        var slow = new BlockingReceiver(release);
        await using var receiving = new RabbitMqBackplane(new RabbitMqBackplaneOptions
        {
            Uri = broker.Uri,
            ExchangeName = exchange,
            MaxQueuedMessages = 10,
            PrefetchCount = 1,
        });
        receiving.Attach(slow);
        receiving.Start();
        await receiving.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));

        await using var publishing = new RabbitMqBackplane(new RabbitMqBackplaneOptions { Uri = broker.Uri, ExchangeName = exchange });
        publishing.Attach(new NullReceiver());
        publishing.Start();
        await publishing.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30));

        // The two backplanes share this process's connection-id prefix but not their origin: stamp another node id.
        const int total = 500;
        byte[] payload = new byte[16];
        for (int i = 0; i < total; i++)
        {
            BitConverter.TryWriteBytes(payload, i);
            Assert.Equal(WebSocketBackplanePublishStatus.Forwarded, publishing.Publish(new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageKind.Binary, payload, "othernode", null)));
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (publishing.GetStatistics().Confirmed < total)
        {
            await Task.Delay(20, deadline.Token);
        }

        release.Set();
        while (receiving.GetStatistics().Received < 2 || await QuietAsync(receiving, deadline.Token))
        {
            await Task.Delay(20, deadline.Token);
        }

        // At most the one delivery the receiver held, the prefetched one, and the queue's 10; the newest survive.
        long received = receiving.GetStatistics().Received;
        Assert.InRange(received, 2, 1 + 1 + 10 + 1);
        Assert.Equal(total - 1, slow.Last);
    }

    private static async Task<bool> QuietAsync(RabbitMqBackplane backplane, CancellationToken cancellationToken)
    {
        long before = backplane.GetStatistics().Received;
        await Task.Delay(300, cancellationToken);
        return backplane.GetStatistics().Received != before;
    }

    private static WebSocketBackplaneMessage Message(byte[] payload)
        => new(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageKind.Binary, payload, WebSocketConnection.NodeId, null);

    /// <summary>Blocks the first delivery until released (a node that stopped consuming); records the last sequence number.</summary>
    private sealed class BlockingReceiver(ManualResetEventSlim release) : IWebSocketBackplaneReceiver
    {
        public int Last { get; private set; } = -1;

        public void Deliver(in WebSocketBackplaneMessage message)
        {
            release.Wait(TimeSpan.FromSeconds(60));
            Last = BitConverter.ToInt32(message.Payload.Span);
        }
    }

    private sealed class NullReceiver : IWebSocketBackplaneReceiver
    {
        public void Deliver(in WebSocketBackplaneMessage message)
        {
        }
    }
}
