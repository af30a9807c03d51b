using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Amqp.Tests;

/// <summary>The RabbitMQ backplane's caps and options that need no broker: oversized messages, publishes while disconnected, backoff bounds, validation.</summary>
public sealed class RabbitMqBackplaneOptionsAndCapsTests
{
    [Fact]
    public async Task PublishesWhileNotConnectedAreCountedNotBuffered()
    {
        await using var backplane = new RabbitMqBackplane(new RabbitMqBackplaneOptions { Uri = "amqp://guest:guest@127.0.0.1:1/" });
        byte[] payload = new byte[64];
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(WebSocketBackplanePublishStatus.Disconnected, backplane.Publish(Message(payload)));
        }

        Assert.Equal(0, backplane.PendingPublishes);
        RabbitMqBackplaneStatistics stats = backplane.GetStatistics();
        Assert.Equal(1000, stats.NotForwardedDisconnected);
        Assert.Equal(0, stats.Forwarded);
        Assert.Equal(RabbitMqBackplaneState.NotStarted, stats.State);
    }

    [Fact]
    public async Task AMessageOverMaxMessageSizeIsDroppedAndCounted()
    {
        await using var backplane = new RabbitMqBackplane(new RabbitMqBackplaneOptions { MaxMessageSize = 100 });
        Assert.Equal(WebSocketBackplanePublishStatus.BufferFull, backplane.Publish(Message(new byte[101])));
        Assert.Equal(WebSocketBackplanePublishStatus.Disconnected, backplane.Publish(Message(new byte[100])));
        Assert.Equal(1, backplane.GetStatistics().DroppedBufferFull);
    }

    [Fact]
    public async Task ABrokerThatIsDownIsRetriedWithExponentialBackoffAndJitter()
    {
        await using var backplane = new RabbitMqBackplane(new RabbitMqBackplaneOptions
        {
            Uri = "amqp://guest:guest@127.0.0.1:1/",
            InitialReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(2),
        });
        for (int attempt = 0; attempt < 8; attempt++)
        {
            double ceiling = Math.Min(2000, 100 * Math.Pow(2, attempt));
            for (int sample = 0; sample < 50; sample++)
            {
                double delay = backplane.BackoffDelay(attempt).TotalMilliseconds;
                Assert.InRange(delay, ceiling * 0.5, ceiling);
            }
        }

        backplane.Start();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (backplane.State != RabbitMqBackplaneState.Disconnected)
        {
            await Task.Delay(20, deadline.Token);
        }

        Assert.Equal(WebSocketBackplanePublishStatus.Disconnected, backplane.Publish(Message(new byte[1])));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => backplane.WaitUntilConnectedAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token));
    }

    [Fact]
    public void InvalidOptionsAreRefusedWithEveryProblemNamed()
    {
        var options = new RabbitMqBackplaneOptions
        {
            Uri = "http://x/",
            ExchangeName = "",
            NodeId = "a-b",
            MaxPendingPublishes = 0,
            MaxPendingBytes = 0,
            MaxMessageSize = 0,
            MaxUnconfirmedPublishes = 0,
            MaxQueuedMessages = 0,
            PrefetchCount = 0,
            InitialReconnectDelay = TimeSpan.Zero,
        };
        Assert.Equal(10, options.Validate().Count);
        ArgumentException error = Assert.Throws<ArgumentException>(() => new RabbitMqBackplane(options));
        Assert.Contains("MaxPendingPublishes", error.Message, StringComparison.Ordinal);
        Assert.Empty(new RabbitMqBackplaneOptions().Validate());
    }

    private static WebSocketBackplaneMessage Message(byte[] payload)
        => new(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageKind.Binary, payload, WebSocketConnection.NodeId, null);
}
