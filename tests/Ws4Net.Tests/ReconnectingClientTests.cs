using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>
/// <see cref="ReconnectingWebSocketClient"/> against our server: a server stopped and restarted on the same
/// port while the client sends (buffer, drop policy, hook re-run, order), application close, close codes that
/// forbid reconnecting, permanent connect failures and the attempt limit.
/// </summary>
public sealed class ReconnectingClientTests
{
    [Fact]
    public async Task ServerRestartedOnTheSamePort_ClientReconnects_RerunsTheHook_AndDeliversTheBufferedMessages()
    {
        var received = Channel.CreateUnbounded<string>();
        Action<TestServer> map = t => t.Server.Map("/collect", _ => new CollectingHandler(received.Writer));
        TestServer first = await TestServer.StartAsync(map: map);
        int port = first.Port;
        int hooks = 0;
        var options = new ReconnectingWebSocketClientOptions
        {
            Client = first.ClientOptions(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
            SendBufferCapacity = 3,
            DropPolicy = SendBufferDropPolicy.DropOldest,
            OnConnectedAsync = (connection, token) => connection.SendTextAsync($"subscribe #{Interlocked.Increment(ref hooks)}", token),
        };
        var states = Channel.CreateUnbounded<ReconnectingStateChangedEventArgs>();
        await using var client = new ReconnectingWebSocketClient(first.Uri("/collect"), options);
        client.StateChanged += (_, e) => states.Writer.TryWrite(e);

        await client.StartAsync().WithTimeout();
        Assert.Equal(ReconnectingWebSocketState.Open, client.State);
        Assert.True(await client.SendTextAsync("before").WithTimeout());
        Assert.Equal("subscribe #1", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal("before", await received.Reader.ReadAsync().AsTask().WithTimeout());

        await first.DisposeAsync();   // closes the client with 1001 and stops listening
        ReconnectingStateChangedEventArgs down = await NextStateAsync(states, s => s.PreviousState == ReconnectingWebSocketState.Open);
        Assert.Equal(ReconnectingWebSocketState.WaitingToReconnect, down.State);
        Assert.Equal(WebSocketCloseCode.GoingAway, down.CloseStatus!.Value.Code);

        for (int i = 1; i <= 5; i++)
        {
            Assert.True(await client.SendTextAsync($"while down {i}").WithTimeout());   // DropOldest accepts, discarding the oldest
        }

        Assert.Equal(3, client.BufferedMessageCount);
        Assert.Equal(2, client.DroppedMessageCount);
        Assert.NotEqual(ReconnectingWebSocketState.Open, client.State);

        await using TestServer second = await StartOnPortAsync(port, map);
        Assert.Equal("subscribe #2", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal("while down 3", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal("while down 4", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal("while down 5", await received.Reader.ReadAsync().AsTask().WithTimeout());
        await NextStateAsync(states, s => s.State == ReconnectingWebSocketState.Open);
        Assert.True(await client.SendTextAsync("after").WithTimeout());
        Assert.Equal("after", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal(2, client.ConnectCount);
        Assert.Equal(0, client.BufferedMessageCount);

        await client.CloseAsync().WithTimeout();
        Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
        Assert.True(client.Completion.IsCompleted);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.SendTextAsync("too late").AsTask());
        Assert.Equal(2, client.ConnectCount);
    }

    [Fact]
    public async Task MessagesSentBeforeStart_AreBuffered_AndDropNewestRefusesOverCapacity()
    {
        var received = Channel.CreateUnbounded<string>();
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/collect", _ => new CollectingHandler(received.Writer)));
        var options = new ReconnectingWebSocketClientOptions { Client = server.ClientOptions(), SendBufferCapacity = 2, SendBufferMaxBytes = 64 };
        await using var client = new ReconnectingWebSocketClient(server.Uri("/collect"), options);

        Assert.True(await client.SendTextAsync("one").WithTimeout());
        Assert.False(await client.SendTextAsync(new string('x', 65)).WithTimeout());   // larger than the byte bound
        Assert.True(await client.SendTextAsync("two").WithTimeout());
        Assert.False(await client.SendTextAsync("three").WithTimeout());               // full: DropNewest refuses
        Assert.Equal(2, client.DroppedMessageCount);

        await client.StartAsync().WithTimeout();
        Assert.Equal("one", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal("two", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.True(await client.SendTextAsync("three").WithTimeout());
        Assert.Equal("three", await received.Reader.ReadAsync().AsTask().WithTimeout());
    }

    [Fact]
    public async Task WithoutABuffer_SendsWhileDisconnectedReturnFalse()
    {
        await using var client = new ReconnectingWebSocketClient(new Uri("ws://127.0.0.1:1/"));
        Assert.False(await client.SendTextAsync("nowhere").WithTimeout());
        Assert.Equal(1, client.DroppedMessageCount);
    }

    [Theory]
    [InlineData(4001, false)]
    [InlineData(1008, false)]
    [InlineData(4001, true)]
    public async Task ServerCloseWithARejectionCode_IsFinal_UnlessConfigured(int code, bool reconnectAnyway)
    {
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/reject", _ => new RejectingHandler((WebSocketCloseCode)code)));
        var opens = Channel.CreateUnbounded<int>();
        var options = new ReconnectingWebSocketClientOptions
        {
            Client = server.ClientOptions(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
            ReconnectAfterRejectionClose = reconnectAnyway,
        };
        await using var client = new ReconnectingWebSocketClient(server.Uri("/reject"), options);
        client.StateChanged += (_, e) =>
        {
            if (e.State == ReconnectingWebSocketState.Open)
            {
                opens.Writer.TryWrite(client.ConnectCount);
            }
        };

        await client.StartAsync().WithTimeout();
        if (reconnectAnyway)
        {
            while (await opens.Reader.ReadAsync().AsTask().WithTimeout() < 2)
            {
            }

            await client.CloseAsync().WithTimeout();
        }
        else
        {
            await client.Completion.WithTimeout();
            Assert.Equal(1, client.ConnectCount);
            Assert.Equal(code, (int)client.LastCloseStatus!.Value.Code);
        }

        Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
    }

    [Fact]
    public async Task PermanentConnectFailure_StopsAtOnce_AndStartAsyncThrowsIt()
    {
        await using TestServer server = await TestServer.StartAsync();
        int attempts = 0;
        var options = new ReconnectingWebSocketClientOptions { Client = server.ClientOptions(), InitialReconnectDelay = TimeSpan.FromMilliseconds(10) };
        await using var client = new ReconnectingWebSocketClient(server.Uri("/missing"), options);
        client.StateChanged += (_, e) => Interlocked.Add(ref attempts, e.State == ReconnectingWebSocketState.Connecting ? 1 : 0);

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => client.StartAsync().WithTimeout());
        Assert.Equal(WebSocketConnectError.HttpStatus, error.Error);
        Assert.Equal(404, error.StatusCode);
        await client.Completion.WithTimeout();
        Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
        Assert.Equal(1, Volatile.Read(ref attempts));
    }

    [Fact]
    public async Task TransientConnectFailures_AreRetriedUpToMaxAttempts()
    {
        int port = FreePort();
        int attempts = 0;
        var options = new ReconnectingWebSocketClientOptions
        {
            InitialReconnectDelay = TimeSpan.FromMilliseconds(5),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxAttempts = 3,
        };
        await using var client = new ReconnectingWebSocketClient(new Uri($"ws://127.0.0.1:{port}/"), options);
        client.StateChanged += (_, e) => Interlocked.Add(ref attempts, e.State == ReconnectingWebSocketState.Connecting ? 1 : 0);

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => client.StartAsync().WithTimeout());
        Assert.Equal(WebSocketConnectError.ConnectionRefused, error.Error);
        Assert.Equal(3, Volatile.Read(ref attempts));
        Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
    }

    [Fact]
    public async Task ApplicationClose_ClosesWithItsCode_AndNeverReconnects()
    {
        await using TestServer server = await TestServer.StartAsync();
        var options = new ReconnectingWebSocketClientOptions { Client = server.ClientOptions(), InitialReconnectDelay = TimeSpan.FromMilliseconds(10) };
        string id = TestServer.NewId();
        await using var client = new ReconnectingWebSocketClient(server.Uri($"/record?id={id}"), options);
        await client.StartAsync().WithTimeout();
        RecordingHandler handler = await server.HandlerAsync<RecordingHandler>(id);

        await client.CloseAsync(WebSocketCloseCode.GoingAway, "bye").WithTimeout();
        WebSocketCloseInfo seen = await handler.Closed.WithTimeout();
        Assert.Equal(WebSocketCloseCode.GoingAway, seen.Code);
        Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
        Assert.Equal(1, client.ConnectCount);
    }

    [Fact]
    public async Task AHookThatFails_AbortsThatConnection_AndTheNextAttemptRunsItAgain()
    {
        var received = Channel.CreateUnbounded<string>();
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/collect", _ => new CollectingHandler(received.Writer)));
        int calls = 0;
        var options = new ReconnectingWebSocketClientOptions
        {
            Client = server.ClientOptions(),
            InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
            OnConnectedAsync = async (connection, token) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new InvalidOperationException("first subscription fails");
                }

                await connection.SendTextAsync("subscribed", token);
            },
        };
        await using var client = new ReconnectingWebSocketClient(server.Uri("/collect"), options);
        await client.StartAsync().WithTimeout();
        Assert.Equal("subscribed", await received.Reader.ReadAsync().AsTask().WithTimeout());
        Assert.Equal(2, Volatile.Read(ref calls));
        Assert.Equal(2, client.ConnectCount);
        Assert.Equal(ReconnectingWebSocketState.Open, client.State);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<ReconnectingStateChangedEventArgs> NextStateAsync(Channel<ReconnectingStateChangedEventArgs> states, Func<ReconnectingStateChangedEventArgs, bool> match)
    {
        while (true)
        {
            ReconnectingStateChangedEventArgs e = await states.Reader.ReadAsync().AsTask().WithTimeout();
            if (match(e))
            {
                return e;
            }
        }
    }

    /// <summary>Starts a server on <paramref name="port"/>, retrying while the port is still held by the stopped one.</summary>
    internal static async Task<TestServer> StartOnPortAsync(int port, Action<TestServer> map)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await TestServer.StartAsync(configure: o => o.EndPoint = new IPEndPoint(IPAddress.Loopback, port), map: map);
            }
            catch (SocketException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private sealed class CollectingHandler(ChannelWriter<string> received) : WebSocketHandler
    {
        protected override ValueTask OnMessageAsync(WebSocketMessage message)
        {
            received.TryWrite(message.GetText());
            return ValueTask.CompletedTask;
        }
    }

    private sealed class RejectingHandler(WebSocketCloseCode code) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync() => CloseAsync(code, "rejected");
    }
}
