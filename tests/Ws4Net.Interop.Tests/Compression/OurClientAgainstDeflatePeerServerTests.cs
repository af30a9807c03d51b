using System.Text;
using Ws4Net.Client;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Interop.Tests.Compression;

/// <summary>
/// Our client, offering permessage-deflate, against third-party servers that accept it (Node `ws`,
/// Python `websockets`): the negotiated answer is checked, then text and binary up to 1 MiB,
/// compressible and random, compressed by us and by the peer, empty messages, fragments and the
/// per-send flag. The derived classes pick the peer.
/// </summary>
public abstract class OurClientAgainstDeflatePeerServerTests(DeflatePeerServerFixture peer)
{
    public static TheoryData<int> Sizes => new() { 0, 1, 125, 126, 65535, 65536, 1024 * 1024 };

    [Fact]
    public async Task Compression_is_negotiated_as_the_peer_answers()
    {
        await using ConnectionLease lease = await ConnectAsync(new PerMessageDeflateOptions()).WaitAsync(Timeouts.Step);
        PerMessageDeflateParameters agreed = Assert.IsType<PerMessageDeflateParameters>(lease.Connection.PerMessageDeflate);
        Assert.Equal(peer.ExpectedAnswer, agreed.ToHeaderValue());
        await CloseAsync(lease.Connection);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Text_and_binary_are_echoed_exactly(int size)
    {
        await using ConnectionLease lease = await ConnectAsync(new PerMessageDeflateOptions { Threshold = 0 }).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        Assert.NotNull(connection.PerMessageDeflate);
        foreach (bool compressible in new[] { true, false })
        {
            string text = compressible ? Compressible(size) : Payloads.Text(size);
            await connection.SendTextAsync(text).AsTask().WaitAsync(Timeouts.Step);
            (WebSocketMessageKind type, byte[] echo) = await ReceiveAsync(connection, $"text {size}");
            Assert.Equal(WebSocketMessageKind.Text, type);
            Assert.Equal(text, Encoding.UTF8.GetString(echo));

            byte[] binary = compressible ? Encoding.UTF8.GetBytes(Compressible(size)) : Payloads.Binary(size);
            await connection.SendBinaryAsync(binary).AsTask().WaitAsync(Timeouts.Step);
            (type, echo) = await ReceiveAsync(connection, $"binary {size}");
            Assert.Equal(WebSocketMessageKind.Binary, type);
            Assert.True(echo.AsSpan().SequenceEqual(binary), $"binary {size}: {Payloads.Difference(binary, echo)}");
        }

        await CloseAsync(connection);
    }

    [Fact]
    public async Task Our_no_context_takeover_offer_is_honoured_and_works()
    {
        var options = new PerMessageDeflateOptions { Threshold = 0, ServerNoContextTakeover = true, ClientNoContextTakeover = true };
        await using ConnectionLease lease = await ConnectAsync(options).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        PerMessageDeflateParameters agreed = Assert.IsType<PerMessageDeflateParameters>(connection.PerMessageDeflate);
        Assert.True(agreed.ServerNoContextTakeover);
        Assert.True(agreed.SendNoContextTakeover(WebSocketRole.Client));
        await EchoSeveralAsync(connection);
        Assert.False(connection.HoldsCompressionState);
        await CloseAsync(connection);
    }

    [Fact]
    public async Task Small_windows_requested_by_us_work()
    {
        (int serverBits, int clientBits) = peer.SmallWindows;
        var options = new PerMessageDeflateOptions { Threshold = 0, ServerMaxWindowBits = serverBits, ClientMaxWindowBits = clientBits };
        await using ConnectionLease lease = await ConnectAsync(options).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        PerMessageDeflateParameters agreed = Assert.IsType<PerMessageDeflateParameters>(connection.PerMessageDeflate);
        Assert.True(agreed.ServerMaxWindowBits <= serverBits, agreed.ToHeaderValue());
        Assert.True(agreed.SendWindowBits(WebSocketRole.Client) <= clientBits, agreed.ToHeaderValue());
        await EchoSeveralAsync(connection);
        await CloseAsync(connection);
    }

    [Fact]
    public async Task Empty_messages_and_uncompressed_sends_mix_with_compressed_ones()
    {
        await using ConnectionLease lease = await ConnectAsync(new PerMessageDeflateOptions { Threshold = 0 }).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        byte[][] messages = [Encoding.UTF8.GetBytes(Compressible(5000)), [], [], Payloads.Binary(3000), [], Encoding.UTF8.GetBytes(Compressible(7000))];
        for (int i = 0; i < messages.Length; i++)
        {
            await connection.SendAsync(messages[i], WebSocketMessageKind.Binary, WebSocketSendFlags.EndOfMessage | (i != 3 ? WebSocketSendFlags.ForceCompression : WebSocketSendFlags.DisableCompression)).AsTask().WaitAsync(Timeouts.Step);
            (_, byte[] echo) = await ReceiveAsync(connection, $"message {i}");
            Assert.True(echo.AsSpan().SequenceEqual(messages[i]), $"message {i}: {Payloads.Difference(messages[i], echo)}");
        }

        await CloseAsync(connection);
    }

    [Fact]
    public async Task Compressed_fragments_and_a_ping_between_them_are_reassembled_by_the_peer()
    {
        await using ConnectionLease lease = await ConnectAsync(new PerMessageDeflateOptions { Threshold = 0 }).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        byte[] whole = Encoding.UTF8.GetBytes(Compressible(200_000));
        await connection.SendAsync(whole.AsMemory(0, 70_000), WebSocketMessageKind.Text, WebSocketSendFlags.ForceCompression).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendPingAsync("between fragments"u8.ToArray()).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(whole.AsMemory(70_000, 100_000), WebSocketMessageKind.Text, false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageKind.Text, false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(whole.AsMemory(170_000), WebSocketMessageKind.Text, true).AsTask().WaitAsync(Timeouts.Step);
        (WebSocketMessageKind type, byte[] echo) = await ReceiveAsync(connection, "fragmented text");
        Assert.Equal(WebSocketMessageKind.Text, type);
        Assert.True(echo.AsSpan().SequenceEqual(whole), Payloads.Difference(whole, echo));
        await EchoSeveralAsync(connection);
        await CloseAsync(connection);
    }

    /// <summary>A message whose last part is empty (a stream writer's final flush), then more messages.</summary>
    [Fact]
    public async Task Fragmented_message_with_an_empty_last_part_then_more_messages()
    {
        await using ConnectionLease lease = await ConnectAsync(new PerMessageDeflateOptions { Threshold = 0 }).WaitAsync(Timeouts.Step);
        WebSocketConnection connection = lease.Connection;
        byte[] whole = Encoding.UTF8.GetBytes(Compressible(30_000));
        await connection.SendAsync(whole.AsMemory(0, 10_000), WebSocketMessageKind.Binary, WebSocketSendFlags.ForceCompression).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(whole.AsMemory(10_000), WebSocketMessageKind.Binary, false).AsTask().WaitAsync(Timeouts.Step);
        await connection.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageKind.Binary, true).AsTask().WaitAsync(Timeouts.Step);
        (_, byte[] echo) = await ReceiveAsync(connection, "fragments ending with an empty part");
        Assert.True(echo.AsSpan().SequenceEqual(whole), Payloads.Difference(whole, echo));
        await EchoSeveralAsync(connection);
        await CloseAsync(connection);
    }

    // ---------------------------------------------------------------------------------------------

    private async Task EchoSeveralAsync(WebSocketConnection connection)
    {
        foreach (int size in new[] { 10, 1000, 20_000, 300_000 })
        {
            foreach (bool compressible in new[] { true, false })
            {
                byte[] payload = compressible ? Encoding.UTF8.GetBytes(Compressible(size)) : Payloads.Binary(size, seed: 3);
                await connection.SendBinaryAsync(payload).AsTask().WaitAsync(Timeouts.Step);
                (_, byte[] echo) = await ReceiveAsync(connection, $"binary {size}");
                Assert.True(echo.AsSpan().SequenceEqual(payload), $"binary {size}: {Payloads.Difference(payload, echo)}");
            }
        }
    }

    private async Task<(WebSocketMessageKind Type, byte[] Payload)> ReceiveAsync(WebSocketConnection connection, string what)
    {
        WebSocketMessage? message = await connection.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step);
        Assert.True(message.HasValue, $"{peer.Name} closed instead of echoing {what} ({connection.CloseStatus}).\n{peer.Transcript}");
        return (message.Value.Type, message.Value.ToArray());
    }

