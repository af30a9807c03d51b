using System.Net.Sockets;
using Ws4Net.Client;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// The issue's first report: 20,000 broadcast messages of 4 KiB (78 MiB) to four healthy members and one raw
/// socket that stopped reading. The stalled member's send queue stops at MaxBufferedAmount (1 MiB): with the
/// default policy its messages are dropped and it stays connected; with `--backpressure close` it is closed
/// with 1008. The healthy members get every message, and the server's RSS stays bounded (it grew by about
/// 207 MiB before the driver rework).
/// </summary>
public sealed class StalledReaderTests(ITestOutputHelper output)
{
    private const int Messages = 20_000;
    private const int Size = 4096;
    private const int HealthyMembers = 4;

    [Theory]
    [InlineData("drop")]
    [InlineData("close")]
    public async Task A_member_that_stops_reading_a_broadcast_stream_costs_bounded_memory(string policy)
    {
        await using ServeProcess server = await ServeProcess.StartAsync("--backpressure", policy);
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        var options = new WebSocketClientOptions { UseProxy = false };

        // The stalled member never reads until the stream is over (the kernel's socket buffers take a few MiB
        // of the 78 MiB; the server's send queue for it stops at MaxBufferedAmount).
        RawPeer stalled = await RawPeer.ConnectAsync(server.Port);
        await stalled.SendAsync(RawPeer.UpgradeRequest("/broadcast"));
        Assert.StartsWith("HTTP/1.1 101", await stalled.ReadHttpHeadAsync(), StringComparison.Ordinal);

        var members = new WebSocketConnection[HealthyMembers + 1];   // the last one sends
        for (int i = 0; i < members.Length; i++)
        {
            members[i] = await WebSocketClient.ConnectAsync(new Uri(server.BaseUri, "broadcast"), options);
        }

        await server.WaitForStatAsync("connections", c => c >= members.Length + 2, TimeSpan.FromSeconds(10));
        var received = new long[members.Length];
        Task[] readers = members.Select((m, i) => Task.Run(async () =>
        {
            long expected = 0;
            while (await m.ReceiveAsync() is { } message)
            {
                Assert.Equal(Size, message.Payload.Length);
                Assert.Equal(expected, BitConverter.ToInt64(message.Payload.Span));   // in order, none lost
                expected++;
                if (Interlocked.Increment(ref received[i]) == Messages)
                {
                    return;
                }
            }
        })).ToArray();

        // The sender keeps at most 256 messages ahead of the slowest healthy member, so that only the stalled one falls behind.
        byte[] payload = new byte[Size];
        WebSocketConnection sender = members[^1];
        for (long n = 0; n < Messages; n++)
        {
            BitConverter.TryWriteBytes(payload, n);
            await sender.SendBinaryAsync(payload);
            while (n - received.Min() > 256)
            {
                await Task.Delay(1);
                Assert.False(readers.Any(r => r.IsFaulted), "a healthy member failed");
            }
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
        long peak = probe.PeakRssKiB;
        await probe.StopAndAssertAsync(output, rssBoundMiB: 64);

        // Now the stalled member reads what reached it.
        int data = 0;
        int closeCode = 0;
        bool ended = false;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(policy == "close" ? 10 : 2)))
        {
            try
            {
                while (await stalled.ReadFrameAsync(cts.Token) is { } frame)
                {
                    if (frame.Opcode == 8)
                    {
                        closeCode = frame.CloseCode;
                        break;
                    }

                    data++;
                }

                ended = closeCode == 0;
            }
            catch (OperationCanceledException)
            {
                // drop: the connection stays open, nothing more comes
            }
        }

        output.WriteLine($"policy {policy}: healthy members got {string.Join(", ", received.Take(HealthyMembers))} of {Messages}; the stalled member got {data} then close code {closeCode} (connection ended without one: {ended}); peak RSS {peak / 1024} MiB");
        Assert.All(received, r => Assert.Equal(Messages, r));
        Assert.True(data < Messages, "the stalled member got everything: it did not stall");
        if (policy == "close")
        {
            // The 1008 close frame is queued behind the data already in the send queue: a peer that reads again
            // within CloseTimeout (5 s) gets that data and then 1008; one that does not is aborted after it.
            Assert.True(closeCode == 1008 || ended, $"the stalled member was not disconnected (close code {closeCode})");
        }
        else
        {
            Assert.Equal(0, closeCode);   // dropped messages, connection kept
            await stalled.SendAsync(RawPeer.Frame(8, [0x03, 0xE8]));
            PeerEnd end = await stalled.ReadToEndAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(1000, end.CloseCode);
        }

        await stalled.DisposeAsync();
        foreach (WebSocketConnection member in members)
        {
            member.Abort();
            await member.DisposeAsync();
        }
    }
}
