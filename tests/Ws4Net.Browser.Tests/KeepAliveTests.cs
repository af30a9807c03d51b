using System.Net;
using Microsoft.Playwright;
using Ws4Net.Browser.Tests.Infrastructure;
using Ws4Net.Cli.Demo;
using Ws4Net.Server;

namespace Ws4Net.Browser.Tests;

/// <summary>
/// Heartbeats with a real browser: Chromium answers the server's keepalive pings by itself (RFC 6455
/// §5.5.2), so a quiet tab stays connected across many keepalive intervals, and the server learns the
/// round-trip time from the pongs.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class KeepAliveTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_quiet_Chromium_tab_stays_open_across_several_keepalive_intervals()
    {
        WebSocketServer server = DemoServer.Create(new DemoServerOptions
        {
            Host = IPAddress.Loopback,
            Port = 0,
            KeepAliveInterval = TimeSpan.FromMilliseconds(300),
            KeepAliveTimeout = TimeSpan.FromMilliseconds(600),
        });
        var opened = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += c => opened.TrySetResult(c);
        await server.StartAsync().WaitAsync(Timeouts.Step);
        IBrowserContext context = await browser.NewContextAsync().WaitAsync(Timeouts.Step);
        try
        {
            int port = ((IPEndPoint)server.LocalEndPoint!).Port;
            IPage page = await context.NewPageAsync().WaitAsync(Timeouts.Step);
            await page.GotoAsync($"http://127.0.0.1:{port}/").WaitAsync(Timeouts.Step);
            await page.EvaluateAsync(
                "url => new Promise((resolve, reject) => { const ws = new WebSocket(url); window.keepAliveSocket = ws; window.keepAliveClosed = null; ws.onopen = () => resolve(); ws.onerror = () => reject('error'); ws.onclose = e => window.keepAliveClosed = e.code; })",
                $"ws://127.0.0.1:{port}/echo").WaitAsync(Timeouts.Step);
            WebSocketConnection serverSide = await opened.Task.WaitAsync(Timeouts.Step);

            // Ten intervals without a single data message in either direction.
            await Task.Delay(TimeSpan.FromSeconds(3));

            Assert.Equal(WebSocketConnectionState.Open, serverSide.State);
            Assert.NotNull(serverSide.Latency);
            Assert.InRange(serverSide.Latency!.Value, TimeSpan.Zero, TimeSpan.FromMilliseconds(600));
            Assert.Equal(1, await page.EvaluateAsync<int>("() => window.keepAliveSocket.readyState").WaitAsync(Timeouts.Step));   // OPEN
            Assert.Null(await page.EvaluateAsync<int?>("() => window.keepAliveClosed").WaitAsync(Timeouts.Step));
        }
        finally
        {
            await context.CloseAsync().WaitAsync(Timeouts.Step);
            await server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown);
        }
    }
}
