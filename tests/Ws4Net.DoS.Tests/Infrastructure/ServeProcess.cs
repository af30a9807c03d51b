using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// `ws4net serve` in its own process (the built Ws4Net.Cli.dll run by `dotnet`), on a free loopback port,
/// with optional extra arguments (TLS certificate, limits). Samples its resident memory and descriptors from
/// /proc/PID. SIGTERM on dispose (the graceful shutdown), killed if it does not exit within 20 s.
/// </summary>
internal sealed partial class ServeProcess : IAsyncDisposable
{
    // WS4NET_DOS_SERVE_DLL runs the suite against another build of the CLI (for example one from before a fix).
    private static readonly string CliDll = Environment.GetEnvironmentVariable("WS4NET_DOS_SERVE_DLL") is { Length: > 0 } other
        ? other
        : Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    private string _stats = string.Empty;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process, bool tls)
    {
        _process = process;
        Tls = tls;
    }

    public int Port { get; private set; }

    public int Pid => _process.Id;

    public bool Tls { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>ws:// or wss:// base of the server, with a trailing slash.</summary>
    public Uri BaseUri => new($"{(Tls ? "wss" : "ws")}://127.0.0.1:{Port}/");

    public static async Task<ServeProcess> StartAsync(params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing from the test output");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(CliDll);
        foreach (string arg in new[] { "serve", "--port", "0", "--log-level", "Warning", "--stats-interval", "0.5" }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var serve = new ServeProcess(process, args.Contains("--cert"));
        _ = Task.Run(() => serve.PumpAsync(process.StandardOutput));
        _ = Task.Run(() => serve.PumpAsync(process.StandardError));
        Task done = await Task.WhenAny(serve._port.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (done != serve._port.Task)
        {
            string output = serve.Output;
            await serve.DisposeAsync();
            Assert.Fail($"ws4net serve did not start listening. Output:\n{output}");
        }

        serve.Port = await serve._port.Task;
        return serve;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A figure of the server's latest `stats:` line (--stats-interval 0.5), or -1 when not printed (yet).</summary>
    public long Stat(string name)
    {
        string line = Volatile.Read(ref _stats);
        int at = line.IndexOf(" " + name + "=", StringComparison.Ordinal);
        if (at < 0)
        {
            return -1;
        }

        int start = at + name.Length + 2;
        int end = line.IndexOf(' ', start);
        return long.Parse(end < 0 ? line[start..] : line[start..end], CultureInfo.InvariantCulture);
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the stat satisfies <paramref name="predicate"/>; returns its last value.</summary>
    public async Task<long> WaitForStatAsync(string name, Func<long, bool> predicate, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        long value;
        while (!predicate(value = Stat(name)) && watch.Elapsed < timeout)
        {
            await Task.Delay(100);
        }

        return value;
    }

    /// <summary>VmRSS of the server, KiB.</summary>
    public long RssKiB()
    {
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no VmRSS");
    }

    /// <summary>
    /// Open descriptors of the server (entries of /proc/PID/fd) other than regular files: sockets, pipes, epoll
    /// and event descriptors. Regular files are left out because the runtime opens each assembly it loads
    /// (lazily, once: the first TLS handshake or compressed message loads more), which is not a leak.
    /// </summary>
    public int FdCount()
    {
        int count = 0;
        foreach (string fd in Directory.GetFileSystemEntries($"/proc/{Pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && !target.StartsWith('/'))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        return count;
    }

    /// <summary>The server's descriptors grouped by kind (socket, pipe, anon_inode:[eventpoll], file), for messages.</summary>
    public string FdSummary()
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (string fd in Directory.GetFileSystemEntries($"/proc/{Pid}/fd"))
        {
            string kind;
            try
            {
                string target = new FileInfo(fd).LinkTarget ?? "?";
                int colon = target.IndexOf(':', StringComparison.Ordinal);
                kind = target.StartsWith('/') ? "file" : colon > 0 && target.StartsWith("anon_inode", StringComparison.Ordinal) ? target : colon > 0 ? target[..colon] : target;
            }
            catch (IOException)
            {
                continue;
            }

            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        return string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"));
    }

    /// <summary>Waits until the server's descriptor count is at most <paramref name="target"/>; returns the last count seen.</summary>
    public async Task<int> WaitForFdsAtMostAsync(int target, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        int count;
        while ((count = FdCount()) > target && watch.Elapsed < timeout)
        {
            await Task.Delay(200);
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (Process kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                if (_output.Length < 64 * 1024)
                {
                    _output.AppendLine(line);
                }
            }

            if (line.StartsWith("stats: ", StringComparison.Ordinal))
            {
                Volatile.Write(ref _stats, line);
                continue;
            }

            Match match = ServingPattern().Match(line);
            if (match.Success)
            {
                _port.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        }
    }

    [GeneratedRegex(@"is serving\. Open https?://[^/]*:(\d+)/")]
    private static partial Regex ServingPattern();
}
