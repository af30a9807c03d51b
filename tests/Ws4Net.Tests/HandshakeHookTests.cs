using System.Net;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>A route's OnHandshake hook: reject with any status and headers, add headers to the 101; a route's own subprotocol selector.</summary>
public sealed class HandshakeHookTests : IAsyncLifetime
{
    private const string ValidKey = "dGhlIHNhbXBsZSBub25jZQ==";
    private WebSocketServer _server = null!;

    private int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

    public async Task InitializeAsync()
    {
        _server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        _server.Map(new WebSocketRoute("/guarded", (_, _) => new EchoTestHandler())
        {
            OnHandshake = context =>
            {
                string? token = context.Request.Headers.TryGetValue("X-Token", out string? t) ? t : null;
                switch (token)
                {
                    case null:
                        context.RejectUnauthorized("Bearer realm=\"chat\"");
                        break;
                    case "banned":
                        context.Reject(403, "banned");
                        break;
                    case "busy":
                        context.RejectTooManyRequests(TimeSpan.FromSeconds(29.2));
                        break;
                    case "throw":
                        throw new InvalidOperationException("hook failed");
                    default:
                        context.AddResponseHeader("X-Session", "s-" + token);
                        break;
                }

                return ValueTask.CompletedTask;
            },
        });
        _server.Map(new WebSocketRoute("/select", (_, _) => new EchoTestHandler(), ["a", "b"])
        {
            SubprotocolSelector = offered => offered.Contains("b") ? "b" : null,
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Upgrade(string path, string extra = "")
        => $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {ValidKey}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n";

    private async Task<RawHttpResponse> SendAsync(string request)
    {
        await using RawClient raw = await RawClient.ConnectAsync(Port);
        await raw.WriteAsync(request);
        return await raw.ReadHttpResponseAsync();
    }

    [Fact]
    public async Task No_token_is_401_with_a_challenge()
    {
        RawHttpResponse response = await SendAsync(Upgrade("/guarded"));
        Assert.Equal(401, response.StatusCode);
        Assert.Equal("Bearer realm=\"chat\"", response.Header("WWW-Authenticate"));
        Assert.Equal("Unauthorized\n", response.BodyText);
    }

    [Fact]
    public async Task A_banned_token_is_403_with_the_reason()
    {
        RawHttpResponse response = await SendAsync(Upgrade("/guarded", "X-Token: banned\r\n"));
        Assert.Equal(403, response.StatusCode);
        Assert.Equal("banned\n", response.BodyText);
    }

    [Fact]
    public async Task A_busy_server_is_429_with_Retry_After_in_whole_seconds()
    {
        RawHttpResponse response = await SendAsync(Upgrade("/guarded", "X-Token: busy\r\n"));
        Assert.Equal(429, response.StatusCode);
        Assert.Equal("30", response.Header("Retry-After"));
    }

    [Fact]
    public async Task A_hook_that_throws_is_500()
    {
        RawHttpResponse response = await SendAsync(Upgrade("/guarded", "X-Token: throw\r\n"));
        Assert.Equal(500, response.StatusCode);
    }

    [Fact]
    public async Task An_accepted_request_gets_the_added_header_on_its_101_and_works()
    {
        await using RawClient raw = await RawClient.ConnectAsync(Port);
        await raw.WriteAsync(Upgrade("/guarded", "X-Token: abc\r\n"));
        RawHttpResponse response = await raw.ReadHttpResponseAsync(readBody: false);
        Assert.Equal(101, response.StatusCode);
        Assert.Equal("s-abc", response.Header("X-Session"));
        await raw.WriteAsync(RawClient.Frame(0x1, "hi"u8));
        RawFrame echoed = await raw.ReadFrameAsync();
        Assert.Equal("hi", System.Text.Encoding.UTF8.GetString(echoed.Payload));
    }

    [Fact]
    public async Task The_route_subprotocol_selector_decides()
    {
        await using RawClient raw = await RawClient.ConnectAsync(Port);
        await raw.WriteAsync(Upgrade("/select", "Sec-WebSocket-Protocol: a, b\r\n"));
        RawHttpResponse response = await raw.ReadHttpResponseAsync(readBody: false);
        Assert.Equal(101, response.StatusCode);
        Assert.Equal("b", response.Header("Sec-WebSocket-Protocol"));
    }

    [Fact]
    public void Hooks_cannot_set_handshake_headers_or_inject_lines()
    {
        var context = new WebSocketHandshakeContext(new WebSocketUpgradeRequest(
            new Protocol.Handshake.HttpRequestHead("GET", "/", "HTTP/1.1", new Protocol.Handshake.HttpHeaderCollection()), null, null, false, null));

        Assert.Throws<ArgumentException>(() => context.AddResponseHeader("Sec-WebSocket-Accept", "x"));
        Assert.Throws<ArgumentException>(() => context.AddResponseHeader("X-Bad", "a\r\nInjected: 1"));
        Assert.Throws<ArgumentException>(() => context.AddResponseHeader("Bad Name", "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.Reject(200));
        Assert.Throws<ArgumentException>(() => context.Reject(401, null, ("WWW-Authenticate", "x\ny")));
    }
}
