using System.Globalization;

namespace Ws4Net.DoS.Tests;

/// <summary>What the suite needs from the machine: enough file descriptors (each loopback connection is one in
/// this process and one in the server's). eng/test.sh raises the soft limit to the hard limit.</summary>
internal static class DosEnvironment
{
    public static bool IsCi => Environment.GetEnvironmentVariable("CI") is "true" or "1";

    /// <summary>The soft RLIMIT_NOFILE of this process (inherited by the server it starts), from /proc/self/limits.</summary>
    public static long OpenFileLimit()
    {
        foreach (string line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields[0] == "unlimited" ? long.MaxValue : long.Parse(fields[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("/proc/self/limits has no 'Max open files' line");
    }

    /// <summary>
    /// Returns <paramref name="wanted"/> when the descriptor limit allows that many connections (plus a margin),
    /// otherwise fails the test with a clear message. Outside CI the count is scaled down to what fits, with a
    /// note on the test output, so that a developer machine with a low limit still runs the case.
    /// </summary>
    public static int Connections(int wanted, ITestOutputHelper output)
    {
        long limit = OpenFileLimit();
        const int margin = 1000;
        if (limit >= wanted + margin)
        {
            return wanted;
        }

        string message = $"The open-file limit (ulimit -n) is {limit}; this case needs {wanted + margin} (one descriptor per connection in this process, one in the server). "
            + "Raise it (eng/test.sh does `ulimit -n $(ulimit -Hn)`; the hard limit may need raising in /etc/security/limits.conf or the container's settings).";
        if (IsCi)
        {
            Assert.Fail($"CI=true: {message}");
        }

        int scaled = (int)Math.Max(100, limit - margin);
        output.WriteLine($"WARNING: {message} Running with {scaled} connections instead.");
        return scaled;
    }
}
