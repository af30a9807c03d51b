using System.Diagnostics;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// Measures CPU use over a window, as a percentage of one core (200 = two cores busy): this process from
/// <see cref="Process.TotalProcessorTime"/>, and optionally a server process from <c>/proc/PID/stat</c>.
/// Not thread-safe.
/// </summary>
internal sealed class CpuMeter
{
    private readonly int? _serverPid;
    private long _start;
    private TimeSpan _clientStart;
    private TimeSpan _serverStart;
    private bool _serverReadable;

    /// <summary>Creates a meter.</summary>
    /// <param name="serverPid">The server's process id, or <see langword="null"/> to measure only this process.</param>
    public CpuMeter(int? serverPid) => _serverPid = serverPid;

    /// <summary>Gets the client's CPU use over the window, in percent of one core.</summary>
    public double ClientPercent { get; private set; }

    /// <summary>Gets the server's CPU use over the window, in percent of one core, or <see langword="null"/>.</summary>
    public double? ServerPercent { get; private set; }

    /// <summary>Starts the window.</summary>
    public void Start()
    {
        _start = Stopwatch.GetTimestamp();
        _clientStart = ProcessStats.OwnCpuTime();
        _serverReadable = _serverPid is { } pid && ProcessStats.TryReadCpuTime(pid, out _serverStart);
    }

    /// <summary>Ends the window and computes the percentages.</summary>
    public void Stop()
    {
        double wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        if (wall <= 0)
        {
            return;
        }

        ClientPercent = (ProcessStats.OwnCpuTime() - _clientStart).TotalSeconds / wall * 100;
        if (_serverReadable && ProcessStats.TryReadCpuTime(_serverPid!.Value, out TimeSpan serverEnd))
        {
            ServerPercent = (serverEnd - _serverStart).TotalSeconds / wall * 100;
        }
    }
}
