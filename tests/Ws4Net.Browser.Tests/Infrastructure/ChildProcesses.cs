using System.Diagnostics;
using System.Globalization;

namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>
/// The direct children of this test process (Linux /proc). Playwright starts its node driver, which
/// starts Chromium, without handing out their Process objects: the fixture notes the children that
/// exist before Playwright starts and kills, tree and all, any new ones still alive after a graceful close.
/// </summary>
internal static class ChildProcesses
{
    public static HashSet<int> Snapshot()
    {
        var children = new HashSet<int>();
        if (!Directory.Exists("/proc"))
        {
            return children;
        }

        int self = Environment.ProcessId;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(rest[1], CultureInfo.InvariantCulture) == self)
                {
                    children.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process exited while we looked.
            }
        }

        return children;
    }

    /// <summary>Kills (with their descendants) the children that were not in <paramref name="before"/>; returns how many.</summary>
    public static int KillNewSince(HashSet<int> before)
    {
        int killed = 0;
        foreach (int pid in Snapshot())
        {
            if (before.Contains(pid))
            {
                continue;
            }

            try
            {
                using Process process = Process.GetProcessById(pid);
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                    killed++;
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }

        return killed;
    }
}
