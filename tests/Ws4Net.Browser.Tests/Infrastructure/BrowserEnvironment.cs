namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>
/// Where the browser is. eng/test.sh exports WS4NET_CHROMIUM; a plain <c>dotnet test</c> uses
/// /usr/bin/chromium. Playwright never downloads a browser here: it drives this one.
/// </summary>
internal static class BrowserEnvironment
{
    public static readonly string[] ChromiumArgs =
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    public static string ChromiumPath
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_CHROMIUM");
            return string.IsNullOrEmpty(fromEnv) ? "/usr/bin/chromium" : fromEnv;
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

    /// <summary>Returns the chromium binary, or throws a message naming what to install.</summary>
    public static string RequireChromium()
    {
        string path = ChromiumPath;
        if (File.Exists(path))
        {
            return path;
        }

        string what = $"Missing test dependency: no Chromium browser at {path} (WS4NET_CHROMIUM overrides the path).";
        throw new InvalidOperationException(IsCi
            ? $"{what} CI=true: the CI script (.ci/run -> eng/test.sh) should have installed it; check its log. To install by hand: apt-get install chromium."
            : $"{what} To fix: apt-get install chromium (or run ./eng/test.sh, which installs every test dependency).");
    }
}
