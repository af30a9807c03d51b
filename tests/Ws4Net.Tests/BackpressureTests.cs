using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Ws4Net.Client;
using Ws4Net.Protocol;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// The bounded send queue: a peer that stops reading never grows the server's queue past
/// <see cref="WebSocketConnectionOptions.MaxBufferedAmount"/>, meets the configured policy on the wire,
/// and does not hold back healthy peers; <c>SendAsync</c> waits and resumes; <c>TrySend</c> never waits.
/// </summary>
public sealed class BackpressureTests
{
    private const int Cap = 64 * 1024;

    [Theory]
    [InlineData(WebSocketBackpressurePolicy.DropMessage)]
    [InlineData(WebSocketBackpressurePolicy.ClosePolicyViolation)]
    [InlineData(WebSocketBackpressurePolicy.CloseTryAgainLater)]
    public async Task A_stalled_peer_meets_the_policy_while_a_thousand_others_receive_every_broadcast(WebSocketBackpressurePolicy policy)
    {
        const int Healthy = 1000;
        const int Messages = 64;

        // A long close timeout: the stalled peer reads (and sees the close frame) only after the broadcast.
        await using var sink = await SinkServer.StartAsync(policy, o => o.Connection.CloseTimeout = TimeSpan.FromSeconds(120));

        // The stalled peer: completes the handshake, then never reads (a tiny receive window fills fast).
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, sink.Port).WithTimeout();
        await RawHandshakeAsync(stalled, sink.Port);
        WebSocketConnection stalledOnServer = await sink.NextConnectionAsync();

        var clients = new WebSocketConnection[Healthy];
        var received = new int[Healthy];
        var outOfOrder = new ConcurrentBag<string>();
        var readers = new Task[Healthy];
        for (int i = 0; i < Healthy; i++)
        {
            clients[i] = await WebSocketClient.ConnectAsync(sink.Uri).WithTimeout();
            await sink.NextConnectionAsync();
            int index = i;
            readers[i] = Task.Run(async () =>
            {
                while (received[index] < Messages && await clients[index].ReceiveAsync() is { } message)
                {
                    int sequence = BitConverter.ToInt32(message.Payload.Span);
                    if (sequence != received[index])
                    {
                        outOfOrder.Add($"client {index}: got {sequence}, expected {received[index]}");
                    }

                    received[index]++;
                }
            });
        }

        // Back the stalled peer up first: fill its socket buffers and its queue to the cap.
        int prefilled = 0;
        byte[] filler = new byte[4096];
        for (int i = 0; i < 10_000; i++)
        {
            WebSocketSendStatus status = stalledOnServer.TrySend(filler, WebSocketMessageKind.Binary);
            if (status != WebSocketSendStatus.Sent && status != WebSocketSendStatus.Queued)
            {
                break;
            }

            prefilled++;
            if (i % 64 == 0)
            {
                await Task.Delay(1);
            }
        }

        Assert.True(prefilled < 10_000, "the stalled peer's queue reached its cap");
        var outcomes = new ConcurrentDictionary<WebSocketSendStatus, int>();
        long maxBuffered = 0;
        byte[] payload = new byte[1024];
        for (int m = 0; m < Messages; m++)
        {
            BitConverter.TryWriteBytes(payload, m);
            using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, payload);
            foreach (WebSocketConnection connection in sink.Connections)
            {
                WebSocketSendStatus status = connection.TrySend(message);
                if (connection == stalledOnServer)
                {
                    outcomes.AddOrUpdate(status, 1, static (_, n) => n + 1);
                    maxBuffered = Math.Max(maxBuffered, connection.BufferedAmount);
                }
            }

