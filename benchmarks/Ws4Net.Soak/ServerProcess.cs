using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Ws4Net.Soak;

/// <summary>
/// One <c>ws4net serve</c> child process: started on a free port with <c>--stats-interval</c>, its standard
/// output read for the bound address and the latest <c>stats:</c> line (managed heap), and sampled from
/// <c>/proc/PID</c> (VmRSS, open file descriptors). Thread-safe for <see cref="Sample"/>.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _sync = new();
    private long _gcHeapBytes = -1;
    private long _connections = -1;
    private readonly Queue<string> _tail = new();

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>Gets the label of this server in the CSV ("ws" or "wss").</summary>
    public string Name { get; }

    /// <summary>Gets the process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the TCP port the server listens on (after <see cref="StartAsync"/>).</summary>
    public int Port { get; private set; }

    /// <summary>Starts <c>ws4net serve</c> and waits until it listens.</summary>
    /// <param name="name">CSV label.</param>
    /// <param name="server">Path of the ws4net executable, or of Ws4Net.Cli.dll (run with <c>dotnet</c>).</param>
    /// <param name="extraArguments">Further <c>serve</c> arguments (certificate, ...).</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">It exited or did not print its address within 60 s.</exception>
    public static async Task<ServerProcess> StartAsync(string name, string server, IEnumerable<string> extraArguments)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (server.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            info.FileName = "dotnet";
            info.ArgumentList.Add(server);
        }
        else
        {
            info.FileName = server;
        }

        foreach (string arg in new[] { "serve", "--port", "0", "--stats-interval", "2", "--log-level", "Warning" }.Concat(extraArguments))
        {
            info.ArgumentList.Add(arg);
        }

        Process process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {server}");
        var result = new ServerProcess(name, process);
        _ = Task.Run(() => result.ReadAsync(process.StandardOutput));
        _ = Task.Run(() => result.ReadAsync(process.StandardError));
        Task finished = await Task.WhenAny(result._port.Task, Task.Delay(TimeSpan.FromSeconds(60)), process.WaitForExitAsync()).ConfigureAwait(false);
        if (finished != result._port.Task)
        {
            string tail = result.Tail();
            await result.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"ws4net serve ({name}) did not start listening: {tail}");
        }

        result.Port = await result._port.Task.ConfigureAwait(false);
        return result;
    }

    /// <summary>Reads the process's resident memory, open descriptors and the latest stats line.</summary>
    /// <returns>The sample; a value that cannot be read is -1.</returns>
    public ServerSample Sample()
    {
        long rss = -1;
        int fds = -1;
        try
        {
            foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
                    break;
                }
            }

            fds = Directory.GetFileSystemEntries($"/proc/{Pid}/fd").Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process is gone: -1.
        }

        lock (_sync)
        {
            return new ServerSample(rss, fds, _gcHeapBytes, _connections);
        }
    }

    /// <summary>Gets the last lines the process printed (for error messages).</summary>
    /// <returns>Up to 20 lines.</returns>
    public string Tail()
    {
        lock (_sync)
        {
            return string.Join(Environment.NewLine, _tail);
        }
    }

    /// <summary>Stops the server with SIGTERM (its graceful shutdown), then kills it after 15 s.</summary>
    /// <returns>A task that completes when the process has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        _process.Dispose();
    }

    private async Task ReadAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("stats: ", StringComparison.Ordinal))
            {
                Match heap = HeapPattern().Match(line);
                Match connections = ConnectionsPattern().Match(line);
                Match collections = Gen0Pattern().Match(line);
                lock (_sync)
                {
                    // Before the first collection the heap size "after the last GC" is 0: unknown, not a sample.
                    if (heap.Success && collections.Success && collections.Groups[1].Value != "0")
                    {
                        _gcHeapBytes = long.Parse(heap.Groups[1].Value, CultureInfo.InvariantCulture);
                    }

                    if (connections.Success)
                    {
                        _connections = long.Parse(connections.Groups[1].Value, CultureInfo.InvariantCulture);
                    }
                }

                continue;
            }

            lock (_sync)
            {
                _tail.Enqueue(line);
                if (_tail.Count > 20)
                {
                    _tail.Dequeue();
                }
            }

            Match serving = ServingPattern().Match(line);
            if (serving.Success)
            {
                _port.TrySetResult(int.Parse(serving.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        }
    }

    [GeneratedRegex(@"gc_heap_bytes=(\d+)")]
    private static partial Regex HeapPattern();

    [GeneratedRegex(@"gc0=(\d+)")]
    private static partial Regex Gen0Pattern();

    [GeneratedRegex(@"connections=(\d+)")]
    private static partial Regex ConnectionsPattern();

    [GeneratedRegex(@"is serving\. Open https?://[^/]*:(\d+)/")]
    private static partial Regex ServingPattern();
}
