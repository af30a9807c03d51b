using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>
/// A WebSocket endpoint and an ordinary endpoint on the same route (<see cref="WebSocketEndpointOptions.FallThroughNonWebSocketRequests"/>
/// with <c>AddWs4NetRouting()</c>): opening requests reach the WebSocket over both HTTP versions, other requests
/// fall through to the page, or to 404 when nothing else matches.
/// </summary>
public sealed class KestrelRouteSharingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    private static void MapShared(WebApplication app)
    {
        app.MapWebSocket<EchoHandler>("/chat", o => o.FallThroughNonWebSocketRequests = true);
        app.MapGet("/chat", () => Results.Text("the chat page"));
        app.MapWebSocket<EchoHandler>("/only", o => o.FallThroughNonWebSocketRequests = true);
        app.MapWebSocket<EchoHandler>("/strict");
    }

    [Fact]
    public async Task A_plain_get_falls_through_to_the_page_of_the_same_route_or_to_404_and_a_strict_endpoint_still_answers_426()
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapShared, configureServices: s => s.AddWs4NetRouting());
        using var http = new HttpClient { Timeout = Step };
        string root = $"http://127.0.0.1:{host.Http1Port}";

        using HttpResponseMessage page = await http.GetAsync(root + "/chat");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("the chat page", await page.Content.ReadAsStringAsync());

        using HttpResponseMessage nothing = await http.GetAsync(root + "/only");
        Assert.Equal(HttpStatusCode.NotFound, nothing.StatusCode);

        using HttpResponseMessage strict = await http.GetAsync(root + "/strict");
        Assert.Equal(HttpStatusCode.UpgradeRequired, strict.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_opening_request_to_the_shared_route_reaches_the_websocket(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapShared, configureServices: s => s.AddWs4NetRouting());
        using ClientWebSocket client = await host.ConnectAsync("/chat", http2);
        await client.SendAsync(Encoding.UTF8.GetBytes("over the shared route"), BclMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(Step);
        byte[] buffer = new byte[256];
        WebSocketReceiveResult result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Step);
        Assert.Equal("over the shared route", Encoding.UTF8.GetString(buffer, 0, result.Count));
        await client.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Step);
    }

    [Fact]
    public async Task Falling_through_without_AddWs4NetRouting_is_refused_when_mapping()
    {
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using KestrelHost host = await KestrelHost.StartAsync(app => app.MapWebSocket<EchoHandler>("/chat", o => o.FallThroughNonWebSocketRequests = true));
        });
        Assert.Contains("AddWs4NetRouting", error.Message);
    }
}
