using System.Diagnostics;
using System.Globalization;
using Ws4Net.Client;
using Ws4Net.Protocol.Compression;
using Xunit.Abstractions;

namespace Ws4Net.Tests.Compression;

/// <summary>
/// What idle compressed connections cost. Both ends run in this process, so every figure is per
/// connection PAIR (our client's connection and the server's). zlib state is native memory, outside the
/// GC heap: the pooled mode is checked with <see cref="WebSocketConnection.HoldsCompressionState"/> and
/// the managed heap; the context-takeover mode with the process working set (RSS).
/// </summary>
/// <remarks>
/// Runs alone (its own collection, no parallel tests) so the heap and RSS deltas are its own.
/// The figures are printed to the test output and recorded in docs/compression.md.
/// </remarks>
[Collection(MemoryCollection.Name)]
public sealed class CompressionMemoryTests(ITestOutputHelper output)
{
    private const int PooledConnections = 2000;
    private const int TakeoverConnections = 500;
    private const int Batch = 50;

    /// <summary>
    /// 2,000 connections with no context takeover both ways (pooled zlib states) each exchange one
    /// compressed message, then idle with a receive pending. Afterwards no connection, on either side,
    /// holds a zlib state, and the managed heap grew by at most 4 KiB per connection pair more than for
    /// 2,000 uncompressed connections doing the same (measured first, in the same process), and by less
    /// than 64 KiB per pair in absolute terms.
    /// </summary>
    /// <remarks>
    /// The bounds: an idle uncompressed connection pair costs about 25 KiB of managed heap here (two
    /// connection objects, two sockets and their async state, the server's handler, request and pending
    /// state machines; no buffers, thanks to zero-byte reads). Compression may add only its small codec
    /// objects per idle connection (well under 1 KiB); 4 KiB leaves room for GC noise while any
    /// per-connection buffer kept by compression (a 16 KiB receive buffer, a 32 KiB window, an assembly
    /// buffer) would break it.
    /// </remarks>
    [Fact]
    public async Task Two_thousand_pooled_connections_hold_no_zlib_state_when_idle()
    {
        var clock = Stopwatch.StartNew();
        double baselineHeapPerPair;
        await using (TestServer plain = await TestServer.StartAsync(configure: o => o.MaxConcurrentHandshakes = 1024))
        {
            WebSocketClientOptions plainOptions = plain.ClientOptions(maxMessageSize: 64 * 1024);
            await WarmUpAsync(plain, plainOptions);
            long plainBefore = GC.GetTotalMemory(forceFullCollection: true);
            long plainRssBefore = WorkingSet();
            var plainClients = new List<WebSocketConnection>(PooledConnections);
            var plainPending = new List<Task<WebSocketMessage?>>(PooledConnections);
            try
            {
                await OpenAndExchangeAsync(plain, plainOptions, PooledConnections, plainClients, plainPending);
                baselineHeapPerPair = (GC.GetTotalMemory(forceFullCollection: true) - plainBefore) / (double)PooledConnections;
                Report("uncompressed baseline", PooledConnections, baselineHeapPerPair, (WorkingSet() - plainRssBefore) / (double)PooledConnections, clock.Elapsed);
                Assert.All(plainClients, c => Assert.Null(c.PerMessageDeflate));
            }
            finally
            {
                await CloseAllAsync(plainClients, plainPending);
            }
        }

        await using TestServer server = await StartAsync(noContextTakeover: true);
        WebSocketClientOptions options = ClientOptions(server);

        await WarmUpAsync(server, options);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long rssBefore = WorkingSet();

        var clients = new List<WebSocketConnection>(PooledConnections);
        var pending = new List<Task<WebSocketMessage?>>(PooledConnections);
        try
        {
            await OpenAndExchangeAsync(server, options, PooledConnections, clients, pending);
            Assert.Equal(PooledConnections, server.Server.Connections.Count);

            long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            long rssAfter = WorkingSet();
            double heapPerPair = (heapAfter - heapBefore) / (double)PooledConnections;
            double rssPerPair = (rssAfter - rssBefore) / (double)PooledConnections;
            Report("pooled (no context takeover both ways, 15-bit windows)", PooledConnections, heapPerPair, rssPerPair, clock.Elapsed);

            Assert.All(clients, c => Assert.True(c.PerMessageDeflate is { ServerNoContextTakeover: true, ClientNoContextTakeover: true }));
            Assert.DoesNotContain(clients, c => c.HoldsCompressionState);
            IReadOnlyCollection<WebSocketConnection> serverSide = server.Server.Connections;
            Assert.All(serverSide, c => Assert.NotNull(c.PerMessageDeflate));
            Assert.DoesNotContain(serverSide, c => c.HoldsCompressionState);
            Assert.True(heapPerPair < 64 * 1024, $"the managed heap grew by {heapPerPair:N0} bytes per idle compressed connection pair");
            Assert.True(heapPerPair - baselineHeapPerPair < 4 * 1024, $"compression costs {heapPerPair - baselineHeapPerPair:N0} bytes of managed heap per idle connection pair ({heapPerPair:N0} vs {baselineHeapPerPair:N0} uncompressed)");
        }
        finally
        {
            await CloseAllAsync(clients, pending);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// 500 connections with context takeover both ways and 15-bit windows: each direction keeps its zlib
    /// states for the life of the connection. Reports the RSS per connection pair and checks it stays under
    /// 1.5 MiB (zlib's documented need, deflate 2^(w+2) + 2^(m+9) = 256 KiB plus inflate 2^w = 32 KiB plus
    /// a few KiB per side, is about 600 KiB per pair at most, and only touched pages count).
    /// </summary>
    [Fact]
    public async Task Context_takeover_connections_keep_their_zlib_state_and_its_cost_is_bounded()
    {
        var clock = Stopwatch.StartNew();
        await using TestServer server = await StartAsync(noContextTakeover: false);
        WebSocketClientOptions options = ClientOptions(server);

        await WarmUpAsync(server, options);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long rssBefore = WorkingSet();

        var clients = new List<WebSocketConnection>(TakeoverConnections);
        var pending = new List<Task<WebSocketMessage?>>(TakeoverConnections);
        try
        {
            await OpenAndExchangeAsync(server, options, TakeoverConnections, clients, pending);
            long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            long rssAfter = WorkingSet();
            double heapPerPair = (heapAfter - heapBefore) / (double)TakeoverConnections;
            double rssPerPair = (rssAfter - rssBefore) / (double)TakeoverConnections;
            Report("context takeover both ways, 15-bit windows", TakeoverConnections, heapPerPair, rssPerPair, clock.Elapsed);

            Assert.All(clients, c => Assert.True(c.HoldsCompressionState));
            Assert.All(server.Server.Connections, c => Assert.True(c.HoldsCompressionState));
            Assert.True(heapPerPair < 64 * 1024, $"the managed heap grew by {heapPerPair:N0} bytes per connection pair");
            Assert.True(rssPerPair < 1.5 * 1024 * 1024, $"RSS grew by {rssPerPair:N0} bytes per connection pair");
        }
        finally
        {
            await CloseAllAsync(clients, pending);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static Task<TestServer> StartAsync(bool noContextTakeover)
        => TestServer.StartAsync(configure: o =>
        {
            o.PerMessageDeflate = new PerMessageDeflateOptions
            {
                ServerNoContextTakeover = noContextTakeover,
                ClientNoContextTakeover = noContextTakeover,
                Threshold = 0,
            };
            o.MaxConcurrentHandshakes = 1024;
        });

    private static WebSocketClientOptions ClientOptions(TestServer server)
    {
        WebSocketClientOptions options = server.ClientOptions(maxMessageSize: 64 * 1024);
        options.PerMessageDeflate = new PerMessageDeflateOptions { Threshold = 0 };
        return options;
    }

    /// <summary>One compressible 2 KiB message per connection (a chat line, a JSON document).</summary>
    private static readonly byte[] Message = CompressedLoopbackTests.Compressible(2048);

    private static async Task OpenAndExchangeAsync(TestServer server, WebSocketClientOptions options, int count, List<WebSocketConnection> clients, List<Task<WebSocketMessage?>> pending)
    {
        for (int start = 0; start < count; start += Batch)
        {
            WebSocketConnection[] batch = await Task.WhenAll(Enumerable.Range(0, Math.Min(Batch, count - start)).Select(async _ =>
            {
                WebSocketConnection client = await WebSocketClient.ConnectAsync(server.Uri("/echo"), options).WithTimeout();
                await client.SendAsync(Message, WebSocketMessageKind.Binary, WebSocketSendFlags.EndOfMessage | WebSocketSendFlags.ForceCompression).WithTimeout();
                WebSocketMessage? echo = await client.ReceiveAsync().WithTimeout();
                Assert.True(echo is { } m && m.Payload.Span.SequenceEqual(Message), "echo differs");
                return client;
            })).WithTimeout(TimeSpan.FromSeconds(60));
            foreach (WebSocketConnection client in batch)
            {
                clients.Add(client);

                // Idle the way a client idles: a receive pending (which releases the last message's buffers).
                pending.Add(client.ReceiveAsync().AsTask());
            }
        }

        // Let every server handler return to its zero-byte read.
        await Task.Delay(200);
    }

    private static async Task WarmUpAsync(TestServer server, WebSocketClientOptions options)
    {
        var clients = new List<WebSocketConnection>();
        var pending = new List<Task<WebSocketMessage?>>();
        await OpenAndExchangeAsync(server, options, Batch, clients, pending);
        await CloseAllAsync(clients, pending);
        await WaitForAsync(() => server.Server.Connections.Count == 0, TimeSpan.FromSeconds(20));
    }

    private static async Task CloseAllAsync(List<WebSocketConnection> clients, List<Task<WebSocketMessage?>> pending)
    {
        for (int start = 0; start < clients.Count; start += 200)
        {
            await Task.WhenAll(clients.Skip(start).Take(200).Select(async c =>
            {
                try
                {
                    await c.CloseAsync().WithTimeout();
                }
                catch (Exception ex) when (ex is TimeoutException or WebSocketClosedException or IOException)
                {
                    c.Abort();
                }

                await c.DisposeAsync().AsTask().WithTimeout();
            })).WithTimeout(TimeSpan.FromSeconds(60));
        }

        await Task.WhenAll(pending).WithTimeout(TimeSpan.FromSeconds(30));
        clients.Clear();
        pending.Clear();
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, "condition not reached in time");
            await Task.Delay(20);
        }
    }

    private static long WorkingSet()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    private void Report(string mode, int connections, double heapPerPair, double rssPerPair, TimeSpan elapsed)
        => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MEMORY {mode}: {connections} idle connection pairs, managed heap {heapPerPair / 1024:0.0} KiB/pair, RSS {rssPerPair / 1024:0.0} KiB/pair, {elapsed.TotalSeconds:0.0} s"));
}

/// <summary>Memory measurements run alone: other test classes would disturb the heap and RSS deltas.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    public const string Name = "Compression memory";
}
