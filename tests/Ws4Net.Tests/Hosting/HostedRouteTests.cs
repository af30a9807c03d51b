using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ws4Net.Hosting;

namespace Ws4Net.Tests.Hosting;

/// <summary>AddWs4NetServer routes: templates with their values, and a handshake hook that rejects or adds headers.</summary>
public sealed class HostedRouteTests
{
    [Fact]
    public async Task A_hosted_route_template_and_hook_work_through_the_builder()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddWs4Net(o => o.Port = 0);
        builder.Services.AddWs4NetServer(server => server.Map<RoomNameHandler>("/rooms/{name:alpha}", context =>
        {
            if (context.Request.RouteValues["name"] == "closed")
            {
                context.Reject(403, "room closed");
            }
            else
            {
                context.AddResponseHeader("X-Room", context.Request.RouteValues["name"]!);
            }

            return ValueTask.CompletedTask;
        }));
        using IHost host = builder.Build();
        await host.StartAsync().WithTimeout();
        try
        {
            int port = ((IPEndPoint)host.Services.GetRequiredService<Ws4NetHostedServer>().Server.LocalEndPoint!).Port;
            const string Head = "HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

            await using (RawClient closed = await RawClient.ConnectAsync(port))
            {
                await closed.WriteAsync("GET /rooms/closed " + Head);
                RawHttpResponse response = await closed.ReadHttpResponseAsync();
                Assert.Equal(403, response.StatusCode);
                Assert.Equal("room closed\n", response.BodyText);
            }

            await using RawClient open = await RawClient.ConnectAsync(port);
            await open.WriteAsync("GET /rooms/lobby " + Head);
            RawHttpResponse accepted = await open.ReadHttpResponseAsync(readBody: false);
            Assert.Equal(101, accepted.StatusCode);
            Assert.Equal("lobby", accepted.Header("X-Room"));
            Assert.Equal("room lobby", System.Text.Encoding.UTF8.GetString((await open.ReadFrameAsync()).Payload));
        }
        finally
        {
            await host.StopAsync().WithTimeout();
        }
    }

    private sealed class RoomNameHandler : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync() => SendTextAsync("room " + Request!.RouteValues["name"]);
    }
}
