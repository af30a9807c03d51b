using System.Diagnostics;
using System.Text;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// Connection churn: 50,000 connections that are reset (TCP RST) at every stage: right after connect, in the
/// middle of the upgrade request, in the middle of a frame (plain and compressed), in the middle of the TLS
/// handshake, and inside TLS in the middle of the upgrade or of a frame. Afterwards the servers hold exactly
/// the descriptors they held before (no leaked socket) and no connection; their RSS stays within a bound of its
/// baseline and does not grow in a second round of the same churn; the healthy clients are served throughout.
/// </summary>
public sealed class ChurnTests(ITestOutputHelper output)
{
    private const int PlainConnections = 45_000;
    private const int TlsConnections = 5_000;

    /// <summary>RSS the servers may keep above their baseline after the churn (heap and pools grown once, not per connection).</summary>
    private const long RssAfterBoundMiB = 48;

    /// <summary>RSS the servers may add in the second of the two rounds (a leak of 1 KiB per connection would add 24 MiB).</summary>
    private const long RssSecondRoundBoundMiB = 12;

    [Fact]
    public async Task Fifty_thousand_connections_reset_at_every_stage_leak_no_descriptor_and_no_memory()
    {
        using TestCertificate certificate = TestCertificate.Create();
        await using ServeProcess ws = await ServeProcess.StartAsync();
        await using ServeProcess wss = await ServeProcess.StartAsync("--cert", certificate.PfxPath);

        // Warm-up: every kind once, so that what the runtime loads once (TLS, zlib) is in the baseline.
        for (int i = 0; i < 8; i++)
        {
            await ResetPlainAsync(ws.Port, i);
            await ResetTlsAsync(wss.Port, i);
        }

        await ws.WaitForStatAsync("connections", c => c == 0, TimeSpan.FromSeconds(10));
        await wss.WaitForStatAsync("connections", c => c == 0, TimeSpan.FromSeconds(10));
        await Task.Delay(500);
        int wsFds = ws.FdCount();
        int wssFds = wss.FdCount();
        await using HealthProbe wsProbe = await HealthProbe.StartAsync(ws);
        await using HealthProbe wssProbe = await HealthProbe.StartAsync(wss);
        long wsBaseline = wsProbe.BaselineRssKiB;
        long wssBaseline = wssProbe.BaselineRssKiB;

        // Two rounds of 25,000: the first may grow what grows once (heap, pools); the second must not grow it further.
        var watch = Stopwatch.StartNew();
        long failures = 0;
        var after = new (long Ws, long Wss)[2];
        for (int round = 0; round < 2; round++)
        {
            int offset = round * PlainConnections / 2;
            await Task.WhenAll(
                ParallelRun.ForAsync(PlainConnections / 2, 48, async i => await Guard(() => ResetPlainAsync(ws.Port, offset + i))),
                ParallelRun.ForAsync(TlsConnections / 2, 8, async i => await Guard(() => ResetTlsAsync(wss.Port, offset + i))));
            await ws.WaitForStatAsync("connections", c => c <= 1, TimeSpan.FromSeconds(20));    // the probe's connection
            await wss.WaitForStatAsync("connections", c => c <= 1, TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(1));
            after[round] = (ws.RssKiB(), wss.RssKiB());
        }

        double seconds = watch.Elapsed.TotalSeconds;
        long wsPeak = wsProbe.PeakRssKiB;
        long wssPeak = wssProbe.PeakRssKiB;
        await wsProbe.StopAndAssertAsync(output, rssBoundMiB: 96);
        await wssProbe.StopAndAssertAsync(output, rssBoundMiB: 96);

        long wsLeft = await ws.WaitForStatAsync("connections", c => c == 0, TimeSpan.FromSeconds(20));
        long wssLeft = await wss.WaitForStatAsync("connections", c => c == 0, TimeSpan.FromSeconds(20));
        int wsFdsAfter = await ws.WaitForFdsAtMostAsync(wsFds, TimeSpan.FromSeconds(20));
        int wssFdsAfter = await wss.WaitForFdsAtMostAsync(wssFds, TimeSpan.FromSeconds(20));
        output.WriteLine($"churn: {PlainConnections} plain + {TlsConnections} TLS connections reset in {seconds:0.0} s ({(PlainConnections + TlsConnections) / seconds:0} per s), {failures} attempts refused");
        output.WriteLine($"ws server: descriptors {wsFds} before, {wsFdsAfter} after; connections left {wsLeft}; RSS baseline {wsBaseline / 1024} MiB, peak {wsPeak / 1024} MiB, after round 1 {after[0].Ws / 1024} MiB, after round 2 {after[1].Ws / 1024} MiB; handshakes evicted {ws.Stat("handshakes_evicted")}");
        output.WriteLine($"wss server: descriptors {wssFds} before, {wssFdsAfter} after; connections left {wssLeft}; RSS baseline {wssBaseline / 1024} MiB, peak {wssPeak / 1024} MiB, after round 1 {after[0].Wss / 1024} MiB, after round 2 {after[1].Wss / 1024} MiB; handshakes evicted {wss.Stat("handshakes_evicted")}");
        Assert.Equal(0, wsLeft);
        Assert.Equal(0, wssLeft);
        Assert.True(wsFdsAfter <= wsFds, $"ws server: {wsFdsAfter - wsFds} descriptors leaked ({ws.FdSummary()})");
        Assert.True(wssFdsAfter <= wssFds, $"wss server: {wssFdsAfter - wssFds} descriptors leaked ({wss.FdSummary()})");
        Assert.True(after[1].Ws - wsBaseline <= RssAfterBoundMiB * 1024, $"ws server RSS {after[1].Ws / 1024} MiB after the churn, baseline {wsBaseline / 1024} MiB");
        Assert.True(after[1].Wss - wssBaseline <= RssAfterBoundMiB * 1024, $"wss server RSS {after[1].Wss / 1024} MiB after the churn, baseline {wssBaseline / 1024} MiB");
        Assert.True(after[1].Ws - after[0].Ws <= RssSecondRoundBoundMiB * 1024, $"ws server RSS grew by {(after[1].Ws - after[0].Ws) / 1024} MiB in the second round");
        Assert.True(after[1].Wss - after[0].Wss <= RssSecondRoundBoundMiB * 1024, $"wss server RSS grew by {(after[1].Wss - after[0].Wss) / 1024} MiB in the second round");
        Assert.True(failures <= (PlainConnections + TlsConnections) / 100, $"{failures} connection attempts failed");

        async Task<bool> Guard(Func<Task> attempt)
        {
            try
            {
                await attempt();
                return true;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
            {
                // A handshake the server refused or cut (e.g. a full accept backlog): counted, bounded above.
                Interlocked.Increment(ref failures);
                return false;
            }
        }
    }

    private static readonly byte[] s_request = Encoding.ASCII.GetBytes(RawPeer.UpgradeRequest());

    private static async Task ResetPlainAsync(int port, int i)
    {
        switch (i % 4)
        {
            case 0:
            {
                // Connect, then reset before sending anything.
                RawPeer peer = await RawPeer.ConnectAsync(port);
                peer.Reset();
                break;
            }

            case 1:
            {
                // Reset in the middle of the upgrade request.
                RawPeer peer = await RawPeer.ConnectAsync(port);
                await peer.SendAsync(s_request.AsMemory(0, 1 + (i % (s_request.Length - 1))));
                peer.Reset();
                break;
            }

            case 2:
            {
                // Reset in the middle of a 1,000-byte frame.
                (RawPeer peer, _) = await RawPeer.HandshakeAsync(port);
                byte[] frame = RawPeer.Frame(2, new byte[1000]);
                await peer.SendAsync(frame.AsMemory(0, 8 + (i % 500)));
                peer.Reset();
                break;
            }

            default:
            {
                // With permessage-deflate, reset in the middle of a compressed frame (RSV1).
                (RawPeer peer, _) = await RawPeer.HandshakeAsync(port, "/echo", "permessage-deflate");
                byte[] frame = RawPeer.Frame(2, new byte[] { 0x4A, 0x4C, 0x4A, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00 }, rsv1: true);
                await peer.SendAsync(frame.AsMemory(0, frame.Length - 3));
                peer.Reset();
                break;
            }
        }
    }

    private static async Task ResetTlsAsync(int port, int i)
    {
        switch (i % 3)
        {
            case 0:
            {
                // Reset in the middle of the TLS handshake: the start of a ClientHello record.
                RawPeer peer = await RawPeer.ConnectAsync(port);
                await peer.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03 });
                peer.Reset();
                break;
            }

            case 1:
            {
                // TLS done, reset in the middle of the upgrade request.
                RawPeer peer = await RawPeer.ConnectAsync(port);
                await peer.StartTlsAsync();
                await peer.SendAsync(s_request.AsMemory(0, 20));
                peer.Reset();
                break;
            }

            default:
            {
                // TLS and upgrade done, reset in the middle of a frame.
                (RawPeer peer, _) = await RawPeer.HandshakeAsync(port, tls: true);
                await peer.SendAsync(RawPeer.Frame(2, new byte[1000]).AsMemory(0, 100));
                peer.Reset();
                break;
            }
        }
    }
}
