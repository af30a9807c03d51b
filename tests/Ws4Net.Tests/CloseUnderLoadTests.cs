using System.Diagnostics;

namespace Ws4Net.Tests;

/// <summary>
/// Close frames the server owes (the echo of the peer's close, the close that fails the connection)
/// must reach the wire even while a handler is busy sending from another thread.
/// </summary>
public sealed class CloseUnderLoadTests : IAsyncLifetime
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);

    private TestServer _server = null!;

    public async Task InitializeAsync()
        => _server = await TestServer.StartAsync(configure: o => o.Connection.CloseTimeout = CloseTimeout, map: t => t.Server.Map("/flood", request => t.Track(request, new FloodUntilClosedHandler())));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ProtocolViolation_WhileTheHandlerFloods_TheClientStillGetsClose1002()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/flood?id={id}");
        FloodUntilClosedHandler handler = await _server.HandlerAsync<FloodUntilClosedHandler>(id);
        await handler.Flooding.WithTimeout();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0x2, (await raw.ReadFrameAsync()).Opcode);
        }

        await Task.Delay(500); // stop reading: the socket buffers fill up and the server's flooding write is left pending
        await raw.WriteAsync(RawClient.Frame(0x1, "unmasked"u8, mask: false));
        RawFrame? close = await ReadUntilCloseAsync(raw);
        Assert.True(close is not null, "the server closed TCP without sending the 1002 close frame");
        Assert.Equal((int)WebSocketCloseCode.ProtocolError, close.CloseCode);
    }

    [Fact]
    public async Task ClientClose_WhileTheHandlerFloods_IsEchoedAndCompletesCleanly()
    {
        (WebSocketConnection client, FloodUntilClosedHandler handler) = await _server.ConnectTrackedAsync<FloodUntilClosedHandler>("/flood");
        await using (client)
        {
            await handler.Flooding.WithTimeout();
            for (int i = 0; i < 5; i++)
            {
                Assert.NotNull(await client.ReceiveAsync().WithTimeout());
            }

            await Task.Delay(500); // stop reading: the socket buffers fill up and the server's flooding write is left pending
            Task closing = client.CloseAsync((WebSocketCloseCode)4000, "stop").AsTask();
            await closing.WithTimeout();
            WebSocketCloseInfo status = await client.Completion.WithTimeout();
            Assert.Equal(4000, (int)status.Code); // 1006 here means the server dropped its close echo
            Assert.Equal(WebSocketConnectionState.Closed, client.State);
        }
    }

    [Fact]
    public async Task ProtocolViolation_FromAPeerThatStoppedReading_WhileTheHandlerFloods_IsCleanedUpWithinCloseTimeout()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/flood?id={id}");
        FloodUntilClosedHandler handler = await _server.HandlerAsync<FloodUntilClosedHandler>(id);
        await handler.Flooding.WithTimeout();
        await Task.Delay(500); // never read again: the server's write stays blocked

        var watch = Stopwatch.StartNew();
        await raw.WriteAsync(RawClient.Frame(0x1, "unmasked"u8, mask: false));
        WebSocketCloseInfo status = await handler.Closed.WithTimeout(CloseTimeout + TimeSpan.FromSeconds(10));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, CloseTimeout + TimeSpan.FromSeconds(4));
        Assert.Equal(WebSocketCloseCode.ProtocolError, status.Code);
    }

    [Fact]
    public async Task CloseFromAPeerThatStoppedReading_WhileTheHandlerFloods_IsCleanedUpWithinCloseTimeout()
    {
        string id = TestServer.NewId();
        await using RawClient raw = await RawClient.HandshakeAsync(_server.Port, $"/flood?id={id}");
        FloodUntilClosedHandler handler = await _server.HandlerAsync<FloodUntilClosedHandler>(id);
        await handler.Flooding.WithTimeout();
        await Task.Delay(500); // never read again: the server's write stays blocked

        var watch = Stopwatch.StartNew();
        await raw.WriteAsync(RawClient.Frame(0x8, new byte[] { 0x03, 0xE8 }));
        WebSocketCloseInfo status = await handler.Closed.WithTimeout(CloseTimeout + TimeSpan.FromSeconds(10));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, CloseTimeout + TimeSpan.FromSeconds(4));
        Assert.True(status.InitiatedByPeer);
    }

    /// <summary>Reads frames until a close frame (returned) or the end of the TCP stream (null).</summary>
    private static async Task<RawFrame?> ReadUntilCloseAsync(RawClient raw)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (!deadline.IsCancellationRequested)
        {
            RawFrame frame;
            try
            {
                frame = await raw.ReadFrameAsync();
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException)
            {
                return null;
            }

            if (frame.Opcode == 0x8)
            {
                return frame;
            }
        }

        throw new TimeoutException("No close frame and no end of stream.");
    }

    /// <summary>Records like <see cref="RecordingHandler"/>; on open, sends 32 KB binary messages from a background task until sending fails.</summary>
    private sealed class FloodUntilClosedHandler : RecordingHandler
    {
        private readonly TaskCompletionSource _flooding = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Flooding => _flooding.Task;

        protected override async ValueTask OnOpenAsync()
        {
            await base.OnOpenAsync();
            byte[] chunk = Payloads.Binary(32 * 1024);
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        await SendBinaryAsync(chunk);
                        _flooding.TrySetResult();
                    }
                }
                catch (WebSocketClosedException)
                {
                    // The connection is closing: stop.
                }
            });
        }
    }
}
