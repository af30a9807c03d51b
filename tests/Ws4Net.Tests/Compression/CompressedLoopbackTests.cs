using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol.Compression;
using Ws4Net.Server;

namespace Ws4Net.Tests.Compression;

/// <summary>
/// Our client and our server over real loopback sockets with permessage-deflate negotiated: both context
/// takeover modes, 9- and 15-bit windows, text and binary from 0 bytes to 16 MiB, fragments, the
/// per-send flag, and which side holds zlib state afterwards.
/// </summary>
public sealed class CompressedLoopbackTests
{
    private const int SixteenMiB = 16 * 1024 * 1024;

    public static TheoryData<bool, int> Modes => new()
    {
        { false, 15 },   // context takeover both ways, default windows
        { false, 9 },
        { true, 15 },    // no context takeover both ways: pooled zlib states
        { true, 9 },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Echo_of_every_size_is_exact_with_compression_negotiated(bool noContextTakeover, int windowBits)
    {
        await using TestServer server = await StartServerAsync(noContextTakeover, windowBits);
        WebSocketClientOptions clientOptions = ClientOptions(server, noContextTakeover, windowBits);
        (WebSocketConnection client, EchoTestHandler handler) = await server.ConnectTrackedAsync<EchoTestHandler>("/echo", clientOptions);
        await using (Own(client))
        {
            PerMessageDeflateParameters clientSide = Assert.IsType<PerMessageDeflateParameters>(client.PerMessageDeflate);
            PerMessageDeflateParameters serverSide = Assert.IsType<PerMessageDeflateParameters>(handler.Connection.PerMessageDeflate);
            Assert.Equal(serverSide.ToHeaderValue(), clientSide.ToHeaderValue());
            Assert.Equal(noContextTakeover, serverSide.ServerNoContextTakeover);
            Assert.Equal(noContextTakeover, serverSide.ClientNoContextTakeover);
            Assert.Equal(windowBits, clientSide.SendWindowBits(WebSocketRole.Client));
            Assert.Equal(windowBits, serverSide.SendWindowBits(WebSocketRole.Server));

            int[] sizes = [0, 1, 125, 126, 1000, 65535, 65536, 1024 * 1024, SixteenMiB];
            foreach (int size in sizes)
            {
                foreach (WebSocketMessageKind type in new[] { WebSocketMessageKind.Text, WebSocketMessageKind.Binary })
                {
                    // Large messages: one compressible, one not; the rest alternate.
                    byte[] payload = type == WebSocketMessageKind.Text
                        ? Encoding.UTF8.GetBytes(Payloads.Utf8Text(size, seed: size))
                        : (size % 2 == 0 ? Compressible(size) : Payloads.Binary(size, seed: size));
                    await client.SendAsync(payload, type, endOfMessage: true).WithTimeout(TimeSpan.FromSeconds(60));
                    WebSocketMessage? echo = await client.ReceiveAsync().WithTimeout(TimeSpan.FromSeconds(60));
                    Assert.NotNull(echo);
                    Assert.Equal(type, echo.Value.Type);
                    Assert.True(echo.Value.Payload.Span.SequenceEqual(payload), $"{type} {size}: echo differs ({echo.Value.Payload.Length} bytes)");
                }
            }

            Assert.Equal(!noContextTakeover, client.HoldsCompressionState);
            Assert.Equal(!noContextTakeover, handler.Connection.HoldsCompressionState);
            await client.CloseAsync().WithTimeout();
            Assert.Equal(WebSocketConnectionState.Closed, client.State);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Fragmented_and_uncompressed_sends_mix_on_one_connection(bool noContextTakeover, int windowBits)
    {
        await using TestServer server = await StartServerAsync(noContextTakeover, windowBits);
        WebSocketConnection client = await server.ConnectAsync("/echo", ClientOptions(server, noContextTakeover, windowBits));
        await using Owned owned = Own(client);
        Assert.NotNull(client.PerMessageDeflate);

        byte[] secret = Encoding.UTF8.GetBytes("csrf=" + new string('k', 4000));
        byte[] text = Encoding.UTF8.GetBytes(Payloads.Utf8Text(300_000, seed: 7));
        for (int round = 0; round < 3; round++)
        {
            // A secret, never compressed (RFC 7692 §6, CRIME/BREACH).
            await client.SendAsync(secret, WebSocketMessageKind.Binary, WebSocketSendFlags.EndOfMessage | WebSocketSendFlags.DisableCompression).WithTimeout();
            Assert.Equal(secret, (await ReceiveAsync(client)).Payload);

            // A text message in four fragments, compressed as one message (the first part decides).
            int cut1 = 1000 + round;
            int cut2 = 150_000;
            await client.SendAsync(text.AsMemory(0, cut1), WebSocketMessageKind.Text, WebSocketSendFlags.ForceCompression).WithTimeout();
            await client.SendAsync(text.AsMemory(cut1, cut2 - cut1), WebSocketMessageKind.Text, false).WithTimeout();
            await client.SendAsync(text.AsMemory(cut2, text.Length - cut2 - 1), WebSocketMessageKind.Text, false).WithTimeout();
            await client.SendAsync(text.AsMemory(text.Length - 1), WebSocketMessageKind.Text, true).WithTimeout();
            (WebSocketMessageKind type, byte[] echo) = await ReceiveAsync(client);
            Assert.Equal(WebSocketMessageKind.Text, type);
            Assert.True(echo.AsSpan().SequenceEqual(text), "fragmented compressed text differs");

            // Text through the UTF-16 path, under and over the threshold.
            await client.SendTextAsync("short").WithTimeout();
            Assert.Equal("short", Encoding.UTF8.GetString((await ReceiveAsync(client)).Payload));
            string longText = Payloads.Utf8Text(50_000, seed: round);
            await client.SendTextAsync(longText).WithTimeout();
            Assert.Equal(longText, Encoding.UTF8.GetString((await ReceiveAsync(client)).Payload));
        }

        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task Server_without_compression_leaves_the_client_uncompressed()
    {
        await using TestServer server = await TestServer.StartAsync(configure: LoopbackFixture.Configure);
        WebSocketClientOptions options = server.ClientOptions();
        options.PerMessageDeflate = new PerMessageDeflateOptions { Threshold = 0 };
        (WebSocketConnection client, EchoTestHandler handler) = await server.ConnectTrackedAsync<EchoTestHandler>("/echo", options);
        await using (Own(client))
        {
            Assert.Null(client.PerMessageDeflate);
            Assert.Null(handler.Connection.PerMessageDeflate);
            byte[] payload = Compressible(100_000);
            await client.SendAsync(payload, WebSocketMessageKind.Binary, WebSocketSendFlags.EndOfMessage | WebSocketSendFlags.ForceCompression).WithTimeout();
            Assert.Equal(payload, (await ReceiveAsync(client)).Payload);
            Assert.False(client.HoldsCompressionState);
        }
    }

    [Fact]
    public async Task Client_without_an_offer_is_served_uncompressed()
    {
        await using TestServer server = await StartServerAsync(false, 15);
        (WebSocketConnection client, EchoTestHandler handler) = await server.ConnectTrackedAsync<EchoTestHandler>("/echo", server.ClientOptions());
        await using (Own(client))
        {
            Assert.Null(client.PerMessageDeflate);
            Assert.Null(handler.Connection.PerMessageDeflate);
            byte[] payload = Compressible(100_000);
            await client.SendBinaryAsync(payload).WithTimeout();
            Assert.Equal(payload, (await ReceiveAsync(client)).Payload);
        }
    }

    [Fact]
    public async Task Inflated_limit_closes_with_1009()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o =>
        {
            o.PerMessageDeflate = new PerMessageDeflateOptions { Threshold = 0 };
            o.Connection.Protocol.MaxMessageSize = 1024 * 1024;
        });
        WebSocketClientOptions options = server.ClientOptions();
        options.PerMessageDeflate = new PerMessageDeflateOptions { Threshold = 0 };
        options.Connection.MaxBufferedAmount = 16 * 1024 * 1024;   // queue the 8 MiB message whole (8 KB on the wire)
        WebSocketConnection client = await server.ConnectAsync("/echo", options);
        await using Owned owned = Own(client);
        Assert.NotNull(client.PerMessageDeflate);

        // 8 MiB of zeros is about 8 KB on the wire: only the inflated size is over the server's limit.
        await client.SendAsync(new byte[8 * 1024 * 1024], WebSocketMessageKind.Binary, WebSocketSendFlags.EndOfMessage | WebSocketSendFlags.ForceCompression).WithTimeout();
        WebSocketMessage? reply = await client.ReceiveAsync().WithTimeout();
        Assert.Null(reply);
        Assert.Equal(WebSocketCloseCode.MessageTooBig, client.CloseStatus!.Value.Code);
    }

    // ---------------------------------------------------------------------------------------------

    internal static Task<TestServer> StartServerAsync(bool noContextTakeover, int windowBits)
        => TestServer.StartAsync(configure: o =>
        {
            LoopbackFixture.Configure(o);
            o.PerMessageDeflate = new PerMessageDeflateOptions
            {
                ServerNoContextTakeover = noContextTakeover,
                ClientNoContextTakeover = noContextTakeover,
                ServerMaxWindowBits = windowBits,
                ClientMaxWindowBits = windowBits,
                Threshold = 0,
            };
        });

    internal static WebSocketClientOptions ClientOptions(TestServer server, bool noContextTakeover, int windowBits)
    {
        WebSocketClientOptions options = server.ClientOptions();
        options.PerMessageDeflate = new PerMessageDeflateOptions
        {
            ServerNoContextTakeover = noContextTakeover,
            ClientNoContextTakeover = noContextTakeover,
            ServerMaxWindowBits = windowBits,
            ClientMaxWindowBits = windowBits,
            Threshold = 0,
        };
        return options;
    }

    internal static byte[] Compressible(int size)
    {
        byte[] data = new byte[size];
        byte[] phrase = "permessage-deflate over loopback, "u8.ToArray();
        for (int i = 0; i < size; i++)
        {
            data[i] = phrase[i % phrase.Length];
        }

        return data;
    }

    private static Owned Own(WebSocketConnection connection) => new(connection);

    /// <summary>Disposes (closes) a connection within a bounded time.</summary>
    private sealed class Owned(WebSocketConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await connection.DisposeAsync().AsTask().WithTimeout();
    }

    private static async Task<(WebSocketMessageKind Type, byte[] Payload)> ReceiveAsync(WebSocketConnection client)
    {
        WebSocketMessage? message = await client.ReceiveAsync().WithTimeout();
        Assert.NotNull(message);
        return (message.Value.Type, message.Value.ToArray());
    }
}