    private async Task<ConnectionLease> ConnectAsync(PerMessageDeflateOptions deflate)
    {
        var options = new WebSocketClientOptions { ConnectTimeout = Timeouts.Step, PerMessageDeflate = deflate };
        options.Connection.Protocol.MaxMessageSize = 64L * 1024 * 1024;
        return new ConnectionLease(await WebSocketClient.ConnectAsync(peer.Uri(), options).WaitAsync(Timeouts.Step));
    }

    private async Task CloseAsync(WebSocketConnection connection)
    {
        await connection.CloseAsync(WebSocketCloseCode.NormalClosure, "bye").AsTask().WaitAsync(Timeouts.Step);
        WebSocketCloseInfo status = await connection.Completion.WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketCloseCode.NormalClosure, status.Code);
    }

    internal static string Compressible(int byteLength)
    {
        var builder = new StringBuilder(byteLength);
        const string Phrase = "permessage-deflate interop, ";
        while (builder.Length < byteLength)
        {
            builder.Append(Phrase, 0, Math.Min(Phrase.Length, byteLength - builder.Length));
        }

        return builder.ToString();
    }
}

public sealed class OurClientAgainstNodeWsDeflateServerTests(NodeWsDeflateServerFixture peer)
    : OurClientAgainstDeflatePeerServerTests(peer), IClassFixture<NodeWsDeflateServerFixture>;

public sealed class OurClientAgainstNodeWsNoTakeoverDeflateServerTests(NodeWsNoTakeoverDeflateServerFixture peer)
    : OurClientAgainstDeflatePeerServerTests(peer), IClassFixture<NodeWsNoTakeoverDeflateServerFixture>;

public sealed class OurClientAgainstPythonWebsocketsDeflateServerTests(PythonWebsocketsDeflateServerFixture peer)
    : OurClientAgainstDeflatePeerServerTests(peer), IClassFixture<PythonWebsocketsDeflateServerFixture>;
