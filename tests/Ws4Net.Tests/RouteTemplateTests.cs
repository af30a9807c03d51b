using System.Net;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>Route templates (ASP.NET Core syntax subset) in the standalone server.</summary>
public sealed class RouteTemplateTests
{
    [Theory]
    [InlineData("/rooms/{name}", "/rooms/lobby", "name=lobby")]
    [InlineData("/rooms/{name}", "/ROOMS/lobby", "name=lobby")]
    [InlineData("/rooms/{name}", "/rooms/a%20b", "name=a b")]
    [InlineData("/users/{id:int:min(1)}", "/users/42", "id=42")]
    [InlineData("/v/{id:guid}", "/v/6f9619ff-8b86-d011-b42d-00cf4fc964ff", "id=6f9619ff-8b86-d011-b42d-00cf4fc964ff")]
    [InlineData("/files/{*rest}", "/files/a/b%2Fc/d", "rest=a/b/c/d")]
    [InlineData("/files/{*rest}", "/files", "rest=")]
    [InlineData("/opt/{x?}", "/opt", "x=")]
    [InlineData("/opt/{x?}", "/opt/1", "x=1")]
    [InlineData("/c/{code:length(2)}/{n:range(1,9)}", "/c/fr/3", "code=fr;n=3")]
    public void Matches(string template, string path, string expected)
    {
        Assert.True(WebSocketRouteTemplate.Parse(template).TryMatch(path, out Dictionary<string, string?> values));
        Assert.Equal(expected, string.Join(';', values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}")));
    }

    [Theory]
    [InlineData("/rooms/{name}", "/rooms")]
    [InlineData("/rooms/{name}", "/rooms/a/b")]
    [InlineData("/rooms/{name}", "/other/a")]
    [InlineData("/rooms/{name:alpha}", "/rooms/123")]
    [InlineData("/users/{id:int:min(1)}", "/users/0")]
    [InlineData("/users/{id:int}", "/users/x")]
    [InlineData("/c/{code:maxlength(3)}", "/c/abcd")]
    public void DoesNotMatch(string template, string path)
    {
        Assert.False(WebSocketRouteTemplate.Parse(template).TryMatch(path, out _));
    }

    [Theory]
    [InlineData("/rooms/{name:nonsense}")]
    [InlineData("/rooms/x{name}")]
    [InlineData("/{a}/{a}")]
    [InlineData("/{*rest}/more")]
    [InlineData("/{x?}/more")]
    [InlineData("/a//b")]
    [InlineData("/n/{id:min(x)}")]
    public void Malformed_templates_throw_at_Map(string template)
    {
        Assert.Throws<ArgumentException>(() => new WebSocketRoute(template, (_, _) => new EchoTestHandler()));
    }

    [Fact]
    public async Task The_server_routes_by_template_and_the_handler_reads_the_values()
    {
        await using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Map("/rooms/{name:alpha}", request => new RouteValueHandler());
        server.Map("/rooms/special", request => new EchoTestHandler());
        await server.StartAsync();
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;

        await using (RawClient raw = await RawClient.HandshakeAsync(port, "/rooms/lobby?x=1"))
        {
            RawFrame greeting = await raw.ReadFrameAsync();
            Assert.Equal("name=lobby", System.Text.Encoding.UTF8.GetString(greeting.Payload));
        }

        await using (RawClient exact = await RawClient.HandshakeAsync(port, "/rooms/special"))
        {
            await exact.WriteAsync(RawClient.Frame(0x1, "exact wins"u8));
            Assert.Equal("exact wins", System.Text.Encoding.UTF8.GetString((await exact.ReadFrameAsync()).Payload));
        }

        await using RawClient rejected = await RawClient.ConnectAsync(port);
        await rejected.WriteAsync("GET /rooms/123 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        Assert.Equal(404, (await rejected.ReadHttpResponseAsync()).StatusCode);
    }

    private sealed class RouteValueHandler : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync() => SendTextAsync(string.Join(';', Request!.RouteValues.Select(v => $"{v.Key}={v.Value}")));
    }
}
