using System.Net;

namespace Ws4Net.Tests;

/// <summary>Subprotocol negotiation and what a handler sees of the upgrade request.</summary>
public sealed class NegotiationTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
        => _server = await TestServer.StartAsync(map: t =>
        {
            t.MapStandardRoutes();
            t.Server.Map("/chat", request => t.Track(request, new RecordingHandler()), "chat.v2", "chat.v1");
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Subprotocol_ServerPreferenceWins_OnBothSides()
    {
        var options = _server.ClientOptions();
        options.Subprotocols.Add("chat.v1");
        options.Subprotocols.Add("chat.v2");
        (WebSocketConnection client, RecordingHandler handler) = await _server.ConnectTrackedAsync<RecordingHandler>("/chat", options);
        await using (client)
        {
            await handler.Opened.WithTimeout();
            Assert.Equal("chat.v2", client.Subprotocol);
            Assert.Equal("chat.v2", handler.Connection.Subprotocol);
            Assert.Equal("chat.v2", handler.Request!.Subprotocol);
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task Subprotocol_OnlyOneInCommon_IsSelected()
    {
        var options = _server.ClientOptions();
        options.Subprotocols.Add("other");
        options.Subprotocols.Add("chat.v1");
        (WebSocketConnection client, RecordingHandler handler) = await _server.ConnectTrackedAsync<RecordingHandler>("/chat", options);
        await using (client)
        {
            await handler.Opened.WithTimeout();
            Assert.Equal("chat.v1", client.Subprotocol);
            Assert.Equal("chat.v1", handler.Request!.Subprotocol);
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task Subprotocol_NoneInCommon_IsNullOnBothSides()
    {
        var options = _server.ClientOptions();
        options.Subprotocols.Add("chat.v3");
        options.Subprotocols.Add("mqtt");
        (WebSocketConnection client, RecordingHandler handler) = await _server.ConnectTrackedAsync<RecordingHandler>("/chat", options);
        await using (client)
        {
            await handler.Opened.WithTimeout();
            Assert.Null(client.Subprotocol);
            Assert.Null(handler.Connection.Subprotocol);
            Assert.Null(handler.Request!.Subprotocol);
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task Subprotocol_RouteWithoutSubprotocols_SelectsNone()
    {
        var options = _server.ClientOptions();
        options.Subprotocols.Add("chat.v1");
        (WebSocketConnection client, RecordingHandler handler) = await _server.ConnectTrackedAsync<RecordingHandler>("/record", options);
        await using (client)
        {
            await handler.Opened.WithTimeout();
            Assert.Null(client.Subprotocol);
            Assert.Null(handler.Request!.Subprotocol);
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task UpgradeRequest_ExposesPathQueryHeadersCookiesAndEndpoints()
    {
        var options = _server.ClientOptions();
        options.Headers.Add(new("X-Test-Header", "hello header"));
        options.Headers.Add(new("Cookie", "session=abc123; theme=\"dark\""));
        options.Origin = "http://example.test";
        string id = TestServer.NewId();
        await using WebSocketConnection client = await _server.ConnectAsync($"/record?room=7&x=a%20b&id={id}", options);
        RecordingHandler handler = await _server.HandlerAsync<RecordingHandler>(id);
        await handler.Opened.WithTimeout();

        WebSocketUpgradeRequest request = handler.Request!;
        Assert.Same(request, handler.Connection.Request);
        Assert.Equal("/record", request.Path);
        Assert.Equal($"room=7&x=a%20b&id={id}", request.QueryString);
        Assert.Equal("7", request.Query["room"]);
        Assert.Equal("a b", request.Query["x"]);
        Assert.True(request.Headers.TryGetValue("x-test-header", out string? header)); // case-insensitive names
        Assert.Equal("hello header", header);
        Assert.Equal("abc123", request.Cookies["session"]);
        Assert.Equal("dark", request.Cookies["theme"]);
        Assert.Equal("http://example.test", request.Origin);
        Assert.Equal($"127.0.0.1:{_server.Port}", request.Host);
        Assert.Equal("GET", request.Head.Method);
        Assert.False(request.IsSecure);

        var remote = Assert.IsType<IPEndPoint>(request.RemoteEndPoint);
        Assert.True(IPAddress.IsLoopback(remote.Address));
        Assert.NotEqual(0, remote.Port);
        Assert.NotEqual(_server.Port, remote.Port);
        Assert.Equal(remote, handler.Connection.RemoteEndPoint);
        var local = Assert.IsType<IPEndPoint>(request.LocalEndPoint);
        Assert.Equal(_server.Port, local.Port);
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task UpgradeRequest_RemoteEndPoint_IsExactlyTheClientsSocket()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/record?id={id}");
        RecordingHandler handler = await _server.HandlerAsync<RecordingHandler>(id);
        IPEndPoint remote = Assert.IsType<IPEndPoint>(handler.Request!.RemoteEndPoint);
        Assert.Equal(raw.LocalEndPoint, remote);
    }

    [Fact]
    public async Task UpgradeRequest_PercentEncodedPath_IsDecoded()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/%72ecord?id={id}");
        RecordingHandler handler = await _server.HandlerAsync<RecordingHandler>(id);
        Assert.Equal("/record", handler.Request!.Path);
        Assert.Equal("/%72ecord", handler.Request.Head.Path);
    }
}
