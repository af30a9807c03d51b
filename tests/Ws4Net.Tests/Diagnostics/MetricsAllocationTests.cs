using System.Diagnostics.Metrics;
using Ws4Net.Client;
using Ws4Net.Diagnostics;
using Ws4Net.Tests.Compression;
using Xunit.Abstractions;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>
/// With a <see cref="MeterListener"/> attached to every Ws4Net instrument, steady-state echoes still
/// allocate nothing per message: the instruments take their tags as interned strings in a TagList and
/// the listener's callbacks add into fields. Runs alone (the allocation count is process-wide). Not a
/// timing test.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class MetricsAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Echoes_allocate_nothing_per_message_while_the_meter_is_listened_to()
    {
        const int Messages = 1_000_000;
        const int Pipeline = 16;
        long messages = 0;
        long bytes = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Ws4NetDiagnostics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // Read the tags as an exporter would (no copy).
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Value is null)
                {
                    throw new InvalidOperationException($"{instrument.Name}: tag {tag.Key} without a value");
                }
            }

            if (instrument.Name is Ws4NetDiagnostics.MessagesSent or Ws4NetDiagnostics.MessagesReceived)
            {
                Interlocked.Add(ref messages, value);
            }
            else if (instrument.Name is Ws4NetDiagnostics.BytesSent or Ws4NetDiagnostics.BytesReceived)
            {
                Interlocked.Add(ref bytes, value);
            }
        });
        listener.Start();

        await using TestServer server = await TestServer.StartAsync();
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Connection.KeepAliveInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await server.ConnectAsync("/echo", clientOptions);
        byte[] payload = new byte[64];
        const string Text = "a text message of forty-one UTF-8 bytes!!";

        await EchoAsync(client, payload, Text, 20_000, Pipeline);   // warm up: JIT, tiering, pools
        long messagesBefore = Interlocked.Read(ref messages);
        long bytesBefore = Interlocked.Read(ref bytes);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await EchoAsync(client, payload, Text, Messages, Pipeline);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        output.WriteLine($"{allocated:N0} bytes allocated over {Messages:N0} echoes with a listener ({(double)allocated / Messages:0.000} B/message)");

        // The listener saw every message: sent and received, on both ends (4 per echo).
        Assert.Equal(4L * Messages, Interlocked.Read(ref messages) - messagesBefore);
        Assert.Equal(4L * (Messages / 2 * payload.Length + Messages / 2 * Text.Length), Interlocked.Read(ref bytes) - bytesBefore);
        // Under half a byte per message: not one object per 48 messages. (What remains is the process's own
        // background: thread-pool and timer work, the same with and without a listener.)
        Assert.True(allocated < Messages / 2, $"{allocated:N0} bytes allocated over {Messages:N0} echoes");
    }

    [Fact]
    public void The_per_message_instruments_allocate_nothing_with_a_listener_on_this_thread()
    {
        long measurements = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Ws4NetDiagnostics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => measurements += tags.Length);
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) => measurements += tags.Length);
        listener.Start();

        // Everything a message, a pong or a refused send records: warm up, then count this thread's allocations.
        Record(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Record(100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(measurements > 100_000 * 8, $"only {measurements} tags were seen: the listener did not get the measurements");

        static void Record(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Ws4NetMetrics.Sent(WebSocketMessageKind.Text, 100, true, 50, compressionNegotiated: true);
                Ws4NetMetrics.Received(WebSocketMessageKind.Binary, 100, true, 50, compressionNegotiated: true);
                Ws4NetMetrics.Dropped(WebSocketMessageKind.Binary, WebSocketBackpressurePolicy.DropMessage);
                Ws4NetMetrics.PingRoundTrip(WebSocketRole.Client, TimeSpan.FromMilliseconds(1));
                Ws4NetMetrics.ConnectionClosed(WebSocketRole.Server, new WebSocketCloseInfo(WebSocketCloseCode.NormalClosure, string.Empty, true), 0);
            }
        }
    }

    private static async Task EchoAsync(WebSocketConnection client, byte[] payload, string text, int messages, int pipeline)
    {
        for (int done = 0; done < messages; done += pipeline)
        {
            for (int i = 0; i < pipeline; i++)
            {
                if (i % 2 == 0)
                {
                    await client.SendBinaryAsync(payload);
                }
                else
                {
                    await client.SendTextAsync(text);
                }
            }

            for (int i = 0; i < pipeline; i++)
            {
                WebSocketMessage? echo = await client.ReceiveAsync();
                if (echo is null || echo.Value.Payload.Length != (i % 2 == 0 ? payload.Length : text.Length))
                {
                    throw new InvalidOperationException("the echo differs");
                }
            }
        }
    }
}
