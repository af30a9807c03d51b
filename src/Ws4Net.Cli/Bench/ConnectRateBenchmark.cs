using System.Diagnostics;
using System.Globalization;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// <c>ws4net bench connect-rate</c>: C loops, each repeating TCP connect + opening handshake + closing
/// handshake. Latency is connect start to the validated 101 response. One instance per run; not thread-safe.
/// </summary>
/// <param name="target">Any WebSocket endpoint of the server.</param>
/// <param name="concurrency">Number of loops.</param>
/// <param name="duration">Measured time.</param>
/// <param name="serverPid">The server's process id for its CPU use, or <see langword="null"/>.</param>
internal sealed class ConnectRateBenchmark(BenchTarget target, int concurrency, TimeSpan duration, int? serverPid)
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="cancellationToken">Ctrl-C: ends the run early.</param>
    /// <returns>The figures.</returns>
    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var histograms = new LatencyHistogram[concurrency];
        long handshakes = 0;
        long errors = 0;
        string? firstError = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var cpu = new CpuMeter(serverPid);
        long start = Stopwatch.GetTimestamp();
        long lastCount = 0;
        long lastTime = start;
        using var progressStop = new CancellationTokenSource();
        Task progress = ProgressLine.RunAsync(
            () =>
            {
                long count = Volatile.Read(ref handshakes);
                long now = Stopwatch.GetTimestamp();
                double rate = (count - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                lastCount = count;
                lastTime = now;
                return string.Create(CultureInfo.InvariantCulture, $"connect-rate {Stopwatch.GetElapsedTime(start).TotalSeconds:0}s: {rate:#,0} handshakes/s, {count:#,0} done, {Volatile.Read(ref errors)} errors");
            },
            progressStop.Token);

        cpu.Start();
        stop.CancelAfter(duration);
        var loops = new Task[concurrency];
        for (int i = 0; i < concurrency; i++)
        {
            LatencyHistogram mine = histograms[i] = new LatencyHistogram();
            loops[i] = Task.Run(
                async () =>
                {
                    byte[] scratch = new byte[512];
                    while (!stop.IsCancellationRequested)
                    {
                        long begin = Stopwatch.GetTimestamp();
                        RawConnection connection;
                        try
                        {
                            connection = await RawConnection.ConnectAsync(target, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (BenchException ex)
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, ex.Message, null);
                            continue;
                        }

                        mine.Record(Stopwatch.GetTimestamp() - begin);
                        Interlocked.Increment(ref handshakes);
                        if (!await connection.CloseAsync(null, scratch, TimeSpan.FromSeconds(2)).ConfigureAwait(false))
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, "the server did not answer the close handshake within 2 s", null);
                        }
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        TimeSpan measured = Stopwatch.GetElapsedTime(start);
        cpu.Stop();
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);
        if (firstError is not null)
        {
            await Console.Error.WriteLineAsync($"first error: {firstError}").ConfigureAwait(false);
        }

        var histogram = new LatencyHistogram();
        foreach (LatencyHistogram h in histograms)
        {
            histogram.Merge(h);
        }

        double seconds = Math.Max(measured.TotalSeconds, 1e-9);
        var report = new BenchReport();
        report.Add("bench", "connect-rate");
        report.Add("url", target.Uri.ToString());
        report.Add("concurrency", concurrency);
        report.Add("duration_s", seconds);
        report.Add("handshakes", handshakes);
        report.Add("msgs_per_s", handshakes / seconds);
        report.Add("handshakes_per_s", handshakes / seconds);
        report.AddLatency(histogram);
        report.Add("errors", errors);
        report.AddCpu(cpu);
        return report;
    }
}
