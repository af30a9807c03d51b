using System.Net.WebSockets;
using System.Text;
using Ws4Net.Interop.Tests.Infrastructure;
using NetCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;
using Ws4CloseCode = Ws4Net.Protocol.WebSocketCloseCode;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// .NET's own <see cref="ClientWebSocket"/> (an independent RFC 6455 implementation) against the
/// demo server's <c>/echo</c>: whole and fragmented messages, and the close handshake started by
/// either side, with the status checked on both ends.
/// </summary>
public sealed class DotNetClientWebSocketAgainstDemoServerTests : IAsyncLifetime
{
    private DemoServerHost _server = null!;
    private readonly TaskCompletionSource<WebSocketConnection> _serverSide = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        _server.Server.ConnectionOpened += connection => _serverSide.TrySetResult(connection);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown);

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(1024 * 1024)]
    public async Task TextAndBinary_AreEchoedWithTheSameType(int size)
    {
        using ClientWebSocket client = await ConnectAsync().WaitAsync(Timeouts.Step);

        string text = Payloads.Text(size);
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(Timeouts.Step);
        (WebSocketMessageType textType, byte[] textEcho) = await ReceiveMessageAsync(client).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageType.Text, textType);
        Assert.Equal(text, Encoding.UTF8.GetString(textEcho));

        byte[] binary = Payloads.Binary(size);
        await client.SendAsync(binary, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).WaitAsync(Timeouts.Step);
        (WebSocketMessageType binaryType, byte[] binaryEcho) = await ReceiveMessageAsync(client).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageType.Binary, binaryType);
        Assert.True(binary.AsSpan().SequenceEqual(binaryEcho), Payloads.Difference(binary, binaryEcho));

        await client.CloseAsync(NetCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(NetCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task FragmentedSends_AreEchoedAsOneMessage()
    {
        using ClientWebSocket client = await ConnectAsync().WaitAsync(Timeouts.Step);

        // Text fragments that split a 4-byte UTF-8 sequence: the server must validate the whole message, not each frame.
        byte[] text = Encoding.UTF8.GetBytes("Grüße 😀 aus .NET — ✓");
        int emoji = Array.IndexOf(text, (byte)0xF0);
        byte[][] textPieces = [text[..(emoji + 1)], text[(emoji + 1)..(emoji + 3)], [], text[(emoji + 3)..]];
        for (int i = 0; i < textPieces.Length; i++)
        {
            await client.SendAsync(textPieces[i], WebSocketMessageType.Text, endOfMessage: i == textPieces.Length - 1, CancellationToken.None).WaitAsync(Timeouts.Step);
        }

        (WebSocketMessageType textType, byte[] textEcho) = await ReceiveMessageAsync(client).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageType.Text, textType);
        Assert.Equal("Grüße 😀 aus .NET — ✓", Encoding.UTF8.GetString(textEcho));

        byte[] binary = Payloads.Binary(300_000, seed: 3);
        int[] cuts = [0, 1, 126, 65_662, 200_000, 300_000];
        for (int i = 0; i < cuts.Length - 1; i++)
        {
            await client.SendAsync(binary.AsMemory(cuts[i], cuts[i + 1] - cuts[i]), WebSocketMessageType.Binary, endOfMessage: i == cuts.Length - 2, CancellationToken.None).AsTask().WaitAsync(Timeouts.Step);
        }

        (WebSocketMessageType binaryType, byte[] binaryEcho) = await ReceiveMessageAsync(client).WaitAsync(Timeouts.Step * 2);
        Assert.Equal(WebSocketMessageType.Binary, binaryType);
        Assert.True(binary.AsSpan().SequenceEqual(binaryEcho), Payloads.Difference(binary, binaryEcho));

        await client.CloseAsync(NetCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketState.Closed, client.State);
    }

    [Fact]
    public async Task ClientInitiatedClose_StatusIsSeenOnBothSides()
    {
        using ClientWebSocket client = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection serverSide = await _serverSide.Task.WaitAsync(Timeouts.Step);

        await client.CloseAsync((NetCloseStatus)4000, "done", CancellationToken.None).WaitAsync(Timeouts.Step);

        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal((NetCloseStatus)4000, client.CloseStatus);
        // The server echoes the code (RFC 6455 §5.5.1); echoing the reason is not required, so it is not checked.

        WebSocketCloseInfo serverStatus = await serverSide.Completion.WaitAsync(Timeouts.Step);
        Assert.Equal((Ws4CloseCode)4000, serverStatus.Code);
        Assert.Equal("done", serverStatus.Reason);
        Assert.True(serverStatus.InitiatedByPeer, "The client started the close, so the server must report InitiatedByPeer.");
        Assert.Equal(WebSocketConnectionState.Closed, serverSide.State);
    }

    [Fact]
    public async Task ServerInitiatedClose_StatusIsSeenOnBothSides()
    {
        using ClientWebSocket client = await ConnectAsync().WaitAsync(Timeouts.Step);
        WebSocketConnection serverSide = await _serverSide.Task.WaitAsync(Timeouts.Step);

        // The handler's receive loop owns the read side, so CloseAsync only sends; the loop sees the reply.
        await serverSide.CloseAsync((Ws4CloseCode)4001, "server says bye").AsTask().WaitAsync(Timeouts.Step);

        var buffer = new byte[256];
        WebSocketReceiveResult result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal((NetCloseStatus)4001, result.CloseStatus);
        Assert.Equal("server says bye", result.CloseStatusDescription);
        Assert.Equal(WebSocketState.CloseReceived, client.State);

        await client.CloseOutputAsync((NetCloseStatus)4001, "client agrees", CancellationToken.None).WaitAsync(Timeouts.Step);

        WebSocketCloseInfo serverStatus = await serverSide.Completion.WaitAsync(Timeouts.Step);
        Assert.Equal((Ws4CloseCode)4001, serverStatus.Code);
        Assert.Equal("client agrees", serverStatus.Reason);
        Assert.False(serverStatus.InitiatedByPeer, "The server started the close, so InitiatedByPeer must be false.");
        Assert.Equal(WebSocketConnectionState.Closed, serverSide.State);

        Assert.Equal(WebSocketState.Closed, client.State);
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
        try
        {
            await client.ConnectAsync(_server.WebSocketUri("/echo"), CancellationToken.None).WaitAsync(Timeouts.Step);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(ClientWebSocket client)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeouts.Step);
            Assert.True(result.MessageType != WebSocketMessageType.Close, $"The server closed instead of echoing: {result.CloseStatus} {result.CloseStatusDescription}");
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }
}
