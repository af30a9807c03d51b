using System.Collections.Concurrent;
using System.Diagnostics;
using Ws4Net.Client;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// The healthy client of every case, run while the hostile peers do their worst: one connection echoing a
/// 128-byte message every 20 ms (round-trip times recorded), a new connection (opening handshake, one echo,
/// close) every 250 ms (handshake times recorded), and the server's RSS sampled every 100 ms (peak kept).
/// <see cref="StopAndAssertAsync"/> checks the correctness bounds of <see cref="Bounds"/>.
/// </summary>
internal sealed class HealthProbe : IAsyncDisposable
{
    private readonly ServeProcess _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<double> _echoMs = new();
    private readonly ConcurrentQueue<double> _connectMs = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly Task[] _loops;
    private long _peakRssKiB;

    private HealthProbe(ServeProcess server)
    {
        _server = server;
        BaselineRssKiB = server.RssKiB();
        _peakRssKiB = BaselineRssKiB;
        _loops = [Task.Run(EchoLoopAsync), Task.Run(ConnectLoopAsync), Task.Run(RssLoopAsync)];
    }

    /// <summary>The server's RSS when the probe started, KiB.</summary>
    public long BaselineRssKiB { get; private set; }

    /// <summary>The highest RSS sampled so far, KiB.</summary>
    public long PeakRssKiB => Interlocked.Read(ref _peakRssKiB);

    /// <summary>Starts the probe and waits for its warm-up (a few echoes and one new connection, JIT included), whose figures are not kept.</summary>
    public static async Task<HealthProbe> StartAsync(ServeProcess server)
    {
        var probe = new HealthProbe(server);
        var watch = Stopwatch.StartNew();
        while ((probe._echoMs.Count < 5 || probe._connectMs.IsEmpty) && probe._failures.IsEmpty && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }

        Assert.True(probe._failures.IsEmpty, $"the healthy client failed during its warm-up: {probe._failures.FirstOrDefault()}");
        probe._echoMs.Clear();
        probe._connectMs.Clear();
        probe._started.Restart();
        probe.BaselineRssKiB = server.RssKiB();   // after the warm-up: the JIT and first buffers are not the case's
        Interlocked.Exchange(ref probe._peakRssKiB, probe.BaselineRssKiB);
        return probe;
    }

    private readonly Stopwatch _started = Stopwatch.StartNew();

    /// <summary>Stops the probe and asserts: no failure, echo p99 and every new handshake within bounds, peak RSS within <paramref name="rssBoundMiB"/> above the baseline.</summary>
    public async Task StopAndAssertAsync(ITestOutputHelper output, long rssBoundMiB)
    {
        // At least 3 s of probing, so that short cases still measure something.
        if (_started.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(TimeSpan.FromSeconds(3) - _started.Elapsed);
        }

        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        double[] echoes = [.. _echoMs.OrderBy(x => x)];
        double[] connects = [.. _connectMs.OrderBy(x => x)];
        double p99 = Percentile(echoes, 0.99);
        double connectMax = connects.Length == 0 ? double.NaN : connects[^1];
        long growthMiB = (PeakRssKiB - BaselineRssKiB) / 1024;
        output.WriteLine($"healthy client: {echoes.Length} echoes, p50 {Percentile(echoes, 0.5):0.0} ms, p99 {p99:0.0} ms, max {(echoes.Length == 0 ? 0 : echoes[^1]):0.0} ms; "
            + $"{connects.Length} new connections, handshake p50 {Percentile(connects, 0.5):0.0} ms, max {connectMax:0.0} ms; "
            + $"server RSS baseline {BaselineRssKiB / 1024} MiB, peak {PeakRssKiB / 1024} MiB (+{growthMiB} MiB, bound +{rssBoundMiB} MiB); failures {_failures.Count}");
        foreach (string failure in _failures.Take(5))
        {
            output.WriteLine($"  failure: {failure}");
        }

        Assert.False(_server.HasExited, $"the server exited: {_server.Output}");
        Assert.True(_failures.IsEmpty, $"the healthy client failed {_failures.Count} times, first: {_failures.FirstOrDefault()}");
        Assert.True(echoes.Length >= 20, $"the healthy client got only {echoes.Length} echoes");
        Assert.True(p99 <= Bounds.EchoP99.TotalMilliseconds, $"healthy echo p99 {p99:0.0} ms > bound {Bounds.EchoP99.TotalMilliseconds} ms");
        Assert.True(connects.Length >= 2, $"only {connects.Length} new connections were tried");
        Assert.True(connectMax <= Bounds.NewConnection.TotalMilliseconds, $"a new client's handshake took {connectMax:0.0} ms > bound {Bounds.NewConnection.TotalMilliseconds} ms");
        Assert.True(growthMiB <= rssBoundMiB, $"server RSS grew by {growthMiB} MiB > bound {rssBoundMiB} MiB");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }

    private static double Percentile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private WebSocketClientOptions Options() => new()
    {
        UseProxy = false,
        ConnectTimeout = Bounds.NewConnection + TimeSpan.FromSeconds(3),
        RemoteCertificateValidation = _server.Tls ? (_, _, _, _) => true : null,
    };

    private async Task EchoLoopAsync()
    {
        byte[] payload = new byte[128];
        Random.Shared.NextBytes(payload);
        WebSocketConnection? connection = null;
        try
        {
            connection = await WebSocketClient.ConnectAsync(new Uri(_server.BaseUri, "echo"), Options(), _stop.Token);
            while (!_stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                await connection.SendBinaryAsync(payload, _stop.Token);
                WebSocketMessage? echo = await connection.ReceiveAsync(_stop.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30), _stop.Token);
                if (echo is not { } message || !message.Payload.Span.SequenceEqual(payload))
                {
                    _failures.Enqueue($"echo: {(echo is null ? $"connection closed ({connection.CloseStatus})" : "wrong payload")}");
                    return;
                }

                _echoMs.Enqueue(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                await Task.Delay(20, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _failures.Enqueue($"echo: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            if (connection is not null)
            {
                connection.Abort();
                await connection.DisposeAsync();
            }
        }
    }

    private async Task ConnectLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                long start = Stopwatch.GetTimestamp();
                await using (WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri(_server.BaseUri, "echo"), Options(), CancellationToken.None))
                {
                    _connectMs.Enqueue(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    await connection.SendTextAsync("hello", CancellationToken.None);
                    if (await connection.ReceiveAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) is null)
                    {
                        _failures.Enqueue("new connection: closed before its echo");
                    }

                    connection.Abort();
                }

                await Task.Delay(250, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                _failures.Enqueue($"new connection: {ex.GetType().Name}: {ex.Message}");
                await Task.Delay(250);
            }
        }
    }

    private async Task RssLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                long rss = _server.RssKiB();
                if (rss > Interlocked.Read(ref _peakRssKiB))
                {
                    Interlocked.Exchange(ref _peakRssKiB, rss);
                }

                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            catch (IOException)
            {
                return;   // the server is gone: StopAndAssertAsync reports it
            }
        }
    }
}
