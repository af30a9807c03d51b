using System.Diagnostics;
using Ws4Net.Client;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// Floods from one peer: 1,000 maximum-size (125-byte) pings a second while it does not read (owed pongs are
/// bounded by MaxPendingControlBytes, 64 KiB), 200,000 empty continuation frames inside one message, and
/// 1,000,000 one-byte messages (7 MB) pipelined without reading the echoes (the echo endpoint's backpressure stops
/// reading instead of buffering). The server stays bounded and the healthy client served.
/// </summary>
public sealed class FloodTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_ping_flood_from_a_peer_that_does_not_read_keeps_owed_pongs_bounded()
    {
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        (RawPeer peer, _) = await RawPeer.HandshakeAsync(server.Port);
        await using (peer)
        {
            // A small receive window (64 KiB: on loopback, smaller windows stall TCP in zero-window probing), so
            // that the pongs back up into the server instead of this process's socket buffer.
            peer.Socket.ReceiveBufferSize = 64 * 1024;
            byte[] ping = RawPeer.Frame(9, new byte[125]);   // the largest control frame (RFC 6455 §5.5)
            var watch = Stopwatch.StartNew();
            int sent = 0;
            using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (!flood.IsCancellationRequested)
            {
                // 1,000 pings a second, in bursts of 10 every 10 ms.
                var burst = new byte[ping.Length * 10];
                for (int i = 0; i < 10; i++)
                {
                    ping.CopyTo(burst, i * ping.Length);
                }

                try
                {
                    await peer.SendAsync(burst, flood.Token);
                }
                catch (OperationCanceledException)
                {
                    break;   // the server stopped reading: its owed pongs are at their cap and TCP pushes back
                }

                sent += 10;
                TimeSpan due = TimeSpan.FromMilliseconds(sent);
                if (due > watch.Elapsed)
                {
                    try
                    {
                        await Task.Delay(due - watch.Elapsed, flood.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            long peak = probe.PeakRssKiB;
            await probe.StopAndAssertAsync(output, rssBoundMiB: 32);

            // The connection still works: read the pongs that were sent, then an echo.
            await peer.SendAsync(RawPeer.Frame(2, [1, 2, 3]));
            int pongs = 0;
            ServerFrame? frame;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while ((frame = await peer.ReadFrameAsync(cts.Token)) is { Opcode: 10 })
            {
                Assert.Equal(125, frame.Payload.Length);
                pongs++;
            }

            output.WriteLine($"{sent} pings sent in {watch.Elapsed.TotalSeconds:0.0} s without reading; {pongs} pongs answered; peak RSS {peak / 1024} MiB");
            Assert.NotNull(frame);
            Assert.Equal(2, frame.Opcode);
            Assert.Equal(new byte[] { 1, 2, 3 }, frame.Payload);
            Assert.InRange(pongs, 1, sent);
        }
    }

    [Fact]
    public async Task Empty_continuation_frames_cost_nothing_and_the_message_arrives_whole()
    {
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        (RawPeer peer, _) = await RawPeer.HandshakeAsync(server.Port);
        await using (peer)
        {
            const int empties = 200_000;
            byte[] empty = RawPeer.Frame(0, [], fin: false);
            var batch = new byte[empty.Length * 1000];
            for (int i = 0; i < 1000; i++)
            {
                empty.CopyTo(batch, i * empty.Length);
            }

            await peer.SendAsync(RawPeer.Frame(1, "a"u8, fin: false));
            for (int i = 0; i < empties / 1000; i++)
            {
                await peer.SendAsync(batch);
            }

            await peer.SendAsync(RawPeer.Frame(0, "b"u8, fin: true));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            ServerFrame? echo = await peer.ReadFrameAsync(cts.Token);
            await probe.StopAndAssertAsync(output, rssBoundMiB: 32);
            Assert.NotNull(echo);
            Assert.Equal(1, echo.Opcode);
            Assert.Equal("ab"u8.ToArray(), echo.Payload);
        }
    }

    [Fact]
    public async Task Many_tiny_messages_pipelined_without_reading_the_echoes_are_all_echoed_at_bounded_memory()
    {
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        (RawPeer peer, _) = await RawPeer.HandshakeAsync(server.Port);
        await using (peer)
        {
            const int messages = 1_000_000;
            byte[] one = RawPeer.Frame(2, [42]);
            var batch = new byte[one.Length * 1000];
            for (int i = 0; i < 1000; i++)
            {
                one.CopyTo(batch, i * one.Length);
            }

            // Write everything without reading for 3 s: the writes stall once the server stops reading.
            Task writing = Task.Run(async () =>
            {
                for (int i = 0; i < messages / 1000; i++)
                {
                    await peer.SendAsync(batch);
                }
            });
            await Task.WhenAny(writing, Task.Delay(TimeSpan.FromSeconds(3)));
            long peakWhileStalled = probe.PeakRssKiB;
            bool writtenWithoutReading = writing.IsCompleted;
            int echoes = 0;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (echoes < messages && await peer.ReadFrameAsync(cts.Token) is { } frame)
            {
                Assert.Equal(2, frame.Opcode);
                Assert.Equal(42, Assert.Single(frame.Payload));
                echoes++;
            }

            await writing;
            output.WriteLine($"{messages} one-byte messages: {echoes} echoes; all written before reading: {writtenWithoutReading}; peak RSS while stalled {peakWhileStalled / 1024} MiB");
            await probe.StopAndAssertAsync(output, rssBoundMiB: 32);
            Assert.Equal(messages, echoes);
        }
    }
}
