using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ws4Net.Cli.Bench;
using Ws4Net.Cli.Demo;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// The load-benchmark tooling works end to end (never how fast anything is): `ws4net bench echo` against an
/// in-process demo server prints one JSON line with figures and no errors; a refused connection is a clear
/// error with a non-zero exit code; `eng/bench.sh --smoke` runs all three servers (Ws4Net, Kestrel, Node ws)
/// and writes the table. The frame parser and the histogram the generator relies on are checked directly.
/// </summary>
public sealed class BenchToolingTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    [Fact]
    public async Task Bench_echo_against_the_demo_server_prints_one_JSON_line_with_figures_and_no_errors()
    {
        await using WebSocketServer server = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await server.StartAsync().WithTimeout();
        int port = ((System.Net.IPEndPoint)server.LocalEndPoint!).Port;

        (int exitCode, string stdout, string stderr) = await RunAsync(
            TimeSpan.FromSeconds(60), "dotnet", CliDll, "bench", "echo", "--url", $"ws://127.0.0.1:{port}/echo",
            "--connections", "4", "--size", "64", "--pipeline", "4", "--duration", "2", "--warmup", "0.5");

        Assert.True(exitCode == 0, $"exit code {exitCode}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        string[] jsonLines = stdout.Split('\n').Where(l => l.StartsWith("JSON ", StringComparison.Ordinal)).ToArray();
        Assert.Single(jsonLines);
        using JsonDocument json = JsonDocument.Parse(jsonLines[0]["JSON ".Length..]);
        JsonElement root = json.RootElement;
        Assert.Equal("echo", root.GetProperty("bench").GetString());
        Assert.True(root.GetProperty("msgs_per_s").GetDouble() > 0, jsonLines[0]);
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.True(root.GetProperty("p50_us").GetDouble() > 0, jsonLines[0]);
        Assert.True(root.GetProperty("p99_us").GetDouble() >= root.GetProperty("p50_us").GetDouble(), jsonLines[0]);
        Assert.True(root.TryGetProperty("client_cpu_pct", out _), jsonLines[0]);
    }

    [Fact]
    public async Task Bench_fails_with_a_clear_message_and_exit_code_1_when_the_connection_is_refused()
    {
        (int exitCode, _, string stderr) = await RunAsync(
            TimeSpan.FromSeconds(60), "dotnet", CliDll, "bench", "connect-rate", "--url", "ws://127.0.0.1:1/echo", "--duration", "1");

        Assert.Equal(1, exitCode);
        Assert.Contains("error: cannot connect to ws://127.0.0.1:1/echo", stderr, StringComparison.Ordinal);
    }

    [NodeBenchFact]
    public async Task Bench_script_smoke_run_lists_all_three_servers_in_the_table()
    {
        string root = RepoRoot();
        string outDir = Path.Combine(Path.GetTempPath(), "ws4net-bench-smoke-" + Guid.NewGuid().ToString("N"));
        try
        {
            (int exitCode, string stdout, string stderr) = await RunAsync(
                TimeSpan.FromSeconds(180), "bash", Path.Combine(root, "eng", "bench.sh"), "--smoke", "--out", outDir);

            Assert.True(exitCode == 0, $"eng/bench.sh --smoke exited with {exitCode}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            string table = await File.ReadAllTextAsync(Path.Combine(outDir, "results.md"));
            string[] rows = table.Split('\n').Where(l => l.StartsWith("| smoke-", StringComparison.Ordinal)).ToArray();
            foreach (string server in new[] { "Ws4Net", "Kestrel", "Node ws" })
            {
                Assert.True(rows.Any(r => r.Contains($"| {server} |", StringComparison.Ordinal) && !r.Contains("failed", StringComparison.Ordinal)), $"no result for {server}:\n{table}\nstderr:\n{stderr}");
            }

            string[] results = await File.ReadAllLinesAsync(Path.Combine(outDir, "results.jsonl"));
            Assert.Equal(6, results.Length);   // 2 cases x 3 servers
            Assert.All(results, line => Assert.DoesNotContain("\"error\"", line, StringComparison.Ordinal));
        }
        finally
        {
            if (Directory.Exists(outDir))
            {
                Directory.Delete(outDir, recursive: true);
            }
        }
    }

    [Fact]
    public void Frame_parser_gives_the_same_messages_for_any_chunking()
    {
        byte[] stream = ServerFrames(out int messages);
        foreach (int chunk in new[] { 1, 2, 3, 7, 100, 4096, stream.Length })
        {
            var parser = new PrefixCollector();
            int completed = 0;
            for (int i = 0; i < stream.Length; i += chunk)
            {
                completed += parser.Feed(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
            }

            Assert.Equal(messages, completed);
            Assert.Equal(["short", "AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB", "fragmented"], parser.Prefixes);
            Assert.Equal(1, parser.Pings);
            Assert.True(parser.CloseReceived);
        }
    }

    [Fact]
    public void Histogram_quantiles_are_within_one_percent_and_merge_adds_counts()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        for (long v = 1; v <= 10_000; v++)
        {
            (v % 2 == 0 ? a : b).Record(v * 1000);
        }

        a.Merge(b);
        Assert.Equal(10_000, a.Count);
        Assert.Equal(10_000_000, a.Max);
        Assert.InRange(a.ValueAtQuantile(0.5), 5_000_000, 5_050_000);
        Assert.InRange(a.ValueAtQuantile(0.99), 9_900_000, 9_999_000);
        Assert.Equal(a.Max, a.ValueAtQuantile(1.0));
        for (long v = 0; v < 1_000_000; v += 997)
        {
            Assert.InRange(LatencyHistogram.UpperBoundOf(LatencyHistogram.IndexOf(v)), v, v + (v / 128) + 1);
        }
    }

    private static byte[] ServerFrames(out int messages)
    {
        var frames = new List<byte>();
        void Frame(byte first, byte[] payload)
        {
            frames.Add(first);
            if (payload.Length < 126)
            {
                frames.Add((byte)payload.Length);
            }
            else if (payload.Length <= ushort.MaxValue)
            {
                frames.Add(126);
                frames.Add((byte)(payload.Length >> 8));
                frames.Add((byte)payload.Length);
            }
            else
            {
                frames.Add(127);
                for (int shift = 56; shift >= 0; shift -= 8)
                {
                    frames.Add((byte)((long)payload.Length >> shift));
                }
            }

            frames.AddRange(payload);
        }

        Frame(0x81, Encoding.ASCII.GetBytes("short"));
        Frame(0x82, Enumerable.Repeat((byte)'A', 1000).ToArray());      // 16-bit length
        Frame(0x82, Enumerable.Repeat((byte)'B', 70_000).ToArray());    // 64-bit length
        Frame(0x01, Encoding.ASCII.GetBytes("frag"));                   // text, not final
        Frame(0x89, Encoding.ASCII.GetBytes("ping"));                   // control frame between fragments
        Frame(0x80, Encoding.ASCII.GetBytes("mented"));                 // final continuation
        Frame(0x88, [0x03, 0xE8]);
        messages = 4;
        return [.. frames];
    }

    private static string RepoRoot()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_REPO_ROOT");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "Ws4Net.slnx")))
        {
            return fromEnv;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ws4Net.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"cannot find the repository root above {AppContext.BaseDirectory}; set WS4NET_REPO_ROOT");
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private sealed class PrefixCollector() : ServerFrameParser(keepPrefix: true)
    {
        public List<string> Prefixes { get; } = [];

        protected override void OnMessage(ReadOnlySpan<byte> prefix) => Prefixes.Add(Encoding.ASCII.GetString(prefix));
    }
}
