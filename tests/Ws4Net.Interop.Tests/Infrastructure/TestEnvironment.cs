using System.Diagnostics;

namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>
/// Where the repository and the third-party peers are, and what is missing. eng/test.sh exports
/// WS4NET_REPO_ROOT, WS4NET_PEERS_DIR, WS4NET_NODE and WS4NET_PYTHON; a plain <c>dotnet test</c>
/// falls back to the folder holding Ws4Net.slnx, node from PATH and /usr/bin/python3. The peers:
/// npm <c>ws</c> and <c>faye-websocket</c> (eng/peers/node_modules), the Debian packages
/// python3-websockets and python3-autobahn; Kestrel comes with the ASP.NET Core shared framework.
/// A missing peer fails the test with a message naming what to install; it never skips.
/// </summary>
internal static class TestEnvironment
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);
    private static readonly Lazy<string?> s_node = new(FindNode);
    private static readonly Lazy<string?> s_websocketsProblem = new(() => CheckPythonModule("websockets"));
    private static readonly Lazy<string?> s_autobahnProblem = new(() => CheckPythonModule("autobahn"));

    public static string RepoRoot => s_repoRoot.Value;

    public static string PeersDir
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_PEERS_DIR");
            return !string.IsNullOrEmpty(fromEnv) && Directory.Exists(fromEnv)
                ? fromEnv
                : Path.Combine(RepoRoot, "eng", "peers");
        }
    }

    public static string Python
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_PYTHON");
            return string.IsNullOrEmpty(fromEnv) ? "/usr/bin/python3" : fromEnv;
        }
    }

    public static bool IsCi
    {
        get
        {
            string? ci = Environment.GetEnvironmentVariable("CI");
            return string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
        }
    }

    /// <summary>Returns the node executable, or fails the test saying how to install it.</summary>
    public static string RequireNode()
    {
        if (s_node.Value is { } node)
        {
            return node;
        }

        string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_NODE");
        string what = string.IsNullOrEmpty(fromEnv)
            ? "node (Node.js) was not found on PATH"
            : $"node (Node.js) was not found at WS4NET_NODE={fromEnv}";
        throw Missing(what, "install Node.js >= 18: apt-get install nodejs npm");
    }

    /// <summary>Returns node and checks that eng/peers/node_modules holds the `ws` package.</summary>
    public static string RequireNodeWithPeerModules() => RequireNodeWithPeerModule("ws");

    /// <summary>Returns node and checks that eng/peers/node_modules holds the npm package <paramref name="module"/>.</summary>
    public static string RequireNodeWithPeerModule(string module)
    {
        string node = RequireNode();
        string package = Path.Combine(PeersDir, "node_modules", module, "package.json");
        if (!File.Exists(package))
        {
            throw Missing($"the npm package `{module}` is not installed in {PeersDir}/node_modules", $"run `cd {PeersDir} && npm ci`");
        }

        return node;
    }

    /// <summary>Returns the python executable once it has been seen to import `websockets`.</summary>
    public static string RequirePythonWebsockets()
    {
        if (s_websocketsProblem.Value is { } problem)
        {
            throw Missing(problem, "install the Debian package python3-websockets: apt-get install python3-websockets");
        }

        return Python;
    }

    /// <summary>Returns the python executable once it has been seen to import `autobahn` (AutobahnPython).</summary>
    public static string RequirePythonAutobahn()
    {
        if (s_autobahnProblem.Value is { } problem)
        {
            throw Missing(problem, "install the Debian package python3-autobahn: apt-get install python3-autobahn");
        }

        return Python;
    }

    public static string PeerScript(string name)
    {
        string path = Path.Combine(PeersDir, name);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The peer script {path} is missing: the repository checkout is incomplete.");
        }

        return path;
    }

    public static Exception Missing(string what, string howToInstall)
    {
        string message = IsCi
            ? $"Missing test dependency: {what}. CI=true: the CI script (.ci/run -> eng/test.sh) should have installed it; check its log. To install by hand: {howToInstall}."
            : $"Missing test dependency: {what}. To fix: {howToInstall} (or run ./eng/test.sh, which installs every test dependency).";
        return new InvalidOperationException(message);
    }

    private static string FindRepoRoot()
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

        throw new InvalidOperationException($"Cannot find the repository root (a folder holding Ws4Net.slnx) above {AppContext.BaseDirectory}; set WS4NET_REPO_ROOT.");
    }

    private static string? FindNode()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_NODE");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (Path.IsPathRooted(fromEnv))
            {
                return File.Exists(fromEnv) ? fromEnv : null;
            }

            return SearchPath(fromEnv);
        }

        return SearchPath("node");
    }

    private static string? SearchPath(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Returns why python cannot run a peer needing <paramref name="module"/>, or null when `import module` works.</summary>
    private static string? CheckPythonModule(string module)
    {
        string python = Python;
        if (!File.Exists(python))
        {
            return $"{python} does not exist";
        }

        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"import {module}, sys; sys.stdout.write({module}.__version__)");
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {python}.");
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                return $"{python} -c 'import {module}' did not finish within 30 s";
            }

            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                string error = stderr.Wait(TimeSpan.FromSeconds(5)) ? stderr.Result.Trim() : string.Empty;
                return $"{python} cannot import the `{module}` package ({error})";
            }

            _ = stdout.Wait(TimeSpan.FromSeconds(5));
            return null;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
