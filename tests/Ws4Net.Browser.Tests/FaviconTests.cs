using Microsoft.Playwright;
using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Browser.Tests;

/// <summary>The page loads without a failed request in the console (the icon used to be a 404).</summary>
[Collection(BrowserCollection.Name)]
public sealed class FaviconTests(BrowserFixture browser)
{
    [Fact]
    public async Task The_page_loads_with_its_icon_and_no_failed_request_in_the_console()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        IBrowserContext context = await browser.NewContextAsync().WaitAsync(Timeouts.Step);
        try
        {
            IPage page = await context.NewPageAsync().WaitAsync(Timeouts.Step);
            var consoleErrors = new List<string>();
            var failedResponses = new List<string>();
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    lock (consoleErrors)
                    {
                        consoleErrors.Add(message.Text);
                    }
                }
            };
            page.Response += (_, response) =>
            {
                if (response.Status >= 400)
                {
                    lock (failedResponses)
                    {
                        failedResponses.Add($"{response.Status} {response.Url}");
                    }
                }
            };

            await page.GotoAsync(server.PageUrl).WaitAsync(Timeouts.Step);
            string icon = await page.EvaluateAsync<string>(
                "async () => { const r = await fetch('/favicon.ico'); const b = new Uint8Array(await r.arrayBuffer()); return r.status + ' ' + r.headers.get('content-type') + ' ' + b.length + ' ' + b[2]; }")
                .WaitAsync(Timeouts.Step);
            Assert.StartsWith("200 image/x-icon ", icon, StringComparison.Ordinal);
            Assert.EndsWith(" 1", icon, StringComparison.Ordinal);   // ICO type 1
            Assert.Equal("icon", await page.GetAttributeAsync("link[href='/favicon.ico']", "rel").WaitAsync(Timeouts.Step));

            lock (failedResponses)
            {
                Assert.Empty(failedResponses);
            }

            lock (consoleErrors)
            {
                Assert.Empty(consoleErrors);
            }
        }
        finally
        {
            await context.CloseAsync().WaitAsync(Timeouts.Step);
        }
    }
}
