using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Tests;

/// <summary>Our client against servers that misbehave, and its timeouts and cancellation.</summary>
public sealed class ClientTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private static Task WriteAsync(NetworkStream stream, string ascii, CancellationToken token)
        => stream.WriteAsync(Encoding.ASCII.GetBytes(ascii), token).AsTask();

    [Fact]
    public async Task ServerAnsweringAWrongAcceptValue_IsRefused()
    {
        await using var server = ScriptedServer.Start((head, stream, token) => WriteAsync(stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", token));
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(server.Uri()).WithTimeout());
        Assert.Equal(WebSocketConnectError.Handshake, error.Error);
        Assert.Equal(101, error.StatusCode);
        Assert.Equal(101, error.HandshakeException!.StatusCode);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task ServerSelectingASubprotocolTheClientDidNotOffer_IsRefused()
    {
        await using var server = ScriptedServer.Start((head, stream, token) => WriteAsync(stream,
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ScriptedServer.AcceptFor(head)}\r\nSec-WebSocket-Protocol: never.offered\r\n\r\n", token));
        var options = new WebSocketClientOptions();
        options.Subprotocols.Add("chat.v1");
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(server.Uri(), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Handshake, error.Error);
        Assert.IsType<WebSocketHandshakeException>(error.InnerException);
    }

    [Fact]
    public async Task ServerAnsweringWithAnHttpError_GivesItsStatusAndHeaders()
    {
        await using var server = ScriptedServer.Start((head, stream, token) => WriteAsync(stream,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n", token));
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(server.Uri()).WithTimeout());
        Assert.Equal(WebSocketConnectError.HttpStatus, error.Error);
        Assert.Equal(401, error.StatusCode);
        Assert.Equal(401, error.HandshakeException!.StatusCode);
        Assert.False(error.IsTransient);
        Assert.True(error.Headers!.TryGetValue("WWW-Authenticate", out string? challenge));
        Assert.Equal("Bearer", challenge);
    }

    [Fact]
    public async Task ServerThatNeverAnswersTheUpgrade_TimesOutWithinConnectTimeout()
    {
        await using var server = ScriptedServer.Start((head, stream, token) => Task.Delay(Timeout.Infinite, token));
        var options = new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(500) };
        var watch = Stopwatch.StartNew();
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(server.Uri(), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Timeout, error.Error);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.True(error.IsTransient);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ClosedPort_ThrowsConnectExceptionWithReasonConnectionRefused()
    {
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop(); // nothing listens there now
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")).WithTimeout());
        Assert.Equal(WebSocketConnectError.ConnectionRefused, error.Error);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task WebSocketClientRunAsync_DrivesAHandler_OpenedThenReceivedThenClosed()
    {
        var handler = new Ws4pyStyleClientHandler();
        WebSocketCloseInfo status = await WebSocketClient.RunAsync(fixture.Plain.Uri("/echo"), handler, fixture.Plain.ClientOptions()).WithTimeout();
        Assert.Equal(WebSocketCloseCode.NormalClosure, status.Code);
        Assert.Equal(["opened", "received: hello from OnOpenAsync", "closed: 1000"], handler.Events);
    }

    [Fact]
    public async Task UnknownHost_ThrowsConnectExceptionWithReasonNameResolution()
    {
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(new Uri("ws://no-such-host.invalid/")).WithTimeout());
        Assert.Equal(WebSocketConnectError.NameResolution, error.Error);
        Assert.IsType<SocketException>(error.InnerException);
    }

    [Fact]
    public async Task FramesSentRightAfterThe101_AreNotLost()
    {
        await using var server = ScriptedServer.Start(async (head, stream, token) =>
        {
            // The 101 and two frames in one write.
            byte[] response = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ScriptedServer.AcceptFor(head)}\r\n\r\n");
            byte[] all = [.. response, .. RawClient.Frame(0x1, "first"u8, mask: false), .. RawClient.Frame(0x1, "second"u8, mask: false)];
            await stream.WriteAsync(all, token);
            await Task.Delay(Timeout.Infinite, token);
        });
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(server.Uri()).WithTimeout();
        Assert.Equal("first", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        Assert.Equal("second", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        client.Abort();
    }

    [Fact]
    public async Task MaskedFrameFromAServer_FailsTheClientWith1002()
    {
        await using var server = ScriptedServer.Start(async (head, stream, token) =>
        {
            await WriteAsync(stream, $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ScriptedServer.AcceptFor(head)}\r\n\r\n", token);
            await stream.WriteAsync(RawClient.Frame(0x1, "masked"u8, mask: true), token);
            await Task.Delay(Timeout.Infinite, token);
        });
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(server.Uri()).WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        Assert.Equal(WebSocketCloseCode.ProtocolError, client.CloseStatus!.Value.Code);
    }

    [Fact]
    public async Task ReceiveAsync_Cancelled_ThrowsAndTheConnectionStaysUsable()
    {
        await using WebSocketConnection client = await fixture.Plain.ConnectAsync("/echo");
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.ReceiveAsync(cts.Token));
        }

        Assert.Equal(WebSocketConnectionState.Open, client.State);
        await client.SendTextAsync("still here").WithTimeout();
        Assert.Equal("still here", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
        Assert.Equal(WebSocketConnectionState.Closed, client.State);
    }

    [Fact]
    public async Task RunAsync_CancelledToken_ClosesWith1001()
    {
        TestServer server = fixture.Plain;
        (WebSocketConnection client, RecordingHandler serverHandler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            var clientHandler = new RecordingHandler();
            using var cts = new CancellationTokenSource();
            Task<WebSocketCloseInfo> running = client.RunAsync(clientHandler, cts.Token);
            await clientHandler.Opened.WithTimeout();
            cts.Cancel();

            WebSocketCloseInfo clientStatus = await running.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, clientStatus.Code);
            Assert.Equal(1, clientHandler.CloseCount);
            WebSocketCloseInfo serverStatus = await serverHandler.Closed.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, serverStatus.Code);
            Assert.True(serverStatus.InitiatedByPeer);
        }
    }

    [Fact]
    public async Task DisposeAsync_OfAnOpenConnection_ClosesGracefullyWith1000()
    {
        TestServer server = fixture.Plain;
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await handler.Opened.WithTimeout();
        await client.DisposeAsync().AsTask().WithTimeout();
        Assert.Equal(WebSocketConnectionState.Closed, client.State);
        Assert.Equal(WebSocketCloseCode.NormalClosure, (await handler.Closed.WithTimeout()).Code);
    }

    [Fact]
    public async Task Abort_CompletesWith1006_AndTheServerSeesTheTransportEnd()
    {
        TestServer server = fixture.Plain;
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            await handler.Opened.WithTimeout();
            client.Abort();
            client.Abort(); // harmless twice
            Assert.Equal(WebSocketConnectionState.Aborted, client.State);
            Assert.Equal(WebSocketCloseCode.AbnormalClosure, (await client.Completion.WithTimeout()).Code);
            await Assert.ThrowsAsync<WebSocketClosedException>(async () => await client.SendTextAsync("x"));
        }

        WebSocketCloseInfo serverSide = await handler.Closed.WithTimeout();
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, serverSide.Code);
        Assert.True(serverSide.InitiatedByPeer);
    }

    /// <summary>ws4py's client handler shape: opened, received_message, closed.</summary>
    private sealed class Ws4pyStyleClientHandler : WebSocketHandler
    {
        public List<string> Events { get; } = [];

        protected override ValueTask OnOpenAsync()
        {
            Events.Add("opened");
            return SendTextAsync("hello from OnOpenAsync");
        }

        protected override ValueTask OnMessageAsync(WebSocketMessage message)
        {
            Events.Add($"received: {message.GetText()}");
            return CloseAsync();
        }

        protected override ValueTask OnCloseAsync(WebSocketCloseInfo status)
        {
            Events.Add($"closed: {(int)status.Code}");
            return ValueTask.CompletedTask;
        }
    }
}
