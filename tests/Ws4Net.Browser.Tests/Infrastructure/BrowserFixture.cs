using Microsoft.Playwright;

namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>
/// One headless Chromium for the whole test collection (launching is the slow part); each test makes
/// its own contexts, so cookies, storage and sockets never leak between tests. Disposing closes the
/// browser and kills whatever Playwright started that is still alive.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private HashSet<int> _childrenBefore = [];
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not launched.");

    public async Task InitializeAsync()
    {
        string chromium = BrowserEnvironment.RequireChromium();
        _childrenBefore = ChildProcesses.Snapshot();
        _playwright = await Playwright.CreateAsync().WaitAsync(Timeouts.Browser);
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = BrowserEnvironment.ChromiumArgs,
            Timeout = (float)TimeSpan.FromSeconds(60).TotalMilliseconds,
        }).WaitAsync(Timeouts.Browser);
    }

    /// <summary>A fresh, isolated context (its own storage: a separate "user") with the step timeout.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        IBrowserContext context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = ColorScheme.Light,
            Locale = "en-US",
        }).WaitAsync(Timeouts.Step);
        context.SetDefaultTimeout(Timeouts.PlaywrightStepMs);
        context.SetDefaultNavigationTimeout(Timeouts.PlaywrightStepMs);
        return context;
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_browser is not null)
            {
                await _browser.CloseAsync().WaitAsync(Timeouts.Shutdown);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
        {
            // Killed below.
        }
        finally
        {
            _playwright?.Dispose();
            ChildProcesses.KillNewSince(_childrenBefore);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Chromium";
}
