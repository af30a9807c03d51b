using System.Diagnostics;
using System.Net.Sockets;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>WebSocketServer.StopAsync with live connections: 1001 to everyone, bounded by ShutdownTimeout.</summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StopAsync_EveryConnectedClientSees1001_AndStopReturnsWithinShutdownTimeout(bool secure)
    {
        TimeSpan shutdownTimeout = TimeSpan.FromSeconds(5); // generous: polite clients answer in milliseconds
        await using TestServer server = await TestServer.StartAsync(secure, o => o.ShutdownTimeout = shutdownTimeout);

        var readers = new List<MessageCollector>();
        var handlers = new List<RecordingHandler>();
        for (int i = 0; i < 3; i++)
        {
            readers.Add(new MessageCollector(await server.ConnectAsync("/echo")));
            (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
            await handler.Opened.WithTimeout();
            readers.Add(new MessageCollector(client));
            handlers.Add(handler);
        }

        // Every connection is live.
        foreach (MessageCollector reader in readers.Where((_, i) => i % 2 == 0))
        {
            await reader.Connection.SendTextAsync("alive").WithTimeout();
            Assert.Equal("alive", (await reader.NextAsync()).Text);
        }

        Assert.Equal(6, server.Server.Connections.Count);

        var watch = Stopwatch.StartNew();
        await server.Server.StopAsync().WithTimeout(shutdownTimeout + TimeSpan.FromSeconds(10));
        Assert.True(watch.Elapsed < shutdownTimeout, $"StopAsync took {watch.Elapsed}");

        foreach (MessageCollector reader in readers)
        {
            await reader.Loop.WithTimeout();
            WebSocketCloseInfo status = await reader.Connection.Completion.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, status.Code);
            Assert.True(status.InitiatedByPeer);
            Assert.Equal(WebSocketConnectionState.Closed, reader.Connection.State);
            await reader.Connection.DisposeAsync();
        }

        foreach (RecordingHandler handler in handlers)
        {
            WebSocketCloseInfo status = await handler.Closed.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, status.Code);
            Assert.False(status.InitiatedByPeer);
            Assert.Equal(1, handler.CloseCount);
        }

        Assert.Empty(server.Server.Connections);

        // No longer listening.
        Assert.Equal(
            WebSocketConnectError.ConnectionRefused,
            (await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(server.Uri("/echo"), server.ClientOptions()).WithTimeout())).Error);
    }

    [Fact]
    public async Task StopAsync_WithAPeerThatNeverAnswers_AbortsItAfterShutdownTimeout()
    {
        TimeSpan shutdownTimeout = TimeSpan.FromSeconds(1);
        await using TestServer server = await TestServer.StartAsync(configure: o =>
        {
            o.ShutdownTimeout = shutdownTimeout;
            o.Connection.CloseTimeout = TimeSpan.FromSeconds(30); // so only the shutdown timeout can end the silent peer
        });

        string id = TestServer.NewId();
        await using RawClient silent = await RawClient.HandshakeAsync(server.Port, $"/record?id={id}");
        RecordingHandler silentHandler = await server.HandlerAsync<RecordingHandler>(id);
        var polite = new MessageCollector(await server.ConnectAsync("/echo"));
        await silentHandler.Opened.WithTimeout();

        var watch = Stopwatch.StartNew();
        await server.Server.StopAsync().WithTimeout(TimeSpan.FromSeconds(15));
        TimeSpan elapsed = watch.Elapsed;
        Assert.InRange(elapsed, shutdownTimeout - TimeSpan.FromMilliseconds(100), shutdownTimeout + TimeSpan.FromSeconds(4));

        // The polite client completed the 1001 handshake; the silent one got the close frame and then lost TCP.
        await polite.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.GoingAway, polite.Connection.CloseStatus!.Value.Code);
        RawFrame close = await silent.ReadFrameAsync();
        Assert.Equal(0x8, close.Opcode);
        Assert.Equal((int)WebSocketCloseCode.GoingAway, close.CloseCode);
        Assert.Empty(await silent.ReadToEndAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, (await silentHandler.Closed.WithTimeout()).Code);
        await polite.Connection.DisposeAsync();
    }

    [Fact]
    public async Task StopAsync_IsIdempotent_AndDisposeAfterStopIsHarmless()
    {
        TestServer server = await TestServer.StartAsync();
        await server.Server.StopAsync().WithTimeout();
        await server.Server.StopAsync().WithTimeout();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task LocalEndPoint_AfterStop_DoesNotThrow()
    {
        // A property getter should not throw (CA1065); after StopAsync the listener socket is disposed.
        TestServer server = await TestServer.StartAsync();
        await server.Server.StopAsync().WithTimeout();
        System.Net.EndPoint? endPoint = null;
        Exception? error = Record.Exception(() => endPoint = server.Server.LocalEndPoint);
        Assert.Null(error);
        Assert.True(endPoint is null || ((System.Net.IPEndPoint)endPoint).Port == server.Port);
        await server.DisposeAsync();
    }
}
