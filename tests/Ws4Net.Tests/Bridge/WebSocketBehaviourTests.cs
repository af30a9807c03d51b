using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ws4Net.Tests.Bridge;

using WebSocket = System.Net.WebSockets.WebSocket;
using WebSocketCloseInfo = System.Net.WebSockets.WebSocketCloseStatus;
using WebSocketError = System.Net.WebSockets.WebSocketError;
using WebSocketException = System.Net.WebSockets.WebSocketException;
using WebSocketMessageFlags = System.Net.WebSockets.WebSocketMessageFlags;
using WebSocketMessageKind = System.Net.WebSockets.WebSocketMessageType;
using WebSocketState = System.Net.WebSockets.WebSocketState;

/// <summary>
/// One behavioural suite written against the abstract <see cref="System.Net.WebSockets.WebSocket"/> type. The
/// concrete classes run it against the BCL's <c>ManagedWebSocket</c> (<see cref="WebSocket.CreateFromStream(Stream, System.Net.WebSockets.WebSocketCreationOptions)"/>),
/// against the Ws4Net bridge (<see cref="Ws4Net.Bridge.Ws4NetWebSocket"/>) on both ends, and across (BCL client with a
/// bridge server, bridge client with a BCL server), over loopback TCP, and expect the same observable results.
/// Where the bridge differs by design (the Ws4Net core answers the peer's close frame itself, docs/bridge.md),
/// the expectation names the side: <see cref="ClientIsBridge"/>, <see cref="ServerIsBridge"/>.
/// </summary>
public abstract class WebSocketBehaviourTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly List<IDisposable> _owned = [];

    /// <summary>Gets whether the client end is the bridge.</summary>
    protected abstract bool ClientIsBridge { get; }

    /// <summary>Gets whether the server end is the bridge.</summary>
    protected abstract bool ServerIsBridge { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        return Task.CompletedTask;
    }

    protected static WebSocket CreateBcl(Socket socket, bool isServer, string? subprotocol)
        => WebSocket.CreateFromStream(new NetworkStream(socket, ownsSocket: true), new System.Net.WebSockets.WebSocketCreationOptions
        {
            IsServer = isServer,
            SubProtocol = subprotocol,
            KeepAliveInterval = TimeSpan.Zero,
        });

    protected static WebSocket CreateBridge(Socket socket, bool isServer, string? subprotocol)
    {
        var options = new WebSocketConnectionOptions { KeepAliveInterval = TimeSpan.Zero };
        var connection = new WebSocketConnection(socket, new WebSocketConnectionCreationOptions { Role = isServer ? WebSocketRole.Server : WebSocketRole.Client, Options = options, Subprotocol = subprotocol });
        return Ws4Net.Bridge.WebSocketConnectionBridgeExtensions.AsWebSocket(connection);
    }

    private WebSocket CreateClient(Socket socket, string? subprotocol = null) => Own(ClientIsBridge ? CreateBridge(socket, false, subprotocol) : CreateBcl(socket, false, subprotocol));

    private WebSocket CreateServer(Socket socket, string? subprotocol = null) => Own(ServerIsBridge ? CreateBridge(socket, true, subprotocol) : CreateBcl(socket, true, subprotocol));

    private WebSocket Own(WebSocket webSocket)
    {
        _owned.Add(webSocket);
        return webSocket;
    }

    private async Task<(WebSocket Client, WebSocket Server)> CreatePairAsync(string? subprotocol = null)
    {
        (Socket client, Socket server) = await ConnectLoopbackAsync();
        _owned.Add(client);
        _owned.Add(server);
        return (CreateClient(client, subprotocol), CreateServer(server, subprotocol));
    }

    private static async Task<(Socket Client, Socket Server)> ConnectLoopbackAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound);
        Socket server = await accept.WaitAsync(Bound);
        server.NoDelay = true;
        return (client, server);
    }

    private static Task SendTextAsync(WebSocket webSocket, string text, bool endOfMessage = true)
        => webSocket.SendAsync((ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(text), WebSocketMessageKind.Text, endOfMessage, CancellationToken.None).AsTask().WaitAsync(Bound);

    /// <summary>Receives one whole data message (or the close), returning its bytes, its type and every piece's (count, endOfMessage).</summary>
    private static async Task<(WebSocketMessageKind Type, byte[] Payload, List<(int Count, bool End)> Pieces)> ReceiveMessageAsync(WebSocket webSocket, int bufferSize = 4096)
    {
        var buffer = new byte[bufferSize];
        var payload = new MemoryStream();
        var pieces = new List<(int, bool)>();
        while (true)
        {
            System.Net.WebSockets.ValueWebSocketReceiveResult result = await webSocket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Bound);
            pieces.Add((result.Count, result.EndOfMessage));
            payload.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageKind.Close)
            {
                return (result.MessageType, payload.ToArray(), pieces);
            }
        }
    }

    // =====================================================================================
    // Data messages
    // =====================================================================================

    [Fact]
    public async Task TextAndBinaryMessages_ArriveWithTheirTypeAndEndOfMessage_ThroughBothReceiveOverloads()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        await SendTextAsync(client, "héllo");
        var segment = new ArraySegment<byte>(new byte[64]);
        System.Net.WebSockets.WebSocketReceiveResult text = await server.ReceiveAsync(segment, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketMessageKind.Text, text.MessageType);
        Assert.True(text.EndOfMessage);
        Assert.Equal("héllo", Encoding.UTF8.GetString(segment.Array!, 0, text.Count));
        Assert.Null(text.CloseStatus);

        await server.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageKind.Binary, true, CancellationToken.None).WaitAsync(Bound);
        var memory = new byte[64];
        System.Net.WebSockets.ValueWebSocketReceiveResult binary = await client.ReceiveAsync(memory.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Bound);
        Assert.Equal(WebSocketMessageKind.Binary, binary.MessageType);
        Assert.True(binary.EndOfMessage);
        Assert.Equal(new byte[] { 1, 2, 3 }, memory[..binary.Count]);
        Assert.Equal(WebSocketState.Open, client.State);
        Assert.Equal(WebSocketState.Open, server.State);
        Assert.Null(client.CloseStatus);
        Assert.Null(server.CloseStatusDescription);
    }

    [Fact]
    public async Task FragmentedSend_ArrivesAsOneMessage_EndOfMessageOnlyOnTheLastPiece_ContinuationTypeIgnored()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        await SendTextAsync(client, "ab", endOfMessage: false);
        // A continuation keeps the message's type whatever type the caller passes (it is a continuation frame).
        await client.SendAsync(Encoding.UTF8.GetBytes("cd"), WebSocketMessageKind.Binary, false, CancellationToken.None).WaitAsync(Bound);
        await SendTextAsync(client, "ef", endOfMessage: true);
        await SendTextAsync(client, "next");

        (WebSocketMessageKind type, byte[] payload, List<(int Count, bool End)> pieces) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.Equal("abcdef", Encoding.UTF8.GetString(payload));
        Assert.All(pieces[..^1], piece => Assert.False(piece.End));
        Assert.True(pieces[^1].End);

        (type, payload, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.Equal("next", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task ReceiveBufferSmallerThanTheMessage_ReturnsItInPieces_NoneLargerThanTheBuffer()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();
        byte[] sent = new byte[10_000];
        new Random(7).NextBytes(sent);

        await server.SendAsync(sent, WebSocketMessageKind.Binary, true, CancellationToken.None).WaitAsync(Bound);
        (WebSocketMessageKind type, byte[] payload, List<(int Count, bool End)> pieces) = await ReceiveMessageAsync(client, bufferSize: 1000);

        Assert.Equal(WebSocketMessageKind.Binary, type);
        Assert.Equal(sent, payload);
        Assert.True(pieces.Count >= 10);
        Assert.All(pieces, piece => Assert.InRange(piece.Count, 0, 1000));
        Assert.Single(pieces, piece => piece.End);
    }

    [Fact]
    public async Task EmptyMessage_IsOneResultOfZeroBytesWithEndOfMessage()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        await client.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageKind.Text, true, CancellationToken.None).AsTask().WaitAsync(Bound);
        System.Net.WebSockets.ValueWebSocketReceiveResult result = await server.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask().WaitAsync(Bound);

        Assert.Equal(0, result.Count);
        Assert.Equal(WebSocketMessageKind.Text, result.MessageType);
        Assert.True(result.EndOfMessage);
    }

    [Fact]
    public async Task MessageFlags_EndOfMessageAndDisableCompression_AreHonoured_AndDisableCompressionMustMatchAcrossFragments()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        await client.SendAsync("ab"u8.ToArray(), WebSocketMessageKind.Binary, WebSocketMessageFlags.DisableCompression, CancellationToken.None).AsTask().WaitAsync(Bound);
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await client.SendAsync("xx"u8.ToArray(), WebSocketMessageKind.Binary, WebSocketMessageFlags.EndOfMessage, CancellationToken.None));
        await client.SendAsync("cd"u8.ToArray(), WebSocketMessageKind.Binary, WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression, CancellationToken.None).AsTask().WaitAsync(Bound);

        (WebSocketMessageKind type, byte[] payload, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Binary, type);
        Assert.Equal("abcd", Encoding.UTF8.GetString(payload));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task SendAsync_WithTheCloseMessageType_ThrowsArgumentException()
    {
        (WebSocket client, _) = await CreatePairAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(new ArraySegment<byte>([1]), WebSocketMessageKind.Close, true, CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task OneReceiveAndOneSend_MayBeOutstandingAtTheSameTime()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        Task<(WebSocketMessageKind Type, byte[] Payload, List<(int Count, bool End)> Pieces)> pending = ReceiveMessageAsync(client);
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        await SendTextAsync(client, "ping me");
        (_, byte[] atServer, _) = await ReceiveMessageAsync(server);
        await server.SendAsync(atServer, WebSocketMessageKind.Text, true, CancellationToken.None).WaitAsync(Bound);

        (WebSocketMessageKind type, byte[] echoed, _) = await pending.WaitAsync(Bound);
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.Equal("ping me", Encoding.UTF8.GetString(echoed));
    }

    [Fact]
    public async Task SubProtocol_IsTheNegotiatedOne()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync("chat.v2");

        Assert.Equal("chat.v2", client.SubProtocol);
        Assert.Equal("chat.v2", server.SubProtocol);
    }

    // =====================================================================================
    // Close handshake
    // =====================================================================================

    [Fact]
    public async Task CloseAsync_RunsTheHandshake_PeerSeesCloseReceivedThenClosed_StatusesOnBothEnds()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        Task closing = client.CloseAsync(WebSocketCloseInfo.NormalClosure, "bye", CancellationToken.None);

        System.Net.WebSockets.WebSocketReceiveResult result = await server.ReceiveAsync(new ArraySegment<byte>(new byte[64]), CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketMessageKind.Close, result.MessageType);
        Assert.True(result.EndOfMessage);
        Assert.Equal(0, result.Count);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, result.CloseStatus);
        Assert.Equal("bye", result.CloseStatusDescription);
        Assert.Equal(WebSocketState.CloseReceived, server.State);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, server.CloseStatus);
        Assert.Equal("bye", server.CloseStatusDescription);

        await server.CloseOutputAsync(result.CloseStatus!.Value, result.CloseStatusDescription, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, server.State);

        await closing.WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, client.CloseStatus);
        // The bridge's core answers the close itself: the echo carries the code and no reason (docs/bridge.md).
        Assert.Equal(ServerIsBridge ? string.Empty : "bye", client.CloseStatusDescription);

        // Closed is terminal: every operation now reports the state.
        WebSocketException send = await Assert.ThrowsAsync<WebSocketException>(() => client.SendAsync(new ArraySegment<byte>([1]), WebSocketMessageKind.Binary, true, CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketError.InvalidState, send.WebSocketErrorCode);
        WebSocketException receive = await Assert.ThrowsAsync<WebSocketException>(() => server.ReceiveAsync(new ArraySegment<byte>(new byte[8]), CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketError.InvalidState, receive.WebSocketErrorCode);
        client.Dispose();
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task CloseReply_CarriesTheRespondersStatus_ExceptFromTheBridgeWhichEchoesThePeers()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        Task serverSide = Task.Run(async () =>
        {
            System.Net.WebSockets.ValueWebSocketReceiveResult result = await server.ReceiveAsync(new byte[64].AsMemory(), CancellationToken.None);
            Assert.Equal(WebSocketMessageKind.Close, result.MessageType);
            await server.CloseAsync(WebSocketCloseInfo.EndpointUnavailable, "going away", CancellationToken.None);
        });

        await client.CloseAsync((WebSocketCloseInfo)4001, "custom", CancellationToken.None).WaitAsync(Bound);
        await serverSide.WaitAsync(Bound);

        Assert.Equal((WebSocketCloseInfo)4001, server.CloseStatus);
        Assert.Equal("custom", server.CloseStatusDescription);
        Assert.Equal(ServerIsBridge ? (WebSocketCloseInfo)4001 : WebSocketCloseInfo.EndpointUnavailable, client.CloseStatus);
        Assert.Equal(ServerIsBridge ? string.Empty : "going away", client.CloseStatusDescription);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketState.Closed, server.State);
    }

    [Fact]
    public async Task CloseOutputAsync_ThenReceiveUntilClose_DeliversWhatThePeerSentBeforeItsClose()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();
        var serverStates = new List<WebSocketState>();

        await SendTextAsync(client, "late");
        Task serverSide = Task.Run(async () =>
        {
            await server.CloseOutputAsync(WebSocketCloseInfo.EndpointUnavailable, "shutting down", CancellationToken.None);
            serverStates.Add(server.State);

            // Sending is over once our close frame went out.
            WebSocketException send = await Assert.ThrowsAsync<WebSocketException>(() => server.SendAsync(new ArraySegment<byte>([1]), WebSocketMessageKind.Binary, true, CancellationToken.None).WaitAsync(Bound));
            Assert.Equal(WebSocketError.InvalidState, send.WebSocketErrorCode);

            (WebSocketMessageKind type, byte[] payload, _) = await ReceiveMessageAsync(server);
            Assert.Equal(WebSocketMessageKind.Text, type);
            Assert.Equal("late", Encoding.UTF8.GetString(payload));
            serverStates.Add(server.State);

            (type, _, _) = await ReceiveMessageAsync(server);
            Assert.Equal(WebSocketMessageKind.Close, type);
            serverStates.Add(server.State);
            server.Dispose();   // what a host does once its handler returns
        });

        (WebSocketMessageKind closeType, _, _) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageKind.Close, closeType);
        Assert.Equal(WebSocketState.CloseReceived, client.State);
        Assert.Equal(WebSocketCloseInfo.EndpointUnavailable, client.CloseStatus);
        Assert.Equal("shutting down", client.CloseStatusDescription);
        WebSocketException receive = await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync(new ArraySegment<byte>(new byte[8]), CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketError.InvalidState, receive.WebSocketErrorCode);

        await client.CloseOutputAsync(WebSocketCloseInfo.EndpointUnavailable, null, CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, client.State);
        await serverSide.WaitAsync(Bound);

        Assert.Equal([WebSocketState.CloseSent, WebSocketState.CloseSent, WebSocketState.Closed], serverStates);
        Assert.Equal(WebSocketCloseInfo.EndpointUnavailable, server.CloseStatus);
        Assert.Equal(WebSocketState.Closed, server.State);
    }

    [Fact]
    public async Task SendInCloseReceived_IsAllowedByTheBcl_ButNotByTheBridgeWhoseCoreAlreadyAnswered()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        Task serverSide = Task.Run(async () =>
        {
            await server.CloseOutputAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None);
            var received = new List<string>();
            while (true)
            {
                (WebSocketMessageKind type, byte[] payload, _) = await ReceiveMessageAsync(server);
                if (type == WebSocketMessageKind.Close)
                {
                    server.Dispose();
                    return received;
                }

                received.Add(Encoding.UTF8.GetString(payload));
            }
        });

        (WebSocketMessageKind closeType, _, _) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageKind.Close, closeType);
        Assert.Equal(WebSocketState.CloseReceived, client.State);
        if (ClientIsBridge)
        {
            WebSocketException send = await Assert.ThrowsAsync<WebSocketException>(() => SendTextAsync(client, "after"));
            Assert.Equal(WebSocketError.InvalidState, send.WebSocketErrorCode);
        }
        else
        {
            await SendTextAsync(client, "after");
        }

        await client.CloseOutputAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        List<string> atServer = await ((Task<List<string>>)serverSide).WaitAsync(Bound);
        Assert.Equal(ClientIsBridge ? [] : ["after"], atServer);
        Assert.Equal(WebSocketState.Closed, client.State);
    }

    [Fact]
    public async Task CloseAsync_WhileAReceiveIsPending_TheReceiveGetsTheCloseAndBothComplete()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        Task<(WebSocketMessageKind Type, byte[] Payload, List<(int Count, bool End)> Pieces)> pending = ReceiveMessageAsync(client);
        await Task.Delay(50);
        Task closing = client.CloseAsync(WebSocketCloseInfo.NormalClosure, "done", CancellationToken.None);

        Task serverSide = Task.Run(async () =>
        {
            (WebSocketMessageKind type, _, _) = await ReceiveMessageAsync(server);
            Assert.Equal(WebSocketMessageKind.Close, type);
            await server.CloseAsync(WebSocketCloseInfo.NormalClosure, "done", CancellationToken.None);
        });

        (WebSocketMessageKind receivedType, _, _) = await pending.WaitAsync(Bound);
        Assert.Equal(WebSocketMessageKind.Close, receivedType);
        await closing.WaitAsync(Bound);
        await serverSide.WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketState.Closed, server.State);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task CloseAsync_DiscardsDataMessagesThatArriveBeforeThePeersClose()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        await SendTextAsync(server, "unread 1");
        await SendTextAsync(server, "unread 2");
        Task serverSide = Task.Run(async () =>
        {
            (WebSocketMessageKind type, _, _) = await ReceiveMessageAsync(server);
            Assert.Equal(WebSocketMessageKind.Close, type);
            await server.CloseAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None);
        });

        await client.CloseAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        await serverSide.WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, client.CloseStatus);
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1006)]
    [InlineData(1015)]
    public async Task CloseAsync_WithAStatusThatMayNotBeSent_ThrowsArgumentException_AndStaysOpen(int status)
    {
        (WebSocket client, _) = await CreatePairAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CloseAsync((WebSocketCloseInfo)status, null, CancellationToken.None).WaitAsync(Bound));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CloseOutputAsync((WebSocketCloseInfo)status, null, CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task CloseAsync_WithADescriptionOver123Bytes_OrEmptyStatusWithADescription_ThrowsArgumentException()
    {
        (WebSocket client, _) = await CreatePairAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CloseAsync(WebSocketCloseInfo.NormalClosure, new string('x', 124), CancellationToken.None).WaitAsync(Bound));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CloseOutputAsync(WebSocketCloseInfo.Empty, "why", CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    // =====================================================================================
    // Abort, cancellation, dispose
    // =====================================================================================

    [Fact]
    public async Task Abort_StateAborted_LaterOperationsThrowWebSocketException_ThePeersReceiveEndsPrematurely()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        client.Abort();

        Assert.Equal(WebSocketState.Aborted, client.State);
        Assert.Null(client.CloseStatus);
        WebSocketException send = await Assert.ThrowsAsync<WebSocketException>(() => SendTextAsync(client, "x"));
        Assert.Equal(WebSocketError.InvalidState, send.WebSocketErrorCode);
        WebSocketException receive = await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync(new ArraySegment<byte>(new byte[8]), CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketError.InvalidState, receive.WebSocketErrorCode);
        await Assert.ThrowsAsync<WebSocketException>(() => client.CloseAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None).WaitAsync(Bound));
        client.Abort();
        client.Dispose();
        Assert.Equal(WebSocketState.Aborted, client.State);

        WebSocketException atPeer = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, atPeer.WebSocketErrorCode);
        Assert.Equal(WebSocketState.Aborted, server.State);
        Assert.Null(server.CloseStatus);
    }

    [Fact]
    public async Task Abort_DuringAPendingReceive_EndsItWithOperationCanceled()
    {
        (WebSocket client, _) = await CreatePairAsync();

        Task<System.Net.WebSockets.WebSocketReceiveResult> pending = client.ReceiveAsync(new ArraySegment<byte>(new byte[8]), CancellationToken.None);
        await Task.Delay(50);
        client.Abort();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Bound));
        Assert.Equal(WebSocketState.Aborted, client.State);
    }

    [Fact]
    public async Task CancellingAPendingReceive_AbortsTheWebSocket()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();
        using var cts = new CancellationTokenSource();

        ValueTask<System.Net.WebSockets.ValueWebSocketReceiveResult> pending = client.ReceiveAsync(new byte[8].AsMemory(), cts.Token);
        await Task.Delay(50);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Bound));
        Assert.Equal(WebSocketState.Aborted, client.State);
        WebSocketException atPeer = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, atPeer.WebSocketErrorCode);
    }

    [Fact]
    public async Task ReceiveWithAnAlreadyCancelledToken_ThrowsOperationCanceled_AndAborts()
    {
        (WebSocket client, _) = await CreatePairAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReceiveAsync(new ArraySegment<byte>(new byte[8]), new CancellationToken(true)).WaitAsync(Bound));
        Assert.Equal(WebSocketState.Aborted, client.State);
    }

    [Fact]
    public async Task CancellingCloseAsyncWhileItWaitsForThePeer_StopsTheWaitOnly_TheHandshakeCompletesWhenThePeerAnswers()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();
        using var cts = new CancellationTokenSource();

        Task closing = client.CloseAsync(WebSocketCloseInfo.NormalClosure, "client done", cts.Token);
        (WebSocketMessageKind type, _, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Close, type);
        if (ServerIsBridge)
        {
            // The bridge's core answered the close on arrival: there is no wait to cancel.
            await closing.WaitAsync(Bound);
            Assert.Equal(WebSocketState.Closed, client.State);
            return;
        }

        await Task.Delay(50);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closing.WaitAsync(Bound));

        // ManagedWebSocket's outcome depends on timing: the cancellation either aborted the receive that waited
        // for the close, or only this call's wait. The bridge always does the latter.
        if (client.State == WebSocketState.Aborted)
        {
            Assert.False(ClientIsBridge, "the bridge does not abort when the wait for the peer's close is cancelled");
            return;
        }

        Assert.Equal(WebSocketState.CloseSent, client.State);

        // The receive that waited for the close goes on: the server's answer completes the handshake.
        await server.CloseOutputAsync(WebSocketCloseInfo.NormalClosure, "server done", CancellationToken.None).WaitAsync(Bound);
        using var deadline = new CancellationTokenSource(Bound);
        while (client.State != WebSocketState.Closed)
        {
            await Task.Delay(20, deadline.Token);
        }

        Assert.Equal(WebSocketCloseInfo.NormalClosure, client.CloseStatus);
        Assert.Equal("server done", client.CloseStatusDescription);
    }

    [Fact]
    public async Task Dispose_WhileOpen_StateClosed_OperationsThrow_ThePeerSeesAPrematureEnd()
    {
        (WebSocket client, WebSocket server) = await CreatePairAsync();

        client.Dispose();

        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Null(client.CloseStatus);
        await Assert.ThrowsAsync<WebSocketException>(() => SendTextAsync(client, "x"));
        await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync(new ArraySegment<byte>(new byte[8]), CancellationToken.None).WaitAsync(Bound));
        client.Abort();
        Assert.Equal(WebSocketState.Closed, client.State);

        WebSocketException atPeer = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, atPeer.WebSocketErrorCode);
        Assert.Equal(WebSocketState.Aborted, server.State);
    }

    // =====================================================================================
    // A raw peer (bytes on the wire) against the server end
    // =====================================================================================

    private async Task<(Socket Raw, WebSocket Server)> CreateServerWithRawClientAsync()
    {
        (Socket client, Socket server) = await ConnectLoopbackAsync();
        _owned.Add(client);
        _owned.Add(server);
        return (client, CreateServer(server));
    }

    /// <summary>A masked client frame (RFC 6455 §5.2) with a zero masking key, so the payload reads as is.</summary>
    private static byte[] ClientFrame(int firstByte, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[2 + 4 + payload.Length];
        frame[0] = (byte)firstByte;
        frame[1] = (byte)(0x80 | payload.Length);
        payload.CopyTo(frame.AsSpan(6));
        return frame;
    }

    private static async Task<byte[]> ReadUntilEndAsync(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound);
                if (n == 0)
                {
                    break;
                }

                all.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            // A reset after the close frame still leaves what was read.
        }

        return all.ToArray();
    }

    [Fact]
    public async Task PeerViolatesTheProtocol_ReceiveThrowsFaulted_TheCloseFrameCarries1002_StateAborted()
    {
        (Socket raw, WebSocket server) = await CreateServerWithRawClientAsync();

        await raw.SendAsync(ClientFrame(0x80 | 0x20 | 0x2, [1, 2]), SocketFlags.None);   // RSV2 without an extension

        WebSocketException error = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.Faulted, error.WebSocketErrorCode);
        Assert.Equal(WebSocketState.Aborted, server.State);
        Assert.Null(server.CloseStatus);
        server.Dispose();

        byte[] wire = await ReadUntilEndAsync(raw);
        Assert.True(wire.Length >= 4, $"expected a close frame, got {wire.Length} bytes");
        Assert.Equal(0x88, wire[0]);
        Assert.Equal(1002, (wire[2] << 8) | wire[3]);
    }

    [Fact]
    public async Task PeerEndsTheTransportWithoutAClose_ReceiveThrowsConnectionClosedPrematurely_StateAborted()
    {
        (Socket raw, WebSocket server) = await CreateServerWithRawClientAsync();

        await raw.SendAsync(ClientFrame(0x81, "hi"u8), SocketFlags.None);
        raw.Shutdown(SocketShutdown.Send);

        (WebSocketMessageKind type, byte[] payload, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.Equal("hi", Encoding.UTF8.GetString(payload));
        WebSocketException error = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, error.WebSocketErrorCode);
        Assert.Equal(WebSocketState.Aborted, server.State);
    }

    [Fact]
    public async Task PingsAreAnsweredAndPongsSkipped_WithoutSurfacingInReceive()
    {
        (Socket raw, WebSocket server) = await CreateServerWithRawClientAsync();

        await raw.SendAsync(ClientFrame(0x89, "p1"u8), SocketFlags.None);
        await raw.SendAsync(ClientFrame(0x8A, "unsolicited"u8), SocketFlags.None);
        await raw.SendAsync(ClientFrame(0x82, [42]), SocketFlags.None);

        (WebSocketMessageKind type, byte[] payload, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Binary, type);
        Assert.Equal(new byte[] { 42 }, payload);

        var pong = new byte[4];
        int read = 0;
        while (read < pong.Length)
        {
            read += await raw.ReceiveAsync(pong.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Bound);
        }

        Assert.Equal(new byte[] { 0x8A, 2, (byte)'p', (byte)'1' }, pong);
    }

    [Fact]
    public async Task AnEmptyCloseFrame_ReadsAsNormalClosure()
    {
        (Socket raw, WebSocket server) = await CreateServerWithRawClientAsync();

        await raw.SendAsync(ClientFrame(0x88, []), SocketFlags.None);

        (WebSocketMessageKind type, _, _) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageKind.Close, type);
        Assert.Equal(WebSocketCloseInfo.NormalClosure, server.CloseStatus);
        Assert.Equal(string.Empty, server.CloseStatusDescription);
        Assert.Equal(WebSocketState.CloseReceived, server.State);
    }
}

/// <summary>The suite against the BCL's ManagedWebSocket on both ends: the reference behaviour.</summary>
public sealed class ManagedWebSocketBehaviourTests : WebSocketBehaviourTests
{
    protected override bool ClientIsBridge => false;

    protected override bool ServerIsBridge => false;
}

/// <summary>The suite against the Ws4Net bridge on both ends.</summary>
public sealed class BridgeWebSocketBehaviourTests : WebSocketBehaviourTests
{
    protected override bool ClientIsBridge => true;

    protected override bool ServerIsBridge => true;
}

/// <summary>The suite with a BCL client talking to a bridge server.</summary>
public sealed class BclClientBridgeServerBehaviourTests : WebSocketBehaviourTests
{
    protected override bool ClientIsBridge => false;

    protected override bool ServerIsBridge => true;
}

/// <summary>The suite with a bridge client talking to a BCL server.</summary>
public sealed class BridgeClientBclServerBehaviourTests : WebSocketBehaviourTests
{
    protected override bool ClientIsBridge => true;

    protected override bool ServerIsBridge => false;
}
