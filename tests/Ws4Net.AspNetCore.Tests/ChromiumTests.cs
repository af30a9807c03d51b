using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using Ws4Net.Browser.Tests.Infrastructure;
using Ws4Net.Hosting;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>
/// Chromium against Kestrel over https: with HTTP/2 on offer the page loads over h2 and Chromium opens its
/// WebSocket as an RFC 8441 extended CONNECT on that connection; on an HTTP/1.1-only listener it upgrades.
/// The handler reports which protocol the opening request used.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ChromiumTests(BrowserFixture browser)
{
    private const string Page = "<!doctype html><title>ws4net</title><p>test page</p>";

    [Theory]
    [InlineData(HttpProtocols.Http1AndHttp2, "h2", "HTTP/2", true)]
    [InlineData(HttpProtocols.Http1, "http/1.1", "HTTP/1.1", true)]
    [InlineData(HttpProtocols.Http1AndHttp2, "h2", "HTTP/2", false)]
    public async Task Chromium_opens_its_websocket_over_the_protocol_the_server_offers(HttpProtocols protocols, string pageProtocol, string socketProtocol, bool compression)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = protocols;
            o.UseHttps(SelfSignedCertificate.Certificate);
        }));
        builder.Services.AddWs4Net(o =>
        {
            o.Compression = compression;
            o.KeepAliveInterval = TimeSpan.Zero;
        });
        builder.Services.AddSingleton(new Greeting());
        builder.Services.AddScoped<ScopedProbe>();
        await using WebApplication app = builder.Build();
        app.MapGet("/", () => Results.Content(Page, "text/html"));
        app.MapWebSocket<InfoHandler>("/info");
        await app.StartAsync().WaitAsync(Timeouts.Step);
        string origin = app.Urls.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);

        IBrowserContext context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true }).WaitAsync(Timeouts.Step);
        try
        {
            IPage page = await context.NewPageAsync().WaitAsync(Timeouts.Step);
            await page.GotoAsync(origin + "/").WaitAsync(Timeouts.Step);
            string loadedOver = await page.EvaluateAsync<string>("() => performance.getEntriesByType('navigation')[0].nextHopProtocol").WaitAsync(Timeouts.Step);
            Assert.Equal(pageProtocol, loadedOver);

            string reply = await page.EvaluateAsync<string>(
                """
                () => new Promise((resolve, reject) => {
                  const ws = new WebSocket(location.origin.replace('https', 'wss') + '/info');
                  let info = null;
                  ws.onmessage = e => {
                    if (info === null) { info = e.data; ws.send('echo ' + 'x'.repeat(3000)); }
                    else { ws.close(1000); resolve(info + ';ext=' + (ws.extensions || '-') + ';echo=' + e.data.length); }
                  };
                  ws.onerror = () => reject(new Error('websocket error'));
                })
                """).WaitAsync(Timeouts.Step);
            Dictionary<string, string> info = ClientExtensions.ParseInfo(reply);
            Assert.Equal(socketProtocol, info["proto"]);
            Assert.Equal(compression.ToString(), info["deflate"]);
            Assert.Equal(compression, info["ext"].Contains("permessage-deflate", StringComparison.Ordinal));
            Assert.Equal("3005", info["echo"]);
        }
        finally
        {
            await context.CloseAsync().WaitAsync(Timeouts.Step);
            await app.StopAsync().WaitAsync(Timeouts.Shutdown);
        }
    }
}
