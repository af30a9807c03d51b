using System.Text;
using Ws4Net.Client;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// Our <see cref="WebSocketClient"/> against a third-party echo server: every payload length
/// encoding in both message types, fragmentation, concurrent senders, ping/pong and the close
/// handshake. The derived classes pick the peer.
/// </summary>
public abstract class OurClientAgainstPeerServerTests(PeerEchoServerFixture peer)
{
    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(1024 * 1024)]
    public async Task TextAndBinaryOfEdgeSize_AreEchoedExactly(int size)
    {
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        string text = Payloads.Text(size);
        byte[] textBytes = Encoding.UTF8.GetBytes(text);
        await connection.SendTextAsync(text).AsTask().WaitAsync(Timeouts.Step);
        WebSocketMessage? textEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(textEcho.HasValue, $"{peer.Name} closed instead of echoing {size} B of text ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageType.Text, textEcho.Value.Type);
        Assert.True(textEcho.Value.Payload.Span.SequenceEqual(textBytes), $"text {size}: {Payloads.Difference(textBytes, textEcho.Value.Payload.Span)}");
        Assert.Equal(text, textEcho.Value.GetText());

        byte[] binary = Payloads.Binary(size);
        await connection.SendBinaryAsync(binary).AsTask().WaitAsync(Timeouts.Step);
        WebSocketMessage? binaryEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(binaryEcho.HasValue, $"{peer.Name} closed instead of echoing {size} B of binary ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageType.Binary, binaryEcho.Value.Type);
        Assert.True(binaryEcho.Value.Payload.Span.SequenceEqual(binary), $"binary {size}: {Payloads.Difference(binary, binaryEcho.Value.Payload.Span)}");

        await CloseNormallyAsync(connection).WaitAsync(Timeouts.Step * 2);
    }

    [Fact]
    public async Task FragmentedMessages_AreReassembledByThePeer()
    {
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        // A text message whose fragments split a 4-byte and a 3-byte UTF-8 sequence: only the whole
        // message must be valid UTF-8 (RFC 6455 §5.6, §8.1).
        byte[] text = Encoding.UTF8.GetBytes("fragmented 😀 text € end");
        int emoji = Array.IndexOf(text, (byte)0xF0);
        int euro = Array.IndexOf(text, (byte)0xE2);
        await connection.SendAsync(text.AsMemory(0, emoji + 2), WebSocketMessageType.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(emoji + 2, euro + 1 - (emoji + 2)), WebSocketMessageType.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(euro + 1), WebSocketMessageType.Text, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);

        WebSocketMessage? textEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(textEcho.HasValue, $"{peer.Name} closed instead of echoing the fragmented text ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageType.Text, textEcho.Value.Type);
        Assert.Equal("fragmented 😀 text € end", textEcho.Value.GetText());

        byte[] binary = Payloads.Binary(200_000, seed: 7);
        await connection.SendAsync(binary.AsMemory(0, 70_000), WebSocketMessageType.Binary, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.PingAsync("between fragments"u8.ToArray()).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(binary.AsMemory(70_000, 130_000), WebSocketMessageType.Binary, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Binary, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);

        WebSocketMessage? binaryEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(binaryEcho.HasValue, $"{peer.Name} closed instead of echoing the fragmented binary ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageType.Binary, binaryEcho.Value.Type);
        Assert.True(binaryEcho.Value.Payload.Span.SequenceEqual(binary), Payloads.Difference(binary, binaryEcho.Value.Payload.Span));

        await CloseNormallyAsync(connection).WaitAsync(Timeouts.Step * 2);
    }

    [Fact]
    public async Task ConcurrentSenders_EveryMessageIsEchoedIntactAndInOrderPerSender()
    {
        const int senders = 8;
        const int perSender = 40;
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        var received = new List<string>();
        Task reader = Task.Run(async () =>
        {
            for (int i = 0; i < senders * perSender; i++)
            {
                WebSocketMessage? echo = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
                Assert.True(echo.HasValue, $"The connection closed after {i} echoes ({connection.CloseStatus}).\n{peer.Transcript}");
                received.Add(echo.Value.GetText());
            }
        });

        Task[] sending = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            for (int i = 0; i < perSender; i++)
            {
                // Varying sizes so some frames use the 16-bit length and writes get batched.
                string body = new((char)('a' + s), (i * 977 + s * 131) % 3000);
                await connection.SendTextAsync($"{s}:{i}:{body}").AsTask().WaitAsync(Timeouts.Step);
            }
        })).ToArray();

        await Task.WhenAll(sending).WaitAsync(Timeouts.Step);
        await reader.WaitAsync(Timeouts.Step);

        for (int s = 0; s < senders; s++)
        {
            int[] order = received
                .Select(m => m.Split(':'))
                .Where(p => p[0] == s.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Select(p =>
                {
                    int i = int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(new string((char)('a' + s), (i * 977 + s * 131) % 3000), p[2]);
                    return i;
                })
                .ToArray();
            Assert.Equal(Enumerable.Range(0, perSender), order);
        }

        await CloseNormallyAsync(connection).WaitAsync(Timeouts.Step * 2);
    }

    [Fact]
    public async Task HandlerClient_PingGetsPong_AndClose4000IsEchoedByThePeer()
    {
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        var handler = new RecordingHandler();
        Task<WebSocketCloseStatus> run = connection.RunAsync(handler);
        await handler.Opened.WaitAsync(Timeouts.Step);

        await handler.SendTextAsync("through the handler ✓").AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageType type, byte[] payload) = await handler.NextMessageAsync(Timeouts.Step);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("through the handler ✓", Encoding.UTF8.GetString(payload));

        byte[] pingPayload = "ws4net ping ✓"u8.ToArray();
        await handler.PingAsync(pingPayload).AsTask().WaitAsync(Timeouts.Step);
        byte[] pong = await handler.NextPongAsync(Timeouts.Step);
        Assert.Equal(pingPayload, pong);

        await handler.PingAsync().AsTask().WaitAsync(Timeouts.Step);
        byte[] emptyPong = await handler.NextPongAsync(Timeouts.Step);
        Assert.Empty(emptyPong);

        await handler.CloseAsync((WebSocketCloseCode)4000, "done").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseStatus status = await run.WaitAsync(Timeouts.Step);
        WebSocketCloseStatus completion = await connection.Completion.WaitAsync(Timeouts.Step);

        Assert.Equal((WebSocketCloseCode)4000, status.Code);
        Assert.Equal("done", status.Reason);
        Assert.False(status.InitiatedByPeer, "We started the close handshake, so InitiatedByPeer must be false.");
        Assert.Equal(status, completion);
        Assert.Equal(status, await handler.Closed.WaitAsync(Timeouts.Step));
        Assert.Equal(1, handler.CloseCalls);
        Assert.Equal(0, handler.Errors);
        Assert.Equal(WebSocketConnectionState.Closed, connection.State);
        Assert.Equal(status, connection.CloseStatus);

        await Assert.ThrowsAsync<WebSocketClosedException>(async () => await connection.SendTextAsync("too late").AsTask().WaitAsync(Timeouts.Step)).WaitAsync(Timeouts.Step);
    }

    [Fact]
    public async Task PullClient_Close4000_CompletesWithThePeersEcho()
    {
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        await connection.SendTextAsync("before close").AsTask().WaitAsync(Timeouts.Step);

        // The echo of "before close" is still unread: CloseAsync must drain it while waiting for the close reply.
        await connection.CloseAsync((WebSocketCloseCode)4000, "done").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseStatus status = await connection.Completion.WaitAsync(Timeouts.Step);

        Assert.Equal((WebSocketCloseCode)4000, status.Code);
        Assert.Equal("done", status.Reason);
        Assert.False(status.InitiatedByPeer);
        Assert.Equal(WebSocketConnectionState.Closed, connection.State);
        Assert.Null(await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step));
    }

    private async Task<ConnectionLease> ConnectAsync()
    {
        var options = new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) };
        try
        {
            return new ConnectionLease(await WebSocketClient.ConnectAsync(peer.Uri(), options).WaitAsync(Timeouts.Step));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            throw new InvalidOperationException($"Connecting to {peer.Name} at {peer.Uri()} failed: {ex.Message}\n{peer.Transcript}", ex);
        }
    }

    private async Task CloseNormallyAsync(WebSocketConnection connection)
    {
        await connection.CloseAsync(WebSocketCloseCode.NormalClosure, "bye").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseStatus status = await connection.Completion.WaitAsync(Timeouts.Step);
        Assert.True(
            status.Code == WebSocketCloseCode.NormalClosure && connection.State == WebSocketConnectionState.Closed,
            $"Expected a clean 1000 close with {peer.Name}, got {status} in state {connection.State}.\n{peer.Transcript}");
    }
}

/// <summary>Our client against the Node `ws` echo server (eng/peers/node-echo-server.mjs).</summary>
public sealed class OurClientAgainstNodeWsServerTests(NodeWsEchoServerFixture peer)
    : OurClientAgainstPeerServerTests(peer), IClassFixture<NodeWsEchoServerFixture>;

/// <summary>Our client against the Python `websockets` echo server (eng/peers/py-echo-server.py).</summary>
public sealed class OurClientAgainstPythonWebsocketsServerTests(PythonWebsocketsEchoServerFixture peer)
    : OurClientAgainstPeerServerTests(peer), IClassFixture<PythonWebsocketsEchoServerFixture>;
