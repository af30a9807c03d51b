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
public abstract class OurClientAgainstPeerServerTests(IEchoPeer peer)
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
        Assert.Equal(WebSocketMessageKind.Text, textEcho.Value.Type);
        Assert.True(textEcho.Value.Payload.Span.SequenceEqual(textBytes), $"text {size}: {Payloads.Difference(textBytes, textEcho.Value.Payload.Span)}");
        Assert.Equal(text, textEcho.Value.GetText());

        byte[] binary = Payloads.Binary(size);
        await connection.SendBinaryAsync(binary).AsTask().WaitAsync(Timeouts.Step);
        WebSocketMessage? binaryEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(binaryEcho.HasValue, $"{peer.Name} closed instead of echoing {size} B of binary ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageKind.Binary, binaryEcho.Value.Type);
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
        await connection.SendAsync(text.AsMemory(0, emoji + 2), WebSocketMessageKind.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(emoji + 2, euro + 1 - (emoji + 2)), WebSocketMessageKind.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageKind.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(euro + 1), WebSocketMessageKind.Text, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);

        WebSocketMessage? textEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(textEcho.HasValue, $"{peer.Name} closed instead of echoing the fragmented text ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageKind.Text, textEcho.Value.Type);
        Assert.Equal("fragmented 😀 text € end", textEcho.Value.GetText());

        byte[] binary = Payloads.Binary(200_000, seed: 7);
        await connection.SendAsync(binary.AsMemory(0, 70_000), WebSocketMessageKind.Binary, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendPingAsync("between fragments"u8.ToArray()).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(binary.AsMemory(70_000, 130_000), WebSocketMessageKind.Binary, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageKind.Binary, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);

        WebSocketMessage? binaryEcho = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(binaryEcho.HasValue, $"{peer.Name} closed instead of echoing the fragmented binary ({connection.CloseStatus}).\n{peer.Transcript}");
        Assert.Equal(WebSocketMessageKind.Binary, binaryEcho.Value.Type);
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
        Task<WebSocketCloseInfo> run = connection.RunAsync(handler);
        await handler.Opened.WaitAsync(Timeouts.Step);

        await handler.SendTextAsync("through the handler ✓").AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageKind type, byte[] payload) = await handler.NextMessageAsync(Timeouts.Step);
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.Equal("through the handler ✓", Encoding.UTF8.GetString(payload));

        byte[] pingPayload = "ws4net ping ✓"u8.ToArray();
        await handler.SendPingAsync(pingPayload).AsTask().WaitAsync(Timeouts.Step);
        byte[] pong = await handler.NextPongAsync(Timeouts.Step);
        Assert.Equal(pingPayload, pong);

        await handler.SendPingAsync().AsTask().WaitAsync(Timeouts.Step);
        byte[] emptyPong = await handler.NextPongAsync(Timeouts.Step);
        Assert.Empty(emptyPong);

        await handler.CloseAsync((WebSocketCloseCode)4000, "done").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseInfo status = await run.WaitAsync(Timeouts.Step);
        WebSocketCloseInfo completion = await connection.Completion.WaitAsync(Timeouts.Step);

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
        WebSocketCloseInfo status = await connection.Completion.WaitAsync(Timeouts.Step);

        Assert.Equal((WebSocketCloseCode)4000, status.Code);
        Assert.Equal("done", status.Reason);
        Assert.False(status.InitiatedByPeer);
        Assert.Equal(WebSocketConnectionState.Closed, connection.State);
        Assert.Null(await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step));
    }

    /// <summary>Connects our client to <paramref name="pathAndQuery"/> on the peer.</summary>
    /// <summary>
    /// Eight threads send complete messages (text and binary, waiting and never-waiting sends) and
    /// fragmented ones (a message writer holding the lease) to one connection at once; the peer, which
    /// validates every frame, echoes each message whole, and every thread's messages come back intact
    /// and in that thread's order: no caller's message became another's continuation.
    /// </summary>
    [Fact]
    public async Task Concurrent_senders_of_complete_and_fragmented_messages_never_interleave()
    {
        const int Threads = 8;
        const int PerThread = 40;
        await using ConnectionLease lease = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        static byte[] Body(int thread, int index)
        {
            string head = $"{thread}:{index}:";
            int length = 10 + ((thread * 7919 + index * 104729) % 3000);
            var text = new StringBuilder(head, head.Length + length);
            for (int i = 0; i < length; i++)
            {
                text.Append((char)('a' + ((thread + index + i) % 26)));
            }

            return Encoding.UTF8.GetBytes(text.ToString());
        }

        var next = new int[Threads];
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task reader = Task.Run(async () =>
        {
            for (int received = 0; received < Threads * PerThread; received++)
            {
                WebSocketMessage? echo = await connection.ReceiveAsync();
                if (echo is not { } message)
                {
                    failures.Enqueue($"closed after {received} echoes: {connection.CloseStatus}");
                    return;
                }

                string text = Encoding.UTF8.GetString(message.Payload.Span);
                string[] parts = text.Split(':', 3);
                int thread = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
                int index = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                if (index != next[thread])
                {
                    failures.Enqueue($"thread {thread}: message {index} arrived when {next[thread]} was expected");
                }

                next[thread] = index + 1;
                WebSocketMessageKind expectedType = index % 2 == 0 ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
                if (message.Type != expectedType || !message.Payload.Span.SequenceEqual(Body(thread, index)))
                {
                    failures.Enqueue($"thread {thread}: message {index} differs ({message.Type}, {message.Payload.Length} B)");
                }
            }
        });

        Task[] senders = Enumerable.Range(0, Threads).Select(thread => Task.Run(async () =>
        {
            for (int index = 0; index < PerThread; index++)
            {
                byte[] body = Body(thread, index);
                WebSocketMessageKind type = index % 2 == 0 ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
                switch ((thread + index) % 4)
                {
                    case 0:
                        await connection.SendAsync(body, type, endOfMessage: true);
                        break;
                    case 1:
                        while (connection.TrySend(body, type) == WebSocketSendStatus.Dropped)
                        {
                            await Task.Delay(1);
                        }

                        break;
                    default:
                        // Three fragments, with a yield between them so other threads try to cut in.
                        await using (WebSocketMessageWriter writer = await connection.BeginMessageAsync(type))
                        {
                            int third = body.Length / 3;
                            await writer.WriteAsync(body.AsMemory(0, third));
                            await Task.Yield();
                            await writer.WriteAsync(body.AsMemory(third, third));
                            await Task.Yield();
                            await writer.WriteAsync(body.AsMemory(2 * third), endOfMessage: true);
                        }

                        break;
                }
            }
        })).ToArray();

        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
        await reader.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(failures.IsEmpty, $"{peer.Name}: {string.Join("; ", failures.Take(10))}\n{peer.Transcript}");
        Assert.All(next, n => Assert.Equal(PerThread, n));
    }

    private protected async Task<ConnectionLease> ConnectAsync(string pathAndQuery = "/echo", bool deliverFragments = false)
    {
        var options = new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) };
        options.Connection.Protocol.DeliverFragments = deliverFragments;
        Uri uri = peer.Uri(pathAndQuery);
        try
        {
            return new ConnectionLease(await WebSocketClient.ConnectAsync(uri, options).WaitAsync(Timeouts.Step));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            throw new InvalidOperationException($"Connecting to {peer.Name} at {uri} failed: {ex.Message}\n{peer.Transcript}", ex);
        }
    }

    /// <summary>
    /// Receives one message as the fragments our connection delivers (it must have been opened with
    /// <c>deliverFragments: true</c>): each frame gives at least one fragment, so the count is a lower
    /// bound on the frames the peer sent.
    /// </summary>
    protected async Task<(WebSocketMessageKind Type, byte[] Payload, int Fragments)> ReceiveFragmentsAsync(WebSocketConnection connection)
    {
        using var payload = new MemoryStream();
        WebSocketMessageKind? type = null;
        int fragments = 0;
        while (true)
        {
            WebSocketMessage? fragment = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
            Assert.True(fragment.HasValue, $"{peer.Name} closed in the middle of a message after {fragments} fragments ({connection.CloseStatus}).\n{peer.Transcript}");
            Assert.True(type is null || type == fragment.Value.Type, $"The message type changed from {type} to {fragment.Value.Type} between fragments.");
            type = fragment.Value.Type;
            payload.Write(fragment.Value.Payload.Span);
            fragments++;
            if (fragment.Value.EndOfMessage)
            {
                return (type.Value, payload.ToArray(), fragments);
            }
        }
    }

    /// <summary>Closes with 1000 and checks that the peer completed the close handshake cleanly.</summary>
    protected async Task CloseNormallyAsync(WebSocketConnection connection)
    {
        await connection.CloseAsync(WebSocketCloseCode.NormalClosure, "bye").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseInfo status = await connection.Completion.WaitAsync(Timeouts.Step);
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

/// <summary>
/// Adds what needs the peer to report back (<see cref="IReportingEchoPeer"/>): the close code and
/// reason the peer received, for a close we start and for one the peer starts.
/// </summary>
public abstract class OurClientAgainstReportingPeerServerTests(IReportingEchoPeer peer) : OurClientAgainstPeerServerTests(peer)
{
    private readonly IReportingEchoPeer _peer = peer;

    [Fact]
    public async Task Close4000_IsSeenByThePeer_AndEchoedBack()
    {
        string id = NewId();
        await using ConnectionLease lease = await ConnectAsync($"/echo?id={id}").WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        await connection.SendTextAsync("before close ✓").AsTask().WaitAsync(Timeouts.Step);
        WebSocketMessage? echo = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(echo.HasValue, $"{_peer.Name} closed instead of echoing ({connection.CloseStatus}).\n{_peer.Transcript}");
        Assert.Equal("before close ✓", echo.Value.GetText());

        await connection.CloseAsync((WebSocketCloseCode)4000, "done").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseInfo status = await connection.Completion.WaitAsync(Timeouts.Step);
        Assert.Equal((WebSocketCloseCode)4000, status.Code);
        Assert.Equal("done", status.Reason);
        Assert.False(status.InitiatedByPeer, "We started the close handshake, so InitiatedByPeer must be false.");
        Assert.Equal(WebSocketConnectionState.Closed, connection.State);

        PeerCloseRecord seen = await _peer.WaitForCloseAsync(id, Timeouts.Step);
        Assert.True(seen.Clean, $"{_peer.Name} did not see a clean close: {seen}.\n{_peer.Transcript}");
        Assert.Equal(4000, seen.Code);
        Assert.Equal("done", seen.Reason);
    }

    [Fact]
    public async Task PeerInitiatedClose4001_IsSeenOnBothSides()
    {
        string id = NewId();
        await using ConnectionLease lease = await ConnectAsync($"/echo?close=4001&id={id}").WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        // The peer echoes this message, then starts the close handshake with 4001.
        await connection.SendTextAsync("close after this").AsTask().WaitAsync(Timeouts.Step);
        WebSocketMessage? echo = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(echo.HasValue, $"{_peer.Name} closed instead of echoing ({connection.CloseStatus}).\n{_peer.Transcript}");
        Assert.Equal("close after this", echo.Value.GetText());

        Assert.Null(await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step));
        WebSocketCloseInfo status = await connection.Completion.WaitAsync(Timeouts.Step);
        Assert.Equal((WebSocketCloseCode)4001, status.Code);
        Assert.Equal(_peer.ServerCloseReason, status.Reason);
        Assert.True(status.InitiatedByPeer, "The peer started the close handshake, so InitiatedByPeer must be true.");
        Assert.Equal(WebSocketConnectionState.Closed, connection.State);
        Assert.Equal(status, connection.CloseStatus);

        // Our reply echoes the peer's code (RFC 6455 §5.5.1).
        PeerCloseRecord seen = await _peer.WaitForCloseAsync(id, Timeouts.Step);
        Assert.True(seen.Clean, $"{_peer.Name} did not see a clean close: {seen}.\n{_peer.Transcript}");
        Assert.Equal(4001, seen.Code);
    }

    private static string NewId() => Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// Our client against AutobahnPython's asyncio server (eng/peers/autobahn-echo-server.py), strict
/// defaults on (UTF-8 validation, masking required, failure drops the TCP connection). Also
/// receives messages that Autobahn fragments itself.
/// </summary>
public sealed class OurClientAgainstAutobahnServerTests(AutobahnEchoServerFixture peer)
    : OurClientAgainstReportingPeerServerTests(peer), IClassFixture<AutobahnEchoServerFixture>
{
    [Theory]
    [InlineData(1, 2_000)]
    [InlineData(3, 5_000)]
    [InlineData(125, 70_000)]
    [InlineData(4093, 200_000)]
    [InlineData(65536, 1024 * 1024)]
    public async Task MessagesTheServerFragments_AreReassembledExactly(int fragmentSize, int size)
    {
        // ?fragment=N: Autobahn echoes with sendMessage(..., fragmentSize=N), so text fragments split UTF-8 sequences.
        await using ConnectionLease lease = await ConnectAsync($"/echo?fragment={fragmentSize}", deliverFragments: true).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        int frames = (size + fragmentSize - 1) / fragmentSize;

        byte[] text = Encoding.UTF8.GetBytes(Payloads.Text(size));
        await connection.SendAsync(text, WebSocketMessageKind.Text, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageKind textType, byte[] textEcho, int textFragments) = await ReceiveFragmentsAsync(connection).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageKind.Text, textType);
        Assert.True(text.AsSpan().SequenceEqual(textEcho), $"text {size} in {fragmentSize}-byte fragments: {Payloads.Difference(text, textEcho)}");
        Assert.True(textFragments >= frames, $"Expected Autobahn to send at least {frames} frames, got {textFragments} fragments.");

        byte[] binary = Payloads.Binary(size, seed: fragmentSize);
        await connection.SendBinaryAsync(binary).AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageKind binaryType, byte[] binaryEcho, int binaryFragments) = await ReceiveFragmentsAsync(connection).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageKind.Binary, binaryType);
        Assert.True(binary.AsSpan().SequenceEqual(binaryEcho), $"binary {size} in {fragmentSize}-byte fragments: {Payloads.Difference(binary, binaryEcho)}");
        Assert.True(binaryFragments >= frames, $"Expected Autobahn to send at least {frames} frames, got {binaryFragments} fragments.");

        await CloseNormallyAsync(connection).WaitAsync(Timeouts.Step * 2);
    }
}

