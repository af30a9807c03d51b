using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using Ws4Net.Diagnostics;
using BclCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>
/// Connections accepted through Kestrel report to the same <c>Ws4Net</c> meter as the standalone server's
/// (issue 10 §3): observed with a <see cref="MeterListener"/> over HTTP/1.1 and HTTP/2. The meter is process
/// wide and other tests run in parallel, so each case looks for its own distinctive sizes and close code.
/// </summary>
public sealed class KestrelMetricsTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false, 1717, 4217)]
    [InlineData(true, 1719, 4219)]
    public async Task A_kestrel_connection_reports_opened_messages_bytes_and_its_close_code(bool http2, int size, int closeCode)
    {
        var measurements = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
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
            var map = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            measurements.Enqueue((instrument.Name, value, map));
        });
        listener.Start();

        await using KestrelHost host = await KestrelHost.StartAsync(app => app.MapWebSocket<EchoHandler>("/echo"));
        using (ClientWebSocket client = await host.ConnectAsync("/echo", http2))
        {
            byte[] payload = new byte[size];
            await client.SendAsync(payload, BclMessageType.Binary, endOfMessage: true, CancellationToken.None).WaitAsync(Step);
            byte[] buffer = new byte[size + 16];
            int received = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(new ArraySegment<byte>(buffer, received, buffer.Length - received), CancellationToken.None).WaitAsync(Step);
                received += result.Count;
            }
            while (!result.EndOfMessage);

            Assert.Equal(size, received);
            await client.CloseAsync((BclCloseStatus)closeCode, "metrics", CancellationToken.None).WaitAsync(Step);
        }

        // The server side records the close when its transport is released, just after the client's close completes.
        DateTime deadline = DateTime.UtcNow + Step;
        while (!measurements.Any(m => m.Instrument == Ws4NetDiagnostics.ConnectionsClosed && Equals(Tag(m.Tags, Ws4NetDiagnostics.CloseCodeTag)?.ToString(), closeCode.ToString(System.Globalization.CultureInfo.InvariantCulture))) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        listener.RecordObservableInstruments();
        (string Instrument, long Value, Dictionary<string, object?> Tags)[] all = measurements.ToArray();
        Assert.Contains(all, m => m.Instrument == Ws4NetDiagnostics.ConnectionsOpened && Equals(Tag(m.Tags, Ws4NetDiagnostics.RoleTag), "server"));
        Assert.Contains(all, m => m.Instrument == Ws4NetDiagnostics.BytesReceived && m.Value == size && Equals(Tag(m.Tags, Ws4NetDiagnostics.RoleTag) ?? "server", "server"));
        Assert.Contains(all, m => m.Instrument == Ws4NetDiagnostics.BytesSent && m.Value == size);
        Assert.Contains(all, m => m.Instrument == Ws4NetDiagnostics.ConnectionsClosed
            && Tag(m.Tags, Ws4NetDiagnostics.CloseCodeTag)?.ToString() == closeCode.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && Equals(Tag(m.Tags, Ws4NetDiagnostics.CloseInitiatorTag), "remote"));
    }

    private static object? Tag(Dictionary<string, object?> tags, string key) => tags.TryGetValue(key, out object? value) ? value : null;
}
