using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Ws4Net.Soak;

/// <summary>
/// The soak test behind <c>eng/soak.sh</c>: starts two <c>ws4net serve</c> processes (ws and wss, compression
/// accepted), runs <see cref="Traffic"/> against both for the given time, samples each server every
/// <c>--sample-seconds</c> (VmRSS, open descriptors, managed heap after the last GC, open connections, and
/// the echo p99 of the interval) into <c>soak.csv</c>, fits a trend to the second half of every series
/// (<see cref="Trend"/>), writes <c>soak.svg</c> and <c>soak-summary.md</c>, and exits 1 when a series
/// rises beyond its tolerance, a long-lived client failed, or a server died.
/// </summary>
internal static class Program
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    private static async Task<int> Main(string[] args)
    {
        string? server = null;
        double minutes = 1;
        double sampleSeconds = 10;
        string output = Directory.GetCurrentDirectory();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--server": server = Next(); break;
                case "--minutes": minutes = double.Parse(Next(), s_inv); break;
                case "--sample-seconds": sampleSeconds = double.Parse(Next(), s_inv); break;
                case "--out": output = Next(); break;
                default:
                    Console.Error.WriteLine($"usage: Ws4Net.Soak --server PATH-TO-ws4net-OR-Ws4Net.Cli.dll [--minutes N] [--sample-seconds S] [--out DIR] (unknown argument {args[i]})");
                    return 2;
            }
        }

        if (server is null || minutes <= 0 || sampleSeconds <= 0)
        {
            Console.Error.WriteLine("usage: Ws4Net.Soak --server PATH-TO-ws4net-OR-Ws4Net.Cli.dll [--minutes N] [--sample-seconds S] [--out DIR]");
            return 2;
        }

        Directory.CreateDirectory(output);
        string pfx = Path.Combine(output, "soak-cert.pfx");
        await File.WriteAllBytesAsync(pfx, CreateCertificate()).ConfigureAwait(false);

        await using ServerProcess ws = await ServerProcess.StartAsync("ws", server, []).ConfigureAwait(false);
        await using ServerProcess wss = await ServerProcess.StartAsync("wss", server, ["--cert", pfx]).ConfigureAwait(false);
        ServerProcess[] servers = [ws, wss];
        Traffic[] traffic = [new Traffic(ws.Port, tls: false), new Traffic(wss.Port, tls: true)];
        Console.WriteLine($"soak: {minutes} min, ws server pid {ws.Pid} port {ws.Port}, wss server pid {wss.Pid} port {wss.Port}, a sample every {sampleSeconds} s");

        using var stop = new CancellationTokenSource();
        Task running = Task.WhenAll(traffic.Select(t => t.RunAsync(stop.Token)));

        string csvPath = Path.Combine(output, "soak.csv");
        var csv = new StringBuilder("elapsed_s");
        foreach (ServerProcess s in servers)
        {
            csv.Append(CultureInfo.InvariantCulture, $",{s.Name}_rss_kib,{s.Name}_fds,{s.Name}_gc_heap_kib,{s.Name}_connections,{s.Name}_echo_p99_ms,{s.Name}_echoes");
        }

        csv.AppendLine(",unexpected_failures,churned");
        await File.WriteAllTextAsync(csvPath, csv.ToString()).ConfigureAwait(false);

        var times = new List<double>();
        var series = new Dictionary<string, List<double>>();
        List<double> Column(string name) => series.TryGetValue(name, out List<double>? list) ? list : series[name] = [];

        // Warm-up, not sampled: at least 30 s (JIT, pools and buffers reach their working size) and until each
        // server has collected once (before that it has no heap-after-GC figure), at most 3 min.
        long warmup = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(warmup) < TimeSpan.FromSeconds(30)
            || (servers.Any(s => s.Sample().GcHeapBytes < 0) && Stopwatch.GetElapsedTime(warmup) < TimeSpan.FromMinutes(3)))
        {
            await Task.Delay(1000).ConfigureAwait(false);
        }

        foreach (Traffic t in traffic)
        {
            _ = t.TakeEchoLatencies();
        }

        Console.WriteLine($"soak: warmed up in {Stopwatch.GetElapsedTime(warmup).TotalSeconds:0} s; sampling");
        long start = Stopwatch.GetTimestamp();
        TimeSpan total = TimeSpan.FromMinutes(minutes);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(sampleSeconds));
        string? died = null;
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var row = new StringBuilder(elapsed.ToString("0.0", s_inv));
            times.Add(elapsed);
            for (int i = 0; i < servers.Length; i++)
            {
                ServerSample sample = servers[i].Sample();
                double[] latencies = traffic[i].TakeEchoLatencies();
                Array.Sort(latencies);
                double p99 = latencies.Length == 0 ? -1 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(0.99 * latencies.Length) - 1)];
                double heapKiB = sample.GcHeapBytes < 0 ? -1 : sample.GcHeapBytes / 1024.0;
                string name = servers[i].Name;
                Column($"{name}_rss_kib").Add(sample.RssKiB);
                Column($"{name}_fds").Add(sample.Fds);
                Column($"{name}_gc_heap_kib").Add(heapKiB);
                Column($"{name}_echo_p99_ms").Add(p99);
                row.Append(CultureInfo.InvariantCulture, $",{sample.RssKiB},{sample.Fds},{heapKiB:0},{sample.Connections},{p99:0.00},{latencies.Length}");
                if (servers[i].HasExited)
                {
                    died = $"the {name} server exited: {servers[i].Tail()}";
                }
            }

            long unexpected = traffic.Sum(t => t.Unexpected);
            row.Append(CultureInfo.InvariantCulture, $",{unexpected},{traffic.Sum(t => t.Churned)}").AppendLine();
            await File.AppendAllTextAsync(csvPath, row.ToString()).ConfigureAwait(false);
            Console.Write(row.ToString());
            if (died is not null || elapsed >= total.TotalSeconds - (sampleSeconds / 2))
            {
                break;
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);

        // Tolerated growth over the fitted second half: max(absolute, relative × the half's median).
        (string Suffix, string Label, string Unit, double Absolute, double Relative, double Scale)[] metrics =
        [
            ("rss_kib", "RSS", "MiB", 16, 0.10, 1 / 1024.0),
            ("fds", "open descriptors", "count", 32, 0.10, 1),
            ("gc_heap_kib", "managed heap after GC", "MiB", 16, 0.20, 1 / 1024.0),
            ("echo_p99_ms", "echo p99", "ms", 10, 0.50, 1),
        ];
        var trends = new List<Trend>();
        var lines = new List<Plot.Line>();
        for (int m = 0; m < metrics.Length; m++)
        {
            foreach (ServerProcess s in servers)
            {
                string column = $"{s.Name}_{metrics[m].Suffix}";
                List<double> values = Column(column).Select(v => v < 0 ? -1 : v * metrics[m].Scale).ToList();
                Trend trend = Trend.Fit(column, metrics[m].Unit, times, values, metrics[m].Absolute, metrics[m].Relative);
                trends.Add(trend);
                lines.Add(new Plot.Line(m, s.Name, times, values, trend));
            }
        }

        string svg = Path.Combine(output, "soak.svg");
        Plot.WriteSvg(svg, $"Ws4Net soak: {minutes:0.#} min of mixed traffic against ws4net serve (ws and wss)", metrics.Select(m => $"{m.Label} ({m.Unit})").ToList(), lines);

        long failures = traffic.Sum(t => t.Unexpected);
        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"Soak of {Stopwatch.GetElapsedTime(start).TotalMinutes:0.0} min, {times.Count} samples every {sampleSeconds:0} s; fitted over the second half (Theil-Sen; least squares beside it).");
        summary.AppendLine();
        summary.AppendLine("| series | start (mean of first 3) | end (mean of last 3) | slope /min (Theil-Sen) | slope /min (least squares) | growth over the half | tolerance | verdict |");
        summary.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (Trend t in trends)
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"| {t.Name} | {t.First:0.##} {t.Unit} | {t.Last:0.##} {t.Unit} | {t.Slope:+0.###;-0.###;0} | {t.LeastSquaresSlope:+0.###;-0.###;0} | {t.Growth:+0.##;-0.##;0} {t.Unit} | {t.Tolerance:0.##} {t.Unit} | {(double.IsNaN(t.Growth) ? "too few samples" : t.Rising ? "RISING" : "flat")} |");
        }

        summary.AppendLine();
        foreach ((Traffic t, ServerProcess s) in traffic.Zip(servers))
        {
            summary.AppendLine(CultureInfo.InvariantCulture, $"- {s.Name}: {t.Echoes:N0} echoes, {t.BroadcastReceived:N0} broadcast deliveries, {t.ChatReceived:N0} chat deliveries, {t.Churned:N0} churn connections, {t.Unexpected} unexpected client failures{(t.LastFailure is { } f ? $" (last: {f})" : string.Empty)}");
        }

        await File.WriteAllTextAsync(Path.Combine(output, "soak-summary.md"), summary.ToString()).ConfigureAwait(false);
        Console.WriteLine();
        Console.Write(summary.ToString());
        Console.WriteLine($"CSV: {csvPath}{Environment.NewLine}plot: {svg}");
        File.Delete(pfx);

        bool rising = trends.Any(t => t.Rising || double.IsNaN(t.Growth));
        if (died is not null)
        {
            Console.Error.WriteLine($"soak FAILED: {died}");
            return 1;
        }

        if (rising || failures > 0)
        {
            Console.Error.WriteLine($"soak FAILED: {(rising ? "a series trends upward (or has too few samples): " + string.Join(", ", trends.Where(t => t.Rising || double.IsNaN(t.Growth)).Select(t => t.Name)) : string.Empty)}{(failures > 0 ? $" {failures} unexpected client failures" : string.Empty)}");
            return 1;
        }

        Console.WriteLine("soak passed: no series trends upward, no unexpected failure");
        return 0;
    }

    private static byte[] CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        return certificate.Export(X509ContentType.Pkcs12);
    }
}
