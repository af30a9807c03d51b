using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>The close handshake in both directions, sends after close, and peers that never answer a close.</summary>
public sealed class CloseHandshakeTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private static readonly TimeSpan ShortCloseTimeout = TimeSpan.FromMilliseconds(500);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientInitiatedClose_ServerHandlerSeesCodeAndReasonFromPeer_ClientCompletesClosed(bool secure)
    {
        TestServer server = fixture.Get(secure);
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            await handler.Opened.WithTimeout();

            await client.CloseAsync((WebSocketCloseCode)4000, "bye").WithTimeout();

            WebSocketCloseInfo serverSide = await handler.Closed.WithTimeout();
            Assert.Equal(4000, (int)serverSide.Code);
            Assert.Equal("bye", serverSide.Reason);
            Assert.True(serverSide.InitiatedByPeer);

            WebSocketCloseInfo clientSide = await client.Completion.WithTimeout();
            Assert.Equal(4000, (int)clientSide.Code);
            Assert.False(clientSide.InitiatedByPeer);
            Assert.Equal(WebSocketConnectionState.Closed, client.State);
            Assert.Equal(clientSide, client.CloseStatus);
        }

        Assert.Equal(1, handler.CloseCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerInitiatedClose_ClientReceiveReturnsNullWithTheServersCodeAndReason(bool secure)
    {
        TestServer server = fixture.Get(secure);
        (WebSocketConnection client, ClosingHandler handler) = await server.ConnectTrackedAsync<ClosingHandler>("/close");
        await using (client)
        {
            WebSocketMessage? message = await client.ReceiveAsync().WithTimeout();
            Assert.Null(message);
            WebSocketCloseInfo status = client.CloseStatus!.Value;
            Assert.Equal(ClosingHandler.Code, (int)status.Code);
            Assert.Equal(ClosingHandler.Reason, status.Reason);
            Assert.True(status.InitiatedByPeer);
            Assert.Equal(status, await client.Completion.WithTimeout());
            Assert.Equal(WebSocketConnectionState.Closed, client.State);
        }

        WebSocketCloseInfo serverSide = await handler.Closed.WithTimeout();
        Assert.Equal(ClosingHandler.Code, (int)serverSide.Code); // the client echoed the code
        Assert.False(serverSide.InitiatedByPeer);
    }

    [Fact]
    public async Task SendingAfterClose_ThrowsWebSocketClosedException_OnBothSides()
    {
        TestServer server = fixture.Plain;
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            await handler.Opened.WithTimeout();
            await client.CloseAsync(WebSocketCloseCode.NormalClosure, "done").WithTimeout();

            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await client.SendTextAsync("late"));
            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await client.SendBinaryAsync(new byte[] { 1, 2, 3 }));
            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await client.SendPingAsync());

            await handler.Closed.WithTimeout();
            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await handler.SendTextAsync("late from server"));
            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await handler.SendBinaryAsync(new byte[] { 4 }));

            // Closing again is harmless.
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task SendingWhileOurCloseAwaitsTheReply_ThrowsWebSocketClosedException()
    {
        await using SilentServer silent = SilentServer.Start();
        var options = new WebSocketClientOptions();
        options.Connection.CloseTimeout = TimeSpan.FromSeconds(10);
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(silent.Uri, options).WithTimeout();
        MessageCollector reader = new(client); // a receive is running, so CloseAsync returns once the frame is sent
        await client.CloseAsync(WebSocketCloseCode.NormalClosure).WithTimeout();
        Assert.Equal(WebSocketConnectionState.Closing, client.State);
        WebSocketClosedException error = await Assert.ThrowsAsync<WebSocketClosedException>(async () => await client.SendTextAsync("too late"));
        Assert.Contains("close", error.Message, StringComparison.OrdinalIgnoreCase);
        client.Abort();
        await reader.Loop.WithTimeout();
    }

    [Fact]
    public async Task ServerAbortingTheTransport_ClientReceiveReturnsNullWith1006()
    {
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/abort", _ => new AbortOnMessageHandler()));
        await using WebSocketConnection client = await server.ConnectAsync("/abort");
        await client.SendTextAsync("abort please").WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        WebSocketCloseInfo status = await client.Completion.WithTimeout();
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, status.Code);
        Assert.True(status.InitiatedByPeer);
        Assert.Equal(WebSocketConnectionState.Aborted, client.State);
    }

    [Fact]
    public async Task PeerThatNeverAnswersOurClose_IsAbortedWithin_CloseTimeout_With1006()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.Connection.CloseTimeout = ShortCloseTimeout);
        string id = TestServer.NewId();
        var sinceBeforeTheClose = Stopwatch.StartNew();
        await using RawClient raw = await RawClient.HandshakeAsync(server.Port, $"/close?id={id}");
        ClosingHandler handler = await server.HandlerAsync<ClosingHandler>(id);

        RawFrame close = await raw.ReadFrameAsync();
        var watch = Stopwatch.StartNew();
        Assert.Equal(0x8, close.Opcode);
        Assert.False(close.Masked);
        Assert.Equal(ClosingHandler.Code, close.CloseCode);
        Assert.Equal(ClosingHandler.Reason, close.CloseReason);

        // Stay silent: never send the close reply. The server gives up after CloseTimeout.
        WebSocketCloseInfo status = await handler.Closed.WithTimeout(TimeSpan.FromSeconds(10));
        TimeSpan elapsed = watch.Elapsed;
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, status.Code);
        Assert.True(sinceBeforeTheClose.Elapsed >= ShortCloseTimeout - TimeSpan.FromMilliseconds(50), $"aborted after {sinceBeforeTheClose.Elapsed}: before CloseTimeout");
        Assert.InRange(elapsed, TimeSpan.Zero, ShortCloseTimeout + TimeSpan.FromSeconds(4));

        byte[] rest = await raw.ReadToEndAsync(TimeSpan.FromSeconds(5)); // the server closed TCP
        Assert.Empty(rest);
    }

    [Fact]
    public async Task ClientWhosePeerNeverAnswersTheClose_AbortsWithin_CloseTimeout_With1006()
    {
        await using SilentServer silent = SilentServer.Start();
        var options = new WebSocketClientOptions();
        options.Connection.CloseTimeout = ShortCloseTimeout;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(silent.Uri, options).WithTimeout();

        var watch = Stopwatch.StartNew();
        await client.CloseAsync(WebSocketCloseCode.NormalClosure, "hello?").WithTimeout(TimeSpan.FromSeconds(10));
        WebSocketCloseInfo status = await client.Completion.WithTimeout(TimeSpan.FromSeconds(10));
        TimeSpan elapsed = watch.Elapsed;

        Assert.Equal(WebSocketCloseCode.AbnormalClosure, status.Code);
        Assert.Equal(WebSocketConnectionState.Aborted, client.State);
        Assert.InRange(elapsed, ShortCloseTimeout - TimeSpan.FromMilliseconds(50), ShortCloseTimeout + TimeSpan.FromSeconds(4));

        // The silent server did receive our (masked) close frame.
        byte[] frame = await silent.ReceivedAfterHandshake.WithTimeout();
        Assert.Equal(0x88, frame[0]);
    }

    private sealed class AbortOnMessageHandler : WebSocketHandler
    {
        protected override ValueTask OnMessageAsync(WebSocketMessage message)
        {
            Connection.Abort();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A hand-written WebSocket server (one connection): answers the upgrade correctly with a 101,
    /// then reads what the client sends and never answers anything.
    /// </summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TaskCompletionSource<byte[]> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ScriptedServer? _server;

        public Uri Uri => _server!.Uri("/silent");

        /// <summary>Gets the first bytes the client sent after the handshake.</summary>
        public Task<byte[]> ReceivedAfterHandshake => _received.Task;

        public static SilentServer Start()
        {
            var silent = new SilentServer();
            silent._server = ScriptedServer.Start(silent.ServeAsync);
            return silent;
        }

        public ValueTask DisposeAsync() => _server!.DisposeAsync();

        private async Task ServeAsync(string head, NetworkStream stream, CancellationToken token)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ScriptedServer.AcceptFor(head)}\r\n\r\n"), token);
            byte[] buffer = new byte[4096];
            while (true)
            {
                int read = await stream.ReadAsync(buffer, token);
                _received.TrySetResult(buffer[..read]);
                if (read == 0)
                {
                    return;
                }
            }
        }
    }
}
