using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ws4Net.Cli.Demo;
using Ws4Net.Client;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Tests;

/// <summary>Server details: slow handshakes, frames pipelined with the upgrade, origin policy, HEAD, logging, failing factories.</summary>
public sealed class ServerBehaviourTests
{
    [Fact]
    public async Task ClientThatNeverFinishesTheUpgradeRequest_IsDisconnectedAfterHandshakeTimeout()
    {
        TimeSpan handshakeTimeout = TimeSpan.FromMilliseconds(500);
        await using TestServer server = await TestServer.StartAsync(configure: o => o.HandshakeTimeout = handshakeTimeout);
        await using RawClient raw = await RawClient.ConnectAsync(server.Port);
        await raw.WriteAsync("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // and never the blank line

        var watch = Stopwatch.StartNew();
        await raw.ReadToEndAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, handshakeTimeout + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task PastMaxConcurrentHandshakes_ANewClientIsServedAtOnce_AndTheLongestPendingHandshakeIsCutOff()
    {
        // Issue 12: accepting never waits for a handshake slot. With the table full of slow peers, a new client
        // evicts the one pending longest instead of queueing behind them.
        const int cap = 8;
        await using TestServer server = await TestServer.StartAsync(configure: o => o.MaxConcurrentHandshakes = cap);
        var slow = new List<RawClient>();
        for (int i = 0; i < cap; i++)
        {
            RawClient raw = await RawClient.ConnectAsync(server.Port);
            await raw.WriteAsync("GET /echo HTTP/1.1\r\n");   // and nothing more
            slow.Add(raw);
            var wait = Stopwatch.StartNew();
            while (server.Server.PendingHandshakes < i + 1 && wait.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10);
            }
        }

        Assert.Equal(cap, server.Server.PendingHandshakes);
        Assert.Equal(0, server.Server.HandshakesEvicted);

        var watch = Stopwatch.StartNew();
        await using WebSocketConnection client = await server.ConnectAsync("/echo");
        TimeSpan handshake = watch.Elapsed;
        await client.SendTextAsync("still served").WithTimeout();
        Assert.Equal("still served", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());

        // The first slow peer (the oldest) was disconnected without an answer; the others are still pending.
        byte[] answer = await slow[0].ReadToEndAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(answer);
        Assert.Equal(1, server.Server.HandshakesEvicted);
        Assert.InRange(handshake, TimeSpan.Zero, TimeSpan.FromSeconds(5));   // not the 10 s HandshakeTimeout of a queue
        Assert.Equal(cap - 1, server.Server.PendingHandshakes);
        foreach (RawClient raw in slow)
        {
            await raw.DisposeAsync();
        }
    }

    [Fact]
    public async Task FramesSentTogetherWithTheUpgradeRequest_AreNotLost()
    {
        await using TestServer server = await TestServer.StartAsync();
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.ConnectAsync(server.Port);
        byte[] request = System.Text.Encoding.ASCII.GetBytes(
            $"GET /record?id={id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        await raw.WriteAsync([.. request, .. RawClient.Frame(0x1, "early 1"u8), .. RawClient.Frame(0x2, new byte[] { 7, 7 })]);

        RawHttpResponse response = await raw.ReadHttpResponseAsync(readBody: false);
        Assert.Equal(101, response.StatusCode);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response.Header("Sec-WebSocket-Accept")); // RFC 6455 §1.3 example
        RecordingHandler handler = await server.HandlerAsync<RecordingHandler>(id);
        Assert.Equal("early 1", (await handler.Messages.ReadAsync().AsTask().WithTimeout()).Text);
        Assert.Equal(new byte[] { 7, 7 }, (await handler.Messages.ReadAsync().AsTask().WithTimeout()).Payload);
    }

    [Fact]
    public async Task OriginPolicy_OurClientGets403ForAForeignOrigin_AndConnectsWithAnAllowedOne()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.AllowedOrigins = ["https://good.example"]);

        var bad = server.ClientOptions();
        bad.Origin = "https://evil.example";
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", bad));
        Assert.Equal(403, error.StatusCode);

