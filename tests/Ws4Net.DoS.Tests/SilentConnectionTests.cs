using System.Diagnostics;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// 10,000 connections that complete the opening handshake and then go silent (never send, never read). Without
/// keepalive they are held at a bounded cost per connection and released as soon as they reset; with
/// keepalive each gets a ping, then (no pong) a close frame with 1011 after KeepAliveTimeout, and TCP is cut
/// after CloseTimeout since it never answers the close.
/// </summary>
public sealed class SilentConnectionTests(ITestOutputHelper output)
{
    /// <summary>Server memory per silent connection the suite accepts (measured: about 5 KiB; docs/limits.md).</summary>
    private const int KiBPerConnection = 16;

    [Fact]
    public async Task Silent_connections_without_keepalive_cost_bounded_memory_and_are_released_on_reset()
    {
        int count = DosEnvironment.Connections(10_000, output);
        await using ServeProcess server = await ServeProcess.StartAsync("--keepalive", "0");
        int fdsBefore = server.FdCount();
        output.WriteLine($"descriptors before: {server.FdSummary()}");
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        var watch = Stopwatch.StartNew();
        RawPeer[] peers = await ParallelRun.ForAsync(count, 64, async _ => (await RawPeer.HandshakeAsync(server.Port)).Peer);
        output.WriteLine($"{count} silent connections open in {watch.Elapsed.TotalSeconds:0.0} s");
        long open = await server.WaitForStatAsync("connections", c => c >= count, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(3));   // held: nothing times them out
        long stillOpen = server.Stat("connections");
        long rssHeld = server.RssKiB();
        output.WriteLine($"server: {open} connections after the opening, {stillOpen} after 3 s of silence; RSS {rssHeld / 1024} MiB ({(rssHeld - probe.BaselineRssKiB) / (double)count:0.0} KiB per connection)");
        await probe.StopAndAssertAsync(output, rssBoundMiB: ((long)count * KiBPerConnection / 1024) + 64);

        foreach (RawPeer peer in peers)
        {
            peer.Reset();
        }

        int fdsAfter = await server.WaitForFdsAtMostAsync(fdsBefore, TimeSpan.FromSeconds(20));
        long left = await server.WaitForStatAsync("connections", c => c == 0, TimeSpan.FromSeconds(10));
        output.WriteLine($"after the resets: {left} connections, {fdsAfter} descriptors (before: {fdsBefore}): {server.FdSummary()}");
        Assert.True(stillOpen >= count, $"only {stillOpen} of {count} silent connections were held");
        Assert.Equal(0, left);
        Assert.True(fdsAfter <= fdsBefore, $"descriptors leaked: {fdsAfter} after, {fdsBefore} before");
    }

    [Fact]
    public async Task Silent_connections_with_keepalive_are_pinged_then_closed_with_1011_and_cut_after_the_close_timeout()
    {
        int count = DosEnvironment.Connections(10_000, output);
        var interval = TimeSpan.FromSeconds(2);
        var timeout = TimeSpan.FromSeconds(2);
        await using ServeProcess server = await ServeProcess.StartAsync("--keepalive", "2", "--keepalive-timeout", "2");
        int fdsBefore = server.FdCount();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        var watch = Stopwatch.StartNew();
        var opened = new double[count];
        RawPeer[] peers = await ParallelRun.ForAsync(count, 64, async i =>
        {
            RawPeer peer = (await RawPeer.HandshakeAsync(server.Port)).Peer;
            opened[i] = watch.Elapsed.TotalSeconds;
            return peer;
        });
        output.WriteLine($"{count} silent connections open in {watch.Elapsed.TotalSeconds:0.0} s");

        // Each peer: a ping after `interval` of silence, the 1011 close after `timeout` more, TCP cut after CloseTimeout.
        TimeSpan deadline = interval + timeout + Bounds.CloseTimeout + Bounds.TimeoutSlack;
        PeerEnd[] ends = await Task.WhenAll(peers.Select(p => p.ReadToEndAsync(deadline + TimeSpan.FromSeconds(watch.Elapsed.TotalSeconds))));
        double finished = watch.Elapsed.TotalSeconds;
        await probe.StopAndAssertAsync(output, rssBoundMiB: ((long)count * KiBPerConnection / 1024) + 64);
        foreach (RawPeer peer in peers)
        {
            await peer.DisposeAsync();
        }

        int pinged = ends.Count(e => e.Frames.Any(f => f.Opcode == 9));
        int closed1011 = ends.Count(e => e.CloseCode == 1011);
        int cut = ends.Count(e => e.Eof);
        int fdsAfter = await server.WaitForFdsAtMostAsync(fdsBefore, TimeSpan.FromSeconds(10));
        output.WriteLine($"keepalive: {pinged} pinged, {closed1011} closed with 1011, {cut} cut by the server, all within {finished:0.0} s of the start; descriptors {fdsAfter} (before: {fdsBefore})");
        Assert.Equal(count, pinged);
        Assert.Equal(count, closed1011);
        Assert.Equal(count, cut);
        Assert.True(fdsAfter <= fdsBefore, $"descriptors leaked: {fdsAfter} after, {fdsBefore} before");
    }
}
