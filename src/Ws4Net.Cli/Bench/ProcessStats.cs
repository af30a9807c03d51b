using System.Diagnostics;
using System.Globalization;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// Reads another process's CPU time and resident memory from Linux <c>/proc</c> (<c>/proc/PID/stat</c>
/// utime + stime, <c>/proc/PID/status</c> VmRSS). Thread-safe (stateless).
/// </summary>
internal static class ProcessStats
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Gets whether <c>/proc/PID/stat</c> can be read.</summary>
    /// <param name="pid">The process id.</param>
    /// <returns>Whether the process exists and can be inspected.</returns>
    public static bool Exists(int pid) => TryReadCpuTime(pid, out _);

    /// <summary>Reads a process's CPU time (user + system).</summary>
    /// <param name="pid">The process id.</param>
    /// <param name="cpu">The CPU time used so far.</param>
    /// <returns>Whether it could be read.</returns>
    public static bool TryReadCpuTime(int pid, out TimeSpan cpu)
    {
        cpu = default;
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        int close = text.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        string[] fields = text[(close + 2)..].Split(' ');
        // After ')': field 3 (state) is index 0, so utime (field 14) is index 11 and stime (15) index 12.
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out long user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out long system))
        {
            return false;
        }

        cpu = TimeSpan.FromSeconds((user + system) / TicksPerSecond);
        return true;
    }

    /// <summary>Reads a process's resident set size (VmRSS).</summary>
    /// <param name="pid">The process id.</param>
    /// <returns>The resident size in KiB.</returns>
    /// <exception cref="BenchException">The process does not exist or has no VmRSS line.</exception>
    public static long ReadRssKiB(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string number = line["VmRSS:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim();
                    return long.Parse(number, NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BenchException($"cannot read /proc/{pid}/status: {ex.Message}", ex);
        }

        throw new BenchException($"/proc/{pid}/status has no VmRSS line");
    }

    /// <summary>Gets this process's CPU time.</summary>
    /// <returns>User + system time so far.</returns>
    public static TimeSpan OwnCpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
