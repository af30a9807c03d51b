using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// Slowloris: 5,000 connections that send the upgrade request one byte every 2 s and reconnect as soon as
/// they are cut off. Each must be disconnected without an HTTP answer within the handshake deadline
/// (HandshakeTimeout, 10 s; earlier when the handshake table is full and it is the oldest entry), and a new
/// healthy client must be served at once meanwhile (before the fix, the MaxConcurrentHandshakes slots were
/// held by the slow peers and new clients queued for them: seconds, or a timeout).
/// </summary>
public sealed class SlowlorisTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Attack = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ByteInterval = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Slowloris_connections_are_cut_off_at_the_handshake_deadline_and_do_not_delay_new_clients()
    {
        int lanes = DosEnvironment.Connections(5_000, output);
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        byte[] request = System.Text.Encoding.ASCII.GetBytes(RawPeer.UpgradeRequest());
        var lifetimes = new ConcurrentBag<double>();
        var answered = new ConcurrentBag<int>();
        var overdue = new ConcurrentBag<double>();
        long connects = 0;
        long connectFailures = 0;
        var attack = Stopwatch.StartNew();

        async Task Lane(int lane)
        {
            await Task.Delay(lane % 1000 * 5);   // open the 5,000 over about 5 s
            while (attack.Elapsed < Attack)
            {
                RawPeer peer;
                try
                {
                    peer = await RawPeer.ConnectAsync(server.Port);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    Interlocked.Increment(ref connectFailures);   // backlog full for a moment: retry
                    await Task.Delay(100);
                    continue;
                }

                Interlocked.Increment(ref connects);
                var lived = Stopwatch.StartNew();
                await using (peer)
                {
                    Task<(int Bytes, bool Eof)> end = peer.DrainAsync(Bounds.HandshakeTimeout + Bounds.TimeoutSlack);
                    int sent = 0;
                    while (!end.IsCompleted && sent < request.Length)
                    {
                        try
                        {
                            await peer.SendAsync(request.AsMemory(sent++, 1));
                        }
                        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                        {
                            break;
                        }

                        await Task.WhenAny(end, Task.Delay(ByteInterval));
                    }

                    (int bytes, bool eof) = await end;
                    lifetimes.Add(lived.Elapsed.TotalSeconds);
                    if (bytes > 0)
                    {
                        answered.Add(bytes);
                    }

                    if (!eof)
                    {
                        overdue.Add(lived.Elapsed.TotalSeconds);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, lanes).Select(i => Task.Run(() => Lane(i))));
        long evicted = server.Stat("handshakes_evicted");
        double[] sorted = [.. lifetimes.OrderBy(x => x)];
        output.WriteLine($"slowloris: {lanes} lanes, {connects} connections over {attack.Elapsed.TotalSeconds:0} s ({connectFailures} connect retries); "
            + $"lifetime p50 {sorted[sorted.Length / 2]:0.0} s, max {sorted[^1]:0.0} s; server evicted {evicted} pending handshakes; {answered.Count} got an HTTP answer; {overdue.Count} outlived the deadline");

        await probe.StopAndAssertAsync(output, rssBoundMiB: 150);
        Assert.Empty(overdue);    // every slow peer is disconnected within HandshakeTimeout (+ slack)
        Assert.Empty(answered);   // ... without an HTTP answer
        Assert.True(connects >= lanes, $"only {connects} slowloris connections were made");
        Assert.True(sorted[^1] <= (Bounds.HandshakeTimeout + Bounds.TimeoutSlack).TotalSeconds, $"a slow peer lived {sorted[^1]:0.0} s");
    }
}
