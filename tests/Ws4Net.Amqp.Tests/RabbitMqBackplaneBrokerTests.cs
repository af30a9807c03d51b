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

    private static WebSocketBackplaneMessage Message(byte[] payload)
        => new(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageType.Binary, payload, WebSocketConnection.NodeId, null);

    private sealed class NullReceiver : IWebSocketBackplaneReceiver
    {
        public void Deliver(in WebSocketBackplaneMessage message)
        {
        }
    }
}