/// <summary>Our client against faye-websocket on a Node http server (eng/peers/faye-echo-server.mjs).</summary>
public sealed class OurClientAgainstFayeServerTests(FayeEchoServerFixture peer)
    : OurClientAgainstReportingPeerServerTests(peer), IClassFixture<FayeEchoServerFixture>;

/// <summary>
/// Our client against Kestrel's WebSocket (in-process, <see cref="KestrelEchoServerFixture"/>),
/// whose echo keeps each piece's type and EndOfMessage flag.
/// </summary>
public sealed class OurClientAgainstKestrelServerTests(KestrelEchoServerFixture peer)
    : OurClientAgainstReportingPeerServerTests(peer), IClassFixture<KestrelEchoServerFixture>
{
    [Fact]
    public async Task OurFragmentation_SurvivesKestrelsFrameByFrameEcho()
    {
        await using ConnectionLease lease = await ConnectAsync(deliverFragments: true).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;

        // Text in three frames, split inside the 4-byte emoji and the 3-byte euro sign.
        byte[] text = Encoding.UTF8.GetBytes("Kestrel 😀 fragments € ✓");
        int emoji = Array.IndexOf(text, (byte)0xF0);
        int euro = Array.IndexOf(text, (byte)0xE2);
        await connection.SendAsync(text.AsMemory(0, emoji + 1), WebSocketMessageKind.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(emoji + 1, euro + 2 - (emoji + 1)), WebSocketMessageKind.Text, endOfMessage: false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(text.AsMemory(euro + 2), WebSocketMessageKind.Text, endOfMessage: true).AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageKind textType, byte[] textEcho, int textFragments) = await ReceiveFragmentsAsync(connection).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageKind.Text, textType);
        Assert.Equal("Kestrel 😀 fragments € ✓", Encoding.UTF8.GetString(textEcho));
        Assert.True(textFragments >= 3, $"Kestrel's echo should keep our 3 frames, got {textFragments} fragments.");

        // Binary in four frames of every length encoding.
        byte[] binary = Payloads.Binary(125 + 126 + 65536 + 1000, seed: 5);
        int[] cuts = [0, 125, 251, 65787, binary.Length];
        for (int i = 0; i < cuts.Length - 1; i++)
        {
            await connection.SendAsync(binary.AsMemory(cuts[i], cuts[i + 1] - cuts[i]), WebSocketMessageKind.Binary, endOfMessage: i == cuts.Length - 2).AsTask().WaitAsync(Timeouts.Step);
        }

        (WebSocketMessageKind binaryType, byte[] binaryEcho, int binaryFragments) = await ReceiveFragmentsAsync(connection).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageKind.Binary, binaryType);
        Assert.True(binary.AsSpan().SequenceEqual(binaryEcho), Payloads.Difference(binary, binaryEcho));
        Assert.True(binaryFragments >= 4, $"Kestrel's echo should keep our 4 frames, got {binaryFragments} fragments.");

        await CloseNormallyAsync(connection).WaitAsync(Timeouts.Step * 2);
    }
}
