using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Browser.Tests;

/// <summary>The page's reconnect behaviour when its server goes away and comes back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReconnectTests(BrowserFixture browser)
{
    [Fact]
    public async Task ServerStopped_PageShowsClosed_ThenReconnectsWhenTheServerReturns()
    {
        DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        int port = server.Port;
        DemoServerHost? restarted = null;
        try
        {
            await using ChatPage page = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

            await server.StopAsync().WaitAsync(Timeouts.Shutdown * 2);

            // The server's 1001 close reaches the page, which shows the closed (retrying) state.
            await page.WaitForStateAsync("closed").WaitAsync(Timeouts.Step * 2);
            string? status = await page.Page.TextContentAsync("#status").WaitAsync(Timeouts.Step);
            Assert.StartsWith("disconnected", status, StringComparison.Ordinal);
            Assert.True(await page.Page.IsDisabledAsync("#send").WaitAsync(Timeouts.Step), "Send must be disabled while disconnected.");

            // Same port again (SO_REUSEADDR): the page's back-off retries find it.
            restarted = await DemoServerHost.StartAsync(port).WaitAsync(Timeouts.Step);
            await page.WaitForStateAsync("open", Timeouts.Reconnect).WaitAsync(Timeouts.Reconnect * 2).WaitAsync(Timeouts.Step * 2);

            await page.SetNickAsync("phoenix").WaitAsync(Timeouts.Step * 2);
            await page.SendAsync("back again").WaitAsync(Timeouts.Step * 2);
            await page.WaitForMessageAsync("phoenix", "back again").WaitAsync(Timeouts.Step * 2);
            Assert.Empty(page.PageErrors);
        }
        finally
        {
            await server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown * 2);
            if (restarted is not null)
            {
                await restarted.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown * 2);
            }
        }
    }
}
