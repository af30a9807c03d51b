namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>Upper bounds for every await in these tests (generous: the machine may be busy).</summary>
internal static class Timeouts
{
    /// <summary>Playwright's own timeout for one action or wait, in milliseconds.</summary>
    public const float PlaywrightStepMs = 15_000;

    /// <summary>One browser step (navigation, click, wait for an element): Playwright's timeout plus slack.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(PlaywrightStepMs + 5_000);

    /// <summary>Launching or closing the browser.</summary>
    public static readonly TimeSpan Browser = TimeSpan.FromSeconds(90);

    /// <summary>Stopping the in-process server (its close handshakes are bounded by 5 s).</summary>
    public static readonly TimeSpan Shutdown = TimeSpan.FromSeconds(15);

    /// <summary>The page's reconnect back-off (1 s, 2 s, 4 s ...) plus a connect.</summary>
    public static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(30);
}
