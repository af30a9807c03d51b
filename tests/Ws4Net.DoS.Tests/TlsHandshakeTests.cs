using System.Diagnostics;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// TLS: a flood of full TLS handshakes (16 loops handshaking and hanging up, for 10 s) together with 2,000
/// clients that never finish the TLS handshake (half send nothing, half the start of a ClientHello). The
/// unfinished ones are cut off without an answer within HandshakeTimeout (10 s); new wss clients are served
/// throughout and the server's memory stays bounded.
/// </summary>
public sealed class TlsHandshakeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_TLS_handshake_flood_and_clients_that_never_finish_TLS_do_not_starve_new_clients()
    {
        int stalled = DosEnvironment.Connections(2_000, output);
        using TestCertificate certificate = TestCertificate.Create();
        await using ServeProcess server = await ServeProcess.StartAsync("--cert", certificate.PfxPath);
        int fdsBefore = server.FdCount();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);

        // The clients that never finish.
        var watch = Stopwatch.StartNew();
        RawPeer[] peers = await ParallelRun.ForAsync(stalled, 64, async i =>
        {
            RawPeer peer = await RawPeer.ConnectAsync(server.Port);
            if (i % 2 == 1)
            {
                await peer.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03 });
            }

            return peer;
        });
        double opened = watch.Elapsed.TotalSeconds;
        Task<(int Bytes, bool Eof)[]> ends = Task.WhenAll(peers.Select(p => p.DrainAsync(Bounds.HandshakeTimeout + Bounds.TimeoutSlack)));

        // The flood, meanwhile.
        long handshakes = 0;
        long floodFailures = 0;
        using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!flood.IsCancellationRequested)
            {
                try
                {
                    RawPeer peer = await RawPeer.ConnectAsync(server.Port);
                    await using (peer)
                    {
                        await peer.StartTlsAsync();
                    }

                    Interlocked.Increment(ref handshakes);
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
                {
                    Interlocked.Increment(ref floodFailures);
                }
            }
        })));

        (int Bytes, bool Eof)[] results = await ends;
        double cut = watch.Elapsed.TotalSeconds;
        long peak = probe.PeakRssKiB;
        await probe.StopAndAssertAsync(output, rssBoundMiB: 128);
        foreach (RawPeer peer in peers)
        {
            await peer.DisposeAsync();
        }

        int fdsAfter = await server.WaitForFdsAtMostAsync(fdsBefore, TimeSpan.FromSeconds(20));
        output.WriteLine($"{stalled} unfinished TLS handshakes opened in {opened:0.0} s, {results.Count(r => r.Eof)} cut off (all by {cut:0.0} s), {results.Count(r => r.Bytes > 0)} got bytes; "
            + $"flood: {handshakes} full TLS handshakes in 10 s ({handshakes / 10.0:0}/s), {floodFailures} failed; peak RSS {peak / 1024} MiB; descriptors {fdsBefore} before, {fdsAfter} after");
        Assert.All(results, r => Assert.True(r.Eof, "an unfinished TLS handshake outlived HandshakeTimeout"));
        Assert.True(handshakes > 100, $"only {handshakes} flood handshakes completed");
        Assert.True(floodFailures <= handshakes / 100, $"{floodFailures} flood handshakes failed");
        Assert.True(fdsAfter <= fdsBefore, $"descriptors leaked: {fdsAfter} after, {fdsBefore} before ({server.FdSummary()})");
    }
}
