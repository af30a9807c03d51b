using System.Net.WebSockets;
using System.Text;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol.Compression;
using NetMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.Interop.Tests.Compression;

/// <summary>
/// .NET's <see cref="ClientWebSocket"/> with <see cref="ClientWebSocketOptions.DangerousDeflateOptions"/>
/// (the runtime's own, independent permessage-deflate) against the demo server: the response header it
/// received names the extension with the parameters it asked for, and echoes of several sizes, text and
/// binary, compressible and random, come back exactly, including messages it sends uncompressed.
/// </summary>
public sealed class ClientWebSocketDeflateTests : IAsyncLifetime
{
    private DemoServerHost _server = null!;
    private readonly TaskCompletionSource<Ws4Net.WebSocketConnection> _serverSide = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static TheoryData<int, bool, int, bool, string> Options => new()
    {
        // client window, client context takeover, server window, server context takeover (as asked by the
        // client), the answer expected: the demo server always resets its own compressor (server_no_context_takeover)
        { 10, false, 15, true, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10" },
        { 15, true, 15, true, "permessage-deflate; server_no_context_takeover" },
        { 9, true, 9, false, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9" },
        { 12, false, 11, false, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12" },
    };

    public async Task InitializeAsync()
    {
        _server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        _server.Server.ConnectionOpened += connection => _serverSide.TrySetResult(connection);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown);

    [Theory]
    [MemberData(nameof(Options))]
    public async Task Deflate_is_negotiated_and_echoes_are_exact(int clientBits, bool clientTakeover, int serverBits, bool serverTakeover, string expectedAnswer)
    {
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = Timeout.InfiniteTimeSpan;
        client.Options.CollectHttpResponseDetails = true;
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions
        {
            ClientMaxWindowBits = clientBits,
            ClientContextTakeover = clientTakeover,
            ServerMaxWindowBits = serverBits,
            ServerContextTakeover = serverTakeover,
        };
        await client.ConnectAsync(_server.WebSocketUri("/echo"), CancellationToken.None).WaitAsync(Timeouts.Step);

        // What ClientWebSocket received and accepted.
        Assert.NotNull(client.HttpResponseHeaders);
        Assert.True(client.HttpResponseHeaders.TryGetValue("Sec-WebSocket-Extensions", out IEnumerable<string>? answer), "no Sec-WebSocket-Extensions in the 101 response");
        Assert.Equal(expectedAnswer, Assert.Single(answer));

        // What the server agreed to.
        Ws4Net.WebSocketConnection serverSide = await _serverSide.Task.WaitAsync(Timeouts.Step);
        PerMessageDeflateParameters agreed = Assert.IsType<PerMessageDeflateParameters>(serverSide.PerMessageDeflate);
        Assert.Equal(expectedAnswer, agreed.ToHeaderValue());
        Assert.Equal(!clientTakeover, agreed.ClientNoContextTakeover);
        Assert.Equal(!serverTakeover, agreed.ServerNoContextTakeover);

        foreach (int size in new[] { 0, 1, 125, 126, 1000, 65535, 65536, 300_000, 1024 * 1024 })
        {
            foreach (bool compressible in new[] { true, false })
            {
                string text = compressible ? OurClientAgainstDeflatePeerServerTests.Compressible(size) : Payloads.Text(size);
                byte[] textBytes = Encoding.UTF8.GetBytes(text);
                await client.SendAsync(textBytes, NetMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(Timeouts.Step);
                (NetMessageType type, byte[] echo) = await ReceiveMessageAsync(client);
                Assert.Equal(NetMessageType.Text, type);
                Assert.True(echo.AsSpan().SequenceEqual(textBytes), $"text {size}: {Payloads.Difference(textBytes, echo)}");

                byte[] binary = compressible ? textBytes : Payloads.Binary(size);
                await client.SendAsync(binary, NetMessageType.Binary, endOfMessage: true, CancellationToken.None).WaitAsync(Timeouts.Step);
                (type, echo) = await ReceiveMessageAsync(client);
                Assert.Equal(NetMessageType.Binary, type);
                Assert.True(echo.AsSpan().SequenceEqual(binary), $"binary {size}: {Payloads.Difference(binary, echo)}");
            }
        }

        // A message the client sends uncompressed (per-message flag), then a fragmented compressed one.
        byte[] secret = Encoding.UTF8.GetBytes("token=" + new string('t', 5000));
        await client.SendAsync(secret, NetMessageType.Binary, WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression, CancellationToken.None).AsTask().WaitAsync(Timeouts.Step);
        Assert.Equal(secret, (await ReceiveMessageAsync(client)).Payload);

        byte[] whole = Encoding.UTF8.GetBytes(OurClientAgainstDeflatePeerServerTests.Compressible(100_000));
        await client.SendAsync(whole.AsMemory(0, 40_000), NetMessageType.Text, WebSocketMessageFlags.None, CancellationToken.None).AsTask().WaitAsync(Timeouts.Step);
        await client.SendAsync(whole.AsMemory(40_000), NetMessageType.Text, WebSocketMessageFlags.EndOfMessage, CancellationToken.None).AsTask().WaitAsync(Timeouts.Step);
        Assert.Equal(whole, (await ReceiveMessageAsync(client)).Payload);

        await client.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    private static async Task<(NetMessageType Type, byte[] Payload)> ReceiveMessageAsync(ClientWebSocket client)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeouts.Step);
            Assert.True(result.MessageType != NetMessageType.Close, $"The server closed instead of echoing: {result.CloseStatus} {result.CloseStatusDescription}");
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }
}
