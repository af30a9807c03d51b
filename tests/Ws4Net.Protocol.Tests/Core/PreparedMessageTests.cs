using System.Buffers;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Tests.Compression;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>
/// Prepared messages (encode once, share the frame): the shared bytes are exactly what the engine would
/// encode for a server connection, compressed variants inflate to the payload, and connections that must
/// encode themselves (client role, context takeover, auto-fragmentation) are told so.
/// </summary>
public sealed class PreparedMessageTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(70_000)]
    public void Shared_frame_is_byte_for_byte_what_the_server_engine_encodes(int length)
    {
        byte[] payload = Frames.Pattern(length, seed: length);
        using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, payload);
        using var server = new WebSocketProtocol(WebSocketRole.Server);
        var expected = new ArrayBufferWriter<byte>();
        server.WriteMessage(expected, WebSocketMessageKind.Binary, payload);

        using var other = new WebSocketProtocol(WebSocketRole.Server);
        Assert.True(other.TryGetSharedFrame(message, out ReadOnlyMemory<byte> frame));
        Assert.Equal(Hex.Format(expected.WrittenSpan), Hex.Format(frame.Span));
        Assert.True(message.Payload.Span.SequenceEqual(payload));
        Assert.Equal(length, message.Length);
    }

    [Fact]
    public void Text_is_encoded_once_as_UTF8_with_the_text_opcode()
    {
        using var message = WebSocketPreparedMessage.CreateText("héllo 🌍");
        using var server = new WebSocketProtocol(WebSocketRole.Server);
        Assert.True(server.TryGetSharedFrame(message, out ReadOnlyMemory<byte> frame));
        WireFrame wire = WireFrame.Parse(frame.Span, out int frameLength);
        Assert.Equal(frame.Length, frameLength);
        Assert.Equal(1, wire.Opcode);
        Assert.True(wire.Fin);
        Assert.Equal("héllo 🌍", Encoding.UTF8.GetString(wire.Payload));
    }

    [Fact]
    public void A_client_connection_encodes_the_message_itself_because_it_must_mask()
    {
        using var message = WebSocketPreparedMessage.CreateText("masked per connection");
        using var client = new WebSocketProtocol(WebSocketRole.Client);
        Assert.False(client.TryGetSharedFrame(message, out _));
    }

    [Fact]
    public void Auto_fragmentation_means_the_connection_encodes_the_message_itself()
    {
        using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, new byte[5000]);
        using var server = new WebSocketProtocol(WebSocketRole.Server, new WebSocketProtocolOptions { MaxSendFrameSize = 1000 });
        Assert.False(server.TryGetSharedFrame(message, out _));
    }

    [Fact]
    public void Without_context_takeover_one_compressed_frame_is_shared_by_connections_with_the_same_settings()
    {
        byte[] payload = DeflateKit.CompressibleText(10_000, seed: 3);
        using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Text, payload);
        using var a = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(serverNoContextTakeover: true, clientNoContextTakeover: false));
        using var b = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(serverNoContextTakeover: true, clientNoContextTakeover: true));
        using var narrow = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(serverNoContextTakeover: true, clientNoContextTakeover: false, serverBits: 10));

        Assert.True(a.TryGetSharedFrame(message, out ReadOnlyMemory<byte> fa));
        Assert.True(b.TryGetSharedFrame(message, out ReadOnlyMemory<byte> fb));
        Assert.True(narrow.TryGetSharedFrame(message, out ReadOnlyMemory<byte> fn));
        Assert.True(fa.Span == fb.Span, "the same settings share the same bytes");
        Assert.False(fa.Span == fn.Span, "another window size gets its own encoding");

        foreach (ReadOnlyMemory<byte> frame in new[] { fa, fn })
        {
            WireFrame wire = WireFrame.Parse(frame.Span, out _);
            Assert.Equal(4, wire.Rsv);   // RSV1: compressed (RFC 7692 §6)
            Assert.True(wire.Payload.Length < payload.Length / 2);
            Assert.Equal(payload, DeflateKit.BclInflate(wire.Payload, payload.Length));
        }
    }

    [Fact]
    public void The_receiving_engine_decodes_a_shared_compressed_frame()
    {
        byte[] payload = DeflateKit.CompressibleText(3000, seed: 8);
        using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Text, payload);
        PerMessageDeflateParameters agreement = DeflateKit.Agreement(serverNoContextTakeover: true, clientNoContextTakeover: true);
        using var server = new WebSocketProtocol(WebSocketRole.Server, null, agreement);
        using var client = new WebSocketProtocol(WebSocketRole.Client, null, agreement);
        Assert.True(server.TryGetSharedFrame(message, out ReadOnlyMemory<byte> frame));

        for (int i = 0; i < 2; i++)
        {
            byte[] copy = frame.ToArray();
            Assert.True(client.TryReadEvent(copy, out int consumed, out WebSocketEvent e));
            Assert.Equal(copy.Length, consumed);
            Assert.Equal(WebSocketEventType.Message, e.Type);
            Assert.True(e.Payload.Span.SequenceEqual(payload));
        }
    }

    [Fact]
    public void With_context_takeover_or_below_the_threshold_the_choice_follows_the_agreement()
    {
        byte[] payload = DeflateKit.CompressibleText(4000, seed: 1);
        using var message = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, payload);
        using var takeover = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(serverNoContextTakeover: false, clientNoContextTakeover: false));
        Assert.False(takeover.TryGetSharedFrame(message, out _));

        using var forcedOff = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, payload, WebSocketSendFlags.DisableCompression);
        Assert.True(takeover.TryGetSharedFrame(forcedOff, out ReadOnlyMemory<byte> plain));
        Assert.Equal(0, WireFrame.Parse(plain.Span, out _).Rsv);

        using var small = WebSocketPreparedMessage.Create(WebSocketMessageKind.Binary, new byte[10]);
        using var thresholded = new WebSocketProtocol(WebSocketRole.Server, null, DeflateKit.Agreement(serverNoContextTakeover: false, clientNoContextTakeover: false, threshold: 100));
        Assert.True(thresholded.TryGetSharedFrame(small, out ReadOnlyMemory<byte> uncompressed));
        Assert.Equal(0, WireFrame.Parse(uncompressed.Span, out _).Rsv);
    }

    [Fact]
    public void Shared_frames_are_refused_after_a_close_or_inside_a_fragmented_message()
    {
        using var message = WebSocketPreparedMessage.CreateText("x");
        using var server = new WebSocketProtocol(WebSocketRole.Server);
        var output = new ArrayBufferWriter<byte>();
        server.WriteMessage(output, WebSocketMessageKind.Binary, [1], endOfMessage: false);
        Assert.Throws<InvalidOperationException>(() => server.TryGetSharedFrame(message, out _));
        server.WriteMessage(output, WebSocketMessageKind.Binary, [2], endOfMessage: true);
        Assert.True(server.TryGetSharedFrame(message, out _));
        server.WriteClose(output, WebSocketCloseCode.NormalClosure);
        Assert.Throws<InvalidOperationException>(() => server.TryGetSharedFrame(message, out _));
    }

    [Fact]
    public void References_keep_the_message_alive_until_the_last_holder_releases_it()
    {
        var message = WebSocketPreparedMessage.CreateText("shared");
        Assert.True(message.TryRetain());   // a connection queued it
        message.Dispose();                   // the creator is done
        Assert.False(message.IsReleased);
        Assert.Equal("shared", Encoding.UTF8.GetString(message.Payload.Span));
        message.Release();                   // the connection wrote it
        Assert.True(message.IsReleased);
        Assert.False(message.TryRetain());   // nobody can take it back from the pool
    }

    [Fact]
    public void Only_text_and_binary_can_be_prepared()
        => Assert.Throws<ArgumentOutOfRangeException>(() => WebSocketPreparedMessage.Create((WebSocketMessageKind)9, [1]));
}
