using System.Net;
using System.Net.Sockets;
using System.Text;
using Ws4Net.Bridge;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Tests.Bridge;

using WebSocket = System.Net.WebSockets.WebSocket;
using WebSocketCloseInfo = System.Net.WebSockets.WebSocketCloseStatus;
using WebSocketMessageFlags = System.Net.WebSockets.WebSocketMessageFlags;
using WebSocketMessageKind = System.Net.WebSockets.WebSocketMessageType;
using WebSocketState = System.Net.WebSockets.WebSocketState;

/// <summary>What only the bridge has: permessage-deflate through the BCL flags, the close codes it refuses, other transports.</summary>
public sealed class BridgeSpecificTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private static async Task<(Socket Client, Socket Server)> ConnectLoopbackAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Bound);
        return (client, await accept.WaitAsync(Bound));
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Bound);
            Assert.NotEqual(0, n);
            read += n;
        }

        return buffer;
    }

    private static async Task<byte[]> ReceiveWholeAsync(WebSocket webSocket)
    {
        var all = new MemoryStream();
        var buffer = new byte[1500];
        while (true)
        {
            System.Net.WebSockets.ValueWebSocketReceiveResult result = await webSocket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Bound);
            all.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return all.ToArray();
            }
        }
    }

    [Fact]
    public async Task DisableCompression_SendsTheMessageWithoutRsv1_OtherMessagesAreCompressed()
    {
        (Socket raw, Socket serverSocket) = await ConnectLoopbackAsync();
        using Socket rawOwner = raw;
        var deflate = new PerMessageDeflateParameters(true, true, null, null, threshold: 0);
        using WebSocket server = new WebSocketConnection(serverSocket, new WebSocketConnectionCreationOptions { Role = WebSocketRole.Server, PerMessageDeflate = deflate }).AsWebSocket();
        byte[] text = Encoding.UTF8.GetBytes(new string('a', 100));

        await server.SendAsync(text, WebSocketMessageKind.Text, true, CancellationToken.None).WaitAsync(Bound);
        byte[] compressedHeader = await ReadExactlyAsync(raw, 2);
        Assert.Equal(0xC1, compressedHeader[0]);                    // FIN + RSV1 + text
        Assert.True(compressedHeader[1] < 100);                     // unmasked, shorter than the text
        await ReadExactlyAsync(raw, compressedHeader[1]);

        await server.SendAsync(text, WebSocketMessageKind.Text, WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression, CancellationToken.None).AsTask().WaitAsync(Bound);
        byte[] plain = await ReadExactlyAsync(raw, 2 + 100);
        Assert.Equal(0x81, plain[0]);                               // FIN + text, no RSV1
        Assert.Equal(100, plain[1]);
        Assert.Equal(text, plain[2..]);
    }

    [Fact]
    public async Task CompressedMessages_RoundTripWithAManagedWebSocketPeer()
    {
        (Socket clientSocket, Socket serverSocket) = await ConnectLoopbackAsync();
        using WebSocket client = WebSocket.CreateFromStream(new NetworkStream(clientSocket, ownsSocket: true), new System.Net.WebSockets.WebSocketCreationOptions
        {
            KeepAliveInterval = TimeSpan.Zero,
            DangerousDeflateOptions = new System.Net.WebSockets.WebSocketDeflateOptions { ClientContextTakeover = true, ServerContextTakeover = true },
        });
        var deflate = new PerMessageDeflateParameters(false, false, null, null, threshold: 0);
        using WebSocket server = new WebSocketConnection(serverSocket, new WebSocketConnectionCreationOptions { Role = WebSocketRole.Server, PerMessageDeflate = deflate }).AsWebSocket();
        byte[] payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog ", 500)));

        for (int i = 0; i < 3; i++)
        {
            await client.SendAsync(payload, WebSocketMessageKind.Text, true, CancellationToken.None).WaitAsync(Bound);
            byte[] atServer = await ReceiveWholeAsync(server);
            Assert.Equal(payload, atServer);

            await server.SendAsync(atServer, WebSocketMessageKind.Text, i % 2 == 0 ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression, CancellationToken.None).AsTask().WaitAsync(Bound);
            Assert.Equal(payload, await ReceiveWholeAsync(client));
        }

        Task serverSide = Task.Run(async () =>
        {
            System.Net.WebSockets.ValueWebSocketReceiveResult close = await server.ReceiveAsync(new byte[8].AsMemory(), CancellationToken.None);
            Assert.Equal(WebSocketMessageKind.Close, close.MessageType);
            await server.CloseOutputAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None);
        });
        await client.CloseAsync(WebSocketCloseInfo.NormalClosure, null, CancellationToken.None).WaitAsync(Bound);
        await serverSide.WaitAsync(Bound);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(WebSocketState.Closed, server.State);
    }

    [Theory]
    [InlineData(1004)]
    [InlineData(1016)]
    [InlineData(2999)]
    public async Task CloseCodesTheRfcReservesAreRefused_WhereTheBclWouldPutThemOnTheWire(int code)
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        await using WebSocketConnection serverOwner = server;
        using Ws4NetWebSocket webSocket = client.AsWebSocket();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => webSocket.CloseAsync((WebSocketCloseInfo)code, null, CancellationToken.None).WaitAsync(Bound));
        await Assert.ThrowsAsync<ArgumentException>(() => webSocket.CloseOutputAsync((WebSocketCloseInfo)5000, null, CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(WebSocketState.Open, webSocket.State);
    }

    [Fact]
    public async Task CloseWithStatusEmpty_SendsNormalClosure()
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        await using WebSocketConnection serverOwner = server;
        using Ws4NetWebSocket webSocket = client.AsWebSocket();

        await webSocket.CloseOutputAsync(WebSocketCloseInfo.Empty, null, CancellationToken.None).WaitAsync(Bound);

        Assert.Null(await server.ReceiveAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(WebSocketCloseCode.NormalClosure, server.CloseStatus?.Code);
        Assert.Equal(WebSocketState.CloseSent, webSocket.State);
    }

    [Fact]
    public async Task ReceivingThroughTheBridgeWhileTheConnectionIsReceivedFromElsewhere_ThrowsInvalidOperation()
    {
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        await using WebSocketConnection serverOwner = server;
        using Ws4NetWebSocket webSocket = client.AsWebSocket();

        ValueTask<WebSocketMessage?> pullReceive = client.ReceiveAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => webSocket.ReceiveAsync(new byte[8].AsMemory(), CancellationToken.None).AsTask().WaitAsync(Bound));

        await server.SendTextAsync("still delivered to the first receiver");
        Assert.Equal("still delivered to the first receiver", (await pullReceive.AsTask().WaitAsync(Bound))?.GetText());
    }

    [Fact]
    public async Task OverAnInMemoryPipePair_AMessageLargerThanTheSendQueueCapRoundTrips()
    {
        var options = new WebSocketConnectionOptions { KeepAliveInterval = TimeSpan.Zero, MaxBufferedAmount = 256 * 1024, SendHighWaterMark = 64 * 1024 };
        options.Protocol.MaxMessageSize = 4 * 1024 * 1024;
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair(options);
        using Ws4NetWebSocket clientSocket = client.AsWebSocket();
        using Ws4NetWebSocket serverSocket = server.AsWebSocket();
        Assert.Same(client, clientSocket.Connection);
        byte[] payload = new byte[1024 * 1024 + 3];
        new Random(3).NextBytes(payload);

        Task<byte[]> receiving = ReceiveWholeAsync(serverSocket);
        await clientSocket.SendAsync(payload, WebSocketMessageKind.Binary, true, CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(payload, await receiving.WaitAsync(Bound));
    }
}
