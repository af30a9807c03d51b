namespace Ws4Net.Tests;

/// <summary>
/// A fact that needs node and npm (eng/bench.sh runs the Node ws reference server and installs its npm
/// packages). Without them it is skipped with a message, except on CI (CI=true), where it runs and fails
/// loudly, since the CI script (eng/test.sh) installs node and npm.
/// </summary>
public sealed class NodeBenchFactAttribute : FactAttribute
{
    public NodeBenchFactAttribute()
    {
        string? ci = Environment.GetEnvironmentVariable("CI");
        bool isCi = string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
        if (!isCi && (!OnPath("node") || !OnPath("npm")))
        {
            Skip = "node or npm is not on PATH (install Node.js, or run ./eng/test.sh): eng/bench.sh --smoke needs them for the Node ws reference server";
        }
    }

    private static bool OnPath(string name)
    {
        string fromEnv = name == "node" ? Environment.GetEnvironmentVariable("WS4NET_NODE") ?? string.Empty : string.Empty;
        if (Path.IsPathRooted(fromEnv) && File.Exists(fromEnv))
        {
            return true;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, name)))
            {
                return true;
            }
        }

        return false;
    }
}
