using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Ws4Net.Amqp;
using Ws4Net.Backplane;
using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// <c>ws4net bench backplane</c>: messages per second across two nodes through a RabbitMQ broker, end to end (a
/// topic publish on node A's manager, the broker, node B's manager, a WebSocket subscriber on node B), for each
/// payload size; and, on the same broker in the same run, a plain RabbitMQ.Client loop with the same settings
/// (publisher confirms, at most 1,000 unconfirmed, one consumer with prefetch 256 and one ack per message) as the
/// reference. Reports each rate and the ratio ours / reference. Both nodes run in this process (two managers, two
/// backplanes, two broker connections). Not thread-safe; one run at a time.
/// </summary>
internal sealed class BackplaneBenchmark(string uri, int messageCount, IReadOnlyList<int> sizes)
{
    private int _messages = messageCount;

    private const int MaxUnconfirmed = 1_000;
    private const ushort Prefetch = 256;
    private const string Topic = "bench";

    /// <summary>Runs every size, prints a table on standard output and one <c>JSON {...}</c> line.</summary>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>0 when every run received every message, 3 otherwise.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var results = new List<Dictionary<string, object>>();
        bool complete = true;
        Console.Out.WriteLine($"backplane bench: {_messages} messages per run, broker {new Uri(uri).Host}:{new Uri(uri).Port}, {Environment.ProcessorCount} CPUs (noisy machine: compare ratios, not absolute rates)");
        // Warm-up (JIT, connections, broker caches): one short run of each, not reported.
        int measured = _messages;
        _messages = Math.Min(2_000, measured);
        await RunReferenceAsync(sizes[0], cancellationToken).ConfigureAwait(false);
        await RunOursAsync(sizes[0], cancellationToken).ConfigureAwait(false);
        _messages = measured;
        foreach (int size in sizes)
        {
            (double reference, long referenceReceived) = await RunReferenceAsync(size, cancellationToken).ConfigureAwait(false);
            (double ours, long oursReceived, long dropped) = await RunOursAsync(size, cancellationToken).ConfigureAwait(false);
            complete &= referenceReceived == _messages && oursReceived == _messages;
            double ratio = ours / reference;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size,6} B  ws4net two nodes {ours,10:F0} msg/s ({oursReceived} received, {dropped} dropped)  RabbitMQ.Client loop {reference,10:F0} msg/s ({referenceReceived} received)  ratio {ratio:F2}"));
            results.Add(new Dictionary<string, object>
            {
                ["size"] = size,
                ["ws4net_msgs_per_s"] = Math.Round(ours),
                ["reference_msgs_per_s"] = Math.Round(reference),
                ["ratio"] = Math.Round(ratio, 3),
                ["ws4net_received"] = oursReceived,
                ["ws4net_dropped"] = dropped,
                ["reference_received"] = referenceReceived,
            });
        }

        Console.Out.WriteLine("JSON " + JsonSerializer.Serialize(new Dictionary<string, object> { ["benchmark"] = "backplane", ["messages"] = _messages, ["results"] = results }));
        return complete ? 0 : 3;
    }

    /// <summary>Two nodes in this process: A publishes to a topic, B's WebSocket subscriber receives.</summary>
    private async Task<(double Rate, long Received, long Dropped)> RunOursAsync(int size, CancellationToken cancellationToken)
    {
        string exchange = "ws4net-bench-" + Guid.NewGuid().ToString("N")[..8];
        string suffix = Guid.NewGuid().ToString("N")[..6];
        await using var planeA = new RabbitMqBackplane(new RabbitMqBackplaneOptions { Uri = uri, ExchangeName = exchange, NodeId = "benchA" + suffix, MaxUnconfirmedPublishes = MaxUnconfirmed, PrefetchCount = Prefetch });
        await using var planeB = new RabbitMqBackplane(new RabbitMqBackplaneOptions { Uri = uri, ExchangeName = exchange, NodeId = "benchB" + suffix, MaxUnconfirmedPublishes = MaxUnconfirmed, PrefetchCount = Prefetch });
        var managerA = new WebSocketConnectionManager(backplane: planeA);
        var managerB = new WebSocketConnectionManager(backplane: planeB);
        planeA.Start();
        planeB.Start();
        await planeA.WaitUntilConnectedAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        await planeB.WaitUntilConnectedAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);

        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair(new WebSocketConnectionOptions { MaxBufferedAmount = 256 * 1024 * 1024, SendHighWaterMark = 128 * 1024 * 1024 });
        managerB.Add(server);
        managerB.Subscribe(server, Topic);

        // The binding is made asynchronously after the first subscriber: probe until one arrives.
        byte[] probe = [0];
        var probeSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long received = 0;
        long lastTicks = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(
            async () =>
            {
                while (await client.ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)
                {
                    if (message.Payload.Length == 1)
                    {
                        probeSeen.TrySetResult();
                        continue;
                    }

                    if (++received == _messages)
                    {
                        lastTicks = Stopwatch.GetTimestamp();
                        done.TrySetResult();
                    }
                }
            },
            cancellationToken);
        while (!probeSeen.Task.IsCompleted)
        {
            managerA.Publish(Topic, probe, WebSocketMessageKind.Binary);
            await Task.WhenAny(probeSeen.Task, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
        }

        await Task.Delay(200, cancellationToken).ConfigureAwait(false);   // late probes drain
        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < _messages; i++)
        {
            // Pace to the broker instead of dropping at the cap: the figure is throughput, not loss.
            while (planeA.PendingPublishes >= planeA.Options.MaxPendingPublishes - 64)
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }

            managerA.Publish(Topic, payload, WebSocketMessageKind.Binary);
        }

        await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(120), cancellationToken)).ConfigureAwait(false);
        long end = done.Task.IsCompleted ? lastTicks : Stopwatch.GetTimestamp();
        long dropped = planeA.GetStatistics().DroppedBufferFull;
        client.Abort();
        await reader.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return (received / Stopwatch.GetElapsedTime(start, end).TotalSeconds, received, dropped);
    }

    /// <summary>The reference: RabbitMQ.Client alone, same exchange type, confirms, prefetch and acks.</summary>
    private async Task<(double Rate, long Received)> RunReferenceAsync(int size, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), AutomaticRecoveryEnabled = false };
        string exchange = "ws4net-bench-ref-" + Guid.NewGuid().ToString("N")[..8];
        await using IConnection publisherConnection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using IConnection consumerConnection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using IChannel publisher = await publisherConnection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), cancellationToken).ConfigureAwait(false);
        await using IChannel consumer = await consumerConnection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await consumer.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: false, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        QueueDeclareOk queue = await consumer.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        await consumer.QueueBindAsync(queue.QueueName, exchange, "t." + Topic, cancellationToken: cancellationToken).ConfigureAwait(false);
        await consumer.BasicQosAsync(0, Prefetch, false, cancellationToken).ConfigureAwait(false);

        long received = 0;
        long lastTicks = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deliveries = new AsyncEventingBasicConsumer(consumer);
        deliveries.ReceivedAsync += async (_, args) =>
        {
            if (++received == _messages)
            {
                lastTicks = Stopwatch.GetTimestamp();
                done.TrySetResult();
            }

            await consumer.BasicAckAsync(args.DeliveryTag, false).ConfigureAwait(false);
        };
        await consumer.BasicConsumeAsync(queue.QueueName, autoAck: false, deliveries, cancellationToken).ConfigureAwait(false);

        long confirmedUpTo = 0;
        var confirmSignal = new SemaphoreSlim(0);
        publisher.BasicAcksAsync += (_, args) =>
        {
            Volatile.Write(ref confirmedUpTo, Math.Max(Volatile.Read(ref confirmedUpTo), (long)args.DeliveryTag));
            confirmSignal.Release();
            return Task.CompletedTask;
        };

        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);
        long start = Stopwatch.GetTimestamp();
        for (long i = 1; i <= _messages; i++)
        {
            while (i - Volatile.Read(ref confirmedUpTo) > MaxUnconfirmed)
            {
                await confirmSignal.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }

            var properties = new BasicProperties { AppId = "reference", Type = "binary", DeliveryMode = DeliveryModes.Transient };
            await publisher.BasicPublishAsync(exchange, "t." + Topic, mandatory: false, properties, payload, cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(120), cancellationToken)).ConfigureAwait(false);
        long end = done.Task.IsCompleted ? lastTicks : Stopwatch.GetTimestamp();
        return (Interlocked.Read(ref received) / Stopwatch.GetElapsedTime(start, end).TotalSeconds, Interlocked.Read(ref received));
    }
}