        var none = server.ClientOptions();
        Assert.Equal(403, (await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", none))).StatusCode);

        var good = server.ClientOptions();
        good.Origin = "https://good.example";
        await using WebSocketConnection client = await server.ConnectAsync("/echo", good);
        await client.SendTextAsync("allowed").WithTimeout();
        Assert.Equal("allowed", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task DemoServer_HeadRoot_Gets200WithLengthButNoBody_AndPostRootGets405()
    {
        await using var demo = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await demo.StartAsync().WithTimeout();
        int port = ((System.Net.IPEndPoint)demo.LocalEndPoint!).Port;

        await using (RawClient raw = await RawClient.ConnectAsync(port))
        {
            await raw.WriteAsync("HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            RawHttpResponse head = await raw.ReadHttpResponseAsync(readBody: false);
            Assert.Equal(200, head.StatusCode);
            Assert.Equal(DemoServer.Page.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), head.Header("Content-Length"));
            Assert.Empty(await raw.ReadToEndAsync(TimeSpan.FromSeconds(10)));
        }

        await using (RawClient raw = await RawClient.ConnectAsync(port))
        {
            await raw.WriteAsync("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
            Assert.Equal(405, (await raw.ReadHttpResponseAsync()).StatusCode);
        }
    }

    [Fact]
    public async Task HandlerException_IsLoggedAsAnError_NotSwallowed()
    {
        ILoggerFactory factory = CapturingLoggerProvider.CreateFactory(out CapturingLoggerProvider log);
        await using TestServer server = await TestServer.StartAsync(configure: o => o.LoggerFactory = factory);
        await using WebSocketConnection client = await server.ConnectAsync("/throw");
        await client.SendTextAsync("throw").WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        Assert.Equal(WebSocketCloseCode.InternalError, client.CloseStatus!.Value.Code);

        LogEntry entry = Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<TestHandlerException>(entry.Exception);
        Assert.Contains(nameof(ThrowingHandler), entry.Message, StringComparison.Ordinal);
        factory.Dispose();
    }

    [Fact]
    public async Task HandlerFactoryThatThrows_IsAServerError_NotANormalClosure()
    {
        await using TestServer server = await TestServer.StartAsync(map: t =>
            t.Server.Map("/broken", WebSocketHandler (_) => throw new TestHandlerException("factory failed")));
        await AssertServerErrorAsync(server, "/broken");
    }

    [Fact]
    public async Task MapOfHandlerType_WithAMissingDependency_IsAServerError_NotANormalClosure()
    {
        using ServiceProvider services = new ServiceCollection().BuildServiceProvider();
        await using TestServer server = await TestServer.StartAsync(
            configure: o => o.Services = services,
            map: t => t.Server.Map<NeedsDependencyHandler>("/needs"));
        await AssertServerErrorAsync(server, "/needs");
    }

    /// <summary>
    /// The server could not build a handler: either it refuses the upgrade with HTTP 500, or, once
    /// upgraded, it closes with 1011 (internal error). Closing with 1000 would tell the client all went well.
    /// </summary>
    private static async Task AssertServerErrorAsync(TestServer server, string path)
    {
        WebSocketConnection client;
        try
        {
            client = await server.ConnectAsync(path);
        }
        catch (WebSocketConnectException error)
        {
            Assert.Equal(500, error.StatusCode);
            return;
        }

        await using (client)
        {
            Assert.Null(await client.ReceiveAsync().WithTimeout());
            Assert.Equal(WebSocketCloseCode.InternalError, client.CloseStatus!.Value.Code);
        }
    }

    [Fact]
    public async Task ConnectionOpened_IsRaisedBeforeOnOpen_AndConnectionsListsTheLiveConnection()
    {
        await using TestServer server = await TestServer.StartAsync();
        var opened = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Server.ConnectionOpened += c => opened.TrySetResult(c);

        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            WebSocketConnection serverSide = await opened.Task.WithTimeout();
            await handler.Opened.WithTimeout();
            Assert.Same(serverSide, handler.Connection);
            Assert.Contains(serverSide, server.Server.Connections);
            Assert.Equal(WebSocketRole.Server, serverSide.Role);
            Assert.Equal(WebSocketRole.Client, client.Role);
            await client.CloseAsync().WithTimeout();
        }

        await handler.Closed.WithTimeout();
        for (int i = 0; i < 100 && server.Server.Connections.Count > 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.Empty(server.Server.Connections);
    }

    internal sealed class NeedsDependencyHandler(HandlerSemanticsTests.Greeter greeter) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync() => SendTextAsync(greeter.Greet());
    }
}
