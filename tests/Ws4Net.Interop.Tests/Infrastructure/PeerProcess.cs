using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>
/// A peer script run as a child process: stdout and stderr are captured line by line, stdin is a
/// pipe that stays open for the life of the process (so a server that exits on stdin EOF keeps
/// running), and <see cref="Dispose"/> kills the whole process tree.
/// </summary>
internal sealed partial class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Lock _sync = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderrLines = [];
    private readonly StringBuilder _stderr = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private PeerProcess(string displayName, Process process)
    {
        DisplayName = displayName;
        _process = process;
    }

    public string DisplayName { get; }

    public int ExitCode => _process.ExitCode;

    public static PeerProcess Start(string executable, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PYTHONUNBUFFERED"] = "1";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        info.Environment["NO_COLOR"] = "1";

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess($"{Path.GetFileName(executable)} {string.Join(' ', info.ArgumentList)}", process);
        process.OutputDataReceived += (_, e) => peer.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnStderr(e.Data);
        process.Exited += (_, _) => peer.Pulse();
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {peer.DisplayName}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Starts an echo server script and waits for its <c>LISTENING &lt;port&gt;</c> line.</summary>
    public static async Task<(PeerProcess Process, int Port)> StartServerAsync(string executable, string script, TimeSpan timeout)
    {
        PeerProcess peer = Start(executable, [script, "--port", "0", "--ignore-stdin"], Path.GetDirectoryName(script)!);
        try
        {
            string line = await peer.WaitForStdoutLineAsync(l => ListeningLine().IsMatch(l), timeout).WaitAsync(timeout * 2).ConfigureAwait(false);
            int port = int.Parse(ListeningLine().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
            return (peer, port);
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>Everything the process printed so far, for failure messages.</summary>
    public string Transcript
    {
        get
        {
            lock (_sync)
            {
                return $"--- {DisplayName}\n--- stdout:\n{string.Join('\n', _stdout)}\n--- stderr:\n{_stderr}";
            }
        }
    }

    public string Stdout
    {
        get
        {
            lock (_sync)
            {
                return string.Join('\n', _stdout);
            }
        }
    }

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_sync)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>Waits for the first stdout line matching <paramref name="match"/>; fails if the process exits first or time runs out.</summary>
    public Task<string> WaitForStdoutLineAsync(Func<string, bool> match, TimeSpan timeout)
        => WaitForLineAsync(_stdout, "stdout", match, timeout);

    /// <summary>Waits for the first stderr line matching <paramref name="match"/>; fails if the process exits first or time runs out.</summary>
    public Task<string> WaitForStderrLineAsync(Func<string, bool> match, TimeSpan timeout)
        => WaitForLineAsync(_stderrLines, "stderr", match, timeout);

    private async Task<string> WaitForLineAsync(List<string> lines, string streamName, Func<string, bool> match, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                string? found = lines.FirstOrDefault(match);
                if (found is not null)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            if (_process.HasExited)
            {
                // Let the reader threads deliver the last lines before giving up.
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                lock (_sync)
                {
                    string? found = lines.FirstOrDefault(match);
                    if (found is not null)
                    {
                        return found;
                    }
                }

                throw new InvalidOperationException($"{DisplayName} exited with code {_process.ExitCode} before printing the expected line on {streamName}.\n{Transcript}");
            }

            TimeSpan remaining = timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{DisplayName} did not print the expected line on {streamName} within {timeout.TotalSeconds:0} s.\n{Transcript}");
            }

            try
            {
                await changed.WaitAsync(remaining).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked at the top of the loop.
            }
        }
    }

    /// <summary>Waits for the process to exit (and its output to drain); kills it and fails on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"{DisplayName} did not exit within {timeout.TotalSeconds:0} s (killed).\n{Transcript}");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kill();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited while being killed.
        }
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            Pulse();
            return;
        }

        lock (_sync)
        {
            _stdout.Add(line);
        }

        Pulse();
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            Pulse();
            return;
        }

        lock (_sync)
        {
            _stderr.AppendLine(line);
            _stderrLines.Add(line);
        }

        Pulse();
    }

    private void Pulse()
    {
        TaskCompletionSource previous;
        lock (_sync)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    [GeneratedRegex(@"^LISTENING (\d{1,5})$")]
    private static partial Regex ListeningLine();
}