            if (m % 16 == 0)
            {
                await Task.Yield();
            }
        }

        await Task.WhenAll(readers).WithTimeout(TimeSpan.FromSeconds(60));
        Assert.Empty(outOfOrder);
        Assert.All(received, count => Assert.Equal(Messages, count));
        Assert.InRange(maxBuffered, 0, Cap);

        // The stalled peer wakes up and reads what reached it.
        int accepted = outcomes.GetValueOrDefault(WebSocketSendStatus.Sent) + outcomes.GetValueOrDefault(WebSocketSendStatus.Queued);
        (int dataFrames, int? closeCode) = await DrainAsync(stalled, policy == WebSocketBackpressurePolicy.DropMessage ? prefilled + accepted : int.MaxValue);
        if (policy == WebSocketBackpressurePolicy.DropMessage)
        {
            Assert.True(outcomes.GetValueOrDefault(WebSocketSendStatus.Dropped) > 0, "broadcasts were dropped for the stalled peer");
            Assert.Equal(prefilled + Messages - outcomes.GetValueOrDefault(WebSocketSendStatus.Dropped), dataFrames);
            Assert.Null(closeCode);
        }
        else
        {
            int expected = policy == WebSocketBackpressurePolicy.ClosePolicyViolation ? 1008 : 1013;
            // Closed by the prefill's overflow: every later send reports Closed (until the close timeout removes the peer).
            Assert.True(outcomes.Keys.All(k => k == WebSocketSendStatus.Closed), string.Join(", ", outcomes.Select(o => $"{o.Key}={o.Value}")));
            Assert.Equal(expected, closeCode);
            Assert.Equal(prefilled, dataFrames);
        }

        foreach (WebSocketConnection client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task SendAsync_waits_above_the_high_water_mark_and_resumes_when_the_peer_reads()
    {
        await using var sink = await SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage);
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, sink.Port).WithTimeout();
        await RawHandshakeAsync(stalled, sink.Port);
        WebSocketConnection server = await sink.NextConnectionAsync();

        byte[] chunk = new byte[4096];
        ValueTask pending = default;
        int sent = 0;
        for (; sent < 10_000; sent++)
        {
            BitConverter.TryWriteBytes(chunk, sent);
            pending = server.SendBinaryAsync(chunk);
            if (!pending.IsCompleted)
            {
                break;
            }

            Assert.InRange(server.BufferedAmount, 0, Cap);
        }

        Assert.False(pending.IsCompleted, "a send had to wait for the queue to drain");
        Assert.InRange(server.BufferedAmount, server.Options.SendHighWaterMark, Cap);
        await Task.Delay(200);
        Assert.False(pending.IsCompleted, "it keeps waiting while the peer does not read");

        // The peer reads: the waiting send is queued, and every message arrives whole and in order.
        Task<(int, int?)> drain = DrainAsync(stalled, expectedFrames: sent + 1);
        await pending.WithTimeout();
        (int frames, _) = await drain.WithTimeout(TimeSpan.FromSeconds(30));
        Assert.Equal(sent + 1, frames);
    }

    [Fact]
    public async Task TrySend_never_waits_and_never_passes_the_cap()
    {
        await using var sink = await SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage);
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, sink.Port).WithTimeout();
        await RawHandshakeAsync(stalled, sink.Port);
        WebSocketConnection server = await sink.NextConnectionAsync();

        int dropped = 0;
        byte[] chunk = new byte[1000];
        for (int i = 0; i < 5000; i++)
        {
            WebSocketSendStatus status = server.TrySend(chunk, WebSocketMessageKind.Binary);
            Assert.NotEqual(WebSocketSendStatus.Closed, status);
            dropped += status == WebSocketSendStatus.Dropped ? 1 : 0;
            Assert.InRange(server.BufferedAmount, 0, Cap);
        }

        Assert.True(dropped > 0);

        // Pings and our close are never dropped, even with a full queue.
        await server.SendPingAsync("still here"u8.ToArray()).WithTimeout();
        server.StartClose(WebSocketCloseCode.NormalClosure, "bye");
        (_, int? closeCode) = await DrainAsync(stalled);
        Assert.Equal(1000, closeCode);
    }

    [Fact]
    public async Task A_message_larger_than_the_cap_is_sent_in_fragments_without_passing_it()
    {
        await using var sink = await SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage);
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(sink.Uri).WithTimeout();
        WebSocketConnection server = await sink.NextConnectionAsync();
        byte[] big = new byte[Cap * 5 + 123];
        new Random(5).NextBytes(big);

        Task<WebSocketMessage?> receive = client.ReceiveAsync().AsTask();
        Task send = server.SendBinaryAsync(big).AsTask();
        long max = 0;
        while (!send.IsCompleted)
        {
            max = Math.Max(max, server.BufferedAmount);
            await Task.Delay(1);
        }

        await send.WithTimeout();
        WebSocketMessage message = (await receive.WithTimeout())!.Value;
        Assert.True(message.Payload.Span.SequenceEqual(big));
        Assert.InRange(max, 0, Cap);
    }

    /// <summary>Reads frames until the connection ends (or <paramref name="expectedFrames"/> data frames); returns the data frame count and the close code seen.</summary>
    private static async Task<(int DataFrames, int? CloseCode)> DrainAsync(Socket socket, int expectedFrames = int.MaxValue)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new FrameReader(stream);
        int data = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (data < expectedFrames)
        {
            (int opcode, byte[] payload)? frame = await reader.ReadAsync(timeout.Token);
            if (frame is not { } f)
            {
                return (data, null);
            }

            if (f.opcode == 8)
            {
                return (data, f.payload.Length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005);
            }

            if (f.opcode is 1 or 2 or 0)
            {
                data++;
            }
        }

        return (data, null);
    }

    internal static async Task RawHandshakeAsync(Socket socket, int port)
    {
        string request = $"GET /sink HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(request)).WithTimeout();
        byte[] one = new byte[1];
        var head = new List<byte>();
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one).WithTimeout());
            head.Add(one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", System.Text.Encoding.ASCII.GetString(head.ToArray()), StringComparison.Ordinal);
    }

    /// <summary>A minimal frame reader for server frames (unmasked).</summary>
    private sealed class FrameReader(Stream stream)
    {
        private readonly byte[] _header = new byte[8];

        public async Task<(int Opcode, byte[] Payload)?> ReadAsync(CancellationToken cancellationToken)
        {
            try
            {
                await stream.ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken);
                int opcode = _header[0] & 0x0F;
                long length = _header[1] & 0x7F;
                if (length == 126)
                {
                    await stream.ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken);
                    length = (_header[0] << 8) | _header[1];
                }
                else if (length == 127)
                {
                    await stream.ReadExactlyAsync(_header.AsMemory(0, 8), cancellationToken);
                    length = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(_header);
                }

                byte[] payload = new byte[length];
                await stream.ReadExactlyAsync(payload, cancellationToken);
                return (opcode, payload);
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or SocketException)
            {
                return null;
            }
        }
    }

    /// <summary>A server whose <c>/sink</c> route keeps every connection open and hands it to the test.</summary>
    internal sealed class SinkServer : IAsyncDisposable
    {
        private readonly System.Threading.Channels.Channel<WebSocketConnection> _opened = System.Threading.Channels.Channel.CreateUnbounded<WebSocketConnection>();
        private readonly WebSocketServer _server;

        private SinkServer(WebSocketServer server) => _server = server;

        public int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

        public Uri Uri => new($"ws://127.0.0.1:{Port}/sink");

        public IReadOnlyCollection<WebSocketConnection> Connections => _server.Connections;

        public static async Task<SinkServer> StartAsync(WebSocketBackpressurePolicy policy, Action<WebSocketServerOptions>? configure = null)
        {
            var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), MaxConcurrentHandshakes = 2000 };
            options.Connection.MaxBufferedAmount = Cap;
            options.Connection.SendHighWaterMark = Cap / 4;
            options.Connection.BackpressurePolicy = policy;
            options.Connection.CloseTimeout = TimeSpan.FromSeconds(2);
            configure?.Invoke(options);
            var sink = new SinkServer(new WebSocketServer(options));
            sink._server.ConnectionOpened += c => sink._opened.Writer.TryWrite(c);
            sink._server.Map("/sink", _ => new IdleHandler());
            await sink._server.StartAsync();
            return sink;
        }

        public async Task<WebSocketConnection> NextConnectionAsync() => await _opened.Reader.ReadAsync().AsTask().WithTimeout();

        public ValueTask DisposeAsync() => _server.DisposeAsync();

        private sealed class IdleHandler : WebSocketHandler
        {
        }
    }
}
