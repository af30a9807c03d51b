using System.Buffers;
using System.Globalization;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Protocol.Tests.Core;
using Ws4Net.Protocol.Tests.Handshake;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Client side of the permessage-deflate negotiation: the offer it sends and the checks on the server's
/// answer (RFC 7692 §7.1: the client fails the connection on an answer it cannot accept).
/// </summary>
public sealed class ClientNegotiationTests
{
    [Theory]
    [InlineData(false, false, 15, 15, "permessage-deflate; client_max_window_bits")]
    [InlineData(true, false, 15, 15, "permessage-deflate; server_no_context_takeover; client_max_window_bits")]
    [InlineData(false, true, 15, 15, "permessage-deflate; client_no_context_takeover; client_max_window_bits")]
    [InlineData(true, true, 15, 15, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits")]
    [InlineData(false, false, 10, 15, "permessage-deflate; server_max_window_bits=10; client_max_window_bits")]
    [InlineData(false, false, 9, 15, "permessage-deflate; server_max_window_bits=9; client_max_window_bits")]
    [InlineData(false, false, 15, 12, "permessage-deflate; client_max_window_bits=12")]
    [InlineData(false, false, 15, 9, "permessage-deflate; client_max_window_bits=9")]
    [InlineData(false, false, 14, 14, "permessage-deflate; server_max_window_bits=14; client_max_window_bits=14")]
    [InlineData(true, true, 9, 9, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9")]
    public void CreateOffer_renders_the_options(bool serverNoContextTakeover, bool clientNoContextTakeover, int serverBits, int clientBits, string expected)
    {
        var options = new PerMessageDeflateOptions
        {
            ServerNoContextTakeover = serverNoContextTakeover,
            ClientNoContextTakeover = clientNoContextTakeover,
            ServerMaxWindowBits = serverBits,
            ClientMaxWindowBits = clientBits,
        };
        Assert.Equal(expected, PerMessageDeflateNegotiation.CreateOffer(options));

        // The handshake request carries it, before any raw ExtensionOffers.
        var handshake = new ClientHandshake(new Uri("ws://example.com/chat"), new ClientHandshakeOptions { PerMessageDeflate = options, ExtensionOffers = "x-test" });
        string request = Encoding.Latin1.GetString(handshake.BuildRequest());
        Assert.Contains($"\r\nSec-WebSocket-Extensions: {expected}, x-test\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_options_outside_9_to_15_are_refused()
    {
        var options = new PerMessageDeflateOptions();
        foreach (int bad in new[] { -1, 0, 7, 8, 16 })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => options.ServerMaxWindowBits = bad);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.ClientMaxWindowBits = bad);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => options.CompressionLevel = 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MemoryLevel = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.Threshold = -1);
        Assert.Equal(6, options.CompressionLevel);
        Assert.Equal(8, options.MemoryLevel);
        Assert.Equal(1024, options.Threshold);
        Assert.Equal(15, options.ServerMaxWindowBits);
        Assert.Equal(15, options.ClientMaxWindowBits);
        Assert.False(options.ServerNoContextTakeover);
        Assert.False(options.ClientNoContextTakeover);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void Every_client_window_from_9_to_15_is_honoured(int bits)
    {
        PerMessageDeflateParameters agreed = Validate($"permessage-deflate; client_max_window_bits={bits}", new PerMessageDeflateOptions())!;
        Assert.Equal(bits, agreed.ClientMaxWindowBits);
        Assert.Equal(bits, agreed.SendWindowBits(WebSocketRole.Client));
        Assert.Equal(15, agreed.ReceiveWindowBits(WebSocketRole.Client));

        // And the engine compresses with it: a repeat 2^bits + 100 bytes back cannot be referenced below 15 bits.
        using var client = new WebSocketProtocol(WebSocketRole.Client, null, agreed);
        byte[] block = DeflateKit.RandomBytes((1 << bits) + 100, bits);
        byte[] message = [.. block, .. block];
        var wire = new ArrayBufferWriter<byte>();
        client.WriteMessage(wire, WebSocketMessageKind.Binary, message, compress: true);
        WireFrame frame = Assert.Single(WireFrame.ParseAll(wire.WrittenSpan));
        if (bits < 15)
        {
            Assert.True(frame.Payload.Length > message.Length * 9 / 10, $"{frame.Payload.Length} bytes: the compressor used a window larger than {bits} bits");
        }

        Assert.Equal(message, DeflateKit.BclInflate(frame.Payload, message.Length));
    }

    [Fact]
    public void Client_window_of_8_is_refused()
    {
        AssertFails("permessage-deflate; client_max_window_bits=8", new PerMessageDeflateOptions());
    }

    [Theory]
    [InlineData(10, "permessage-deflate; client_max_window_bits=11")]
    [InlineData(10, "permessage-deflate; client_max_window_bits=15")]
    [InlineData(9, "permessage-deflate; client_max_window_bits=10")]
    [InlineData(14, "permessage-deflate; client_max_window_bits=15")]
    public void Client_window_larger_than_offered_fails(int offered, string response)
    {
        AssertFails(response, new PerMessageDeflateOptions { ClientMaxWindowBits = offered });
    }

    [Theory]
    [InlineData(10, "permessage-deflate; server_max_window_bits=11")]
    [InlineData(10, "permessage-deflate; server_max_window_bits=15")]
    [InlineData(9, "permessage-deflate; server_max_window_bits=10")]
    public void Server_window_larger_than_asked_fails(int asked, string response)
    {
        AssertFails(response, new PerMessageDeflateOptions { ServerMaxWindowBits = asked });
    }

    [Theory]
    [InlineData(10, "permessage-deflate; client_max_window_bits=10", 10, 15)]
    [InlineData(10, "permessage-deflate; client_max_window_bits=9", 9, 15)]
    [InlineData(15, "permessage-deflate; server_max_window_bits=8", 15, 9)]   // the server's 8-bit window inflates with 9 bits
    [InlineData(15, "permessage-deflate; server_max_window_bits=12", 15, 12)]
    [InlineData(10, "permessage-deflate", 10, 15)]                              // the offered client value binds the client anyway
    public void Smaller_or_equal_windows_are_accepted(int clientOffered, string response, int clientCompress, int clientInflate)
    {
        PerMessageDeflateParameters agreed = Validate(response, new PerMessageDeflateOptions { ClientMaxWindowBits = clientOffered })!;
        Assert.Equal(clientCompress, agreed.SendWindowBits(WebSocketRole.Client));
        Assert.Equal(clientInflate, agreed.ReceiveWindowBits(WebSocketRole.Client));
    }

    [Theory]
    [InlineData("permessage-deflate; foo")]
    [InlineData("permessage-deflate; foo=bar")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=10; server_max_window_bits=10")]
    [InlineData("permessage-deflate; client_max_window_bits=10; client_max_window_bits=10")]
    [InlineData("permessage-deflate; client_max_window_bits")]                  // an answer must carry a value
    [InlineData("permessage-deflate; server_max_window_bits")]
    [InlineData("permessage-deflate; server_max_window_bits=7")]
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits=09")]
    [InlineData("permessage-deflate; server_max_window_bits=abc")]
    [InlineData("permessage-deflate; client_max_window_bits=0")]
    [InlineData("permessage-deflate; client_max_window_bits=16")]
    [InlineData("permessage-deflate; client_max_window_bits=abc")]
    [InlineData("permessage-deflate; server_no_context_takeover=1")]
    [InlineData("permessage-deflate; client_no_context_takeover=x")]
    [InlineData("permessage-deflate, permessage-deflate")]                      // two answers
    [InlineData("permessage-deflate; client_max_window_bits=12, permessage-deflate; server_no_context_takeover")]
    [InlineData("x-webkit-deflate-frame")]                                      // not offered
    public void Invalid_answer_fails(string response)
    {
        AssertFails(response, new PerMessageDeflateOptions());
    }

    [Fact]
    public void Missing_server_no_context_takeover_that_was_asked_for_fails()
    {
        var options = new PerMessageDeflateOptions { ServerNoContextTakeover = true };
        AssertFails("permessage-deflate", options);
        AssertFails("permessage-deflate; client_no_context_takeover", options);
        PerMessageDeflateParameters agreed = Validate("permessage-deflate; server_no_context_takeover", options)!;
        Assert.True(agreed.ReceiveNoContextTakeover(WebSocketRole.Client));
    }

    [Fact]
    public void Client_no_context_takeover_is_kept_whether_or_not_answered()
    {
        var options = new PerMessageDeflateOptions { ClientNoContextTakeover = true };
        Assert.True(Validate("permessage-deflate", options)!.SendNoContextTakeover(WebSocketRole.Client));
        Assert.True(Validate("permessage-deflate; client_no_context_takeover", options)!.SendNoContextTakeover(WebSocketRole.Client));

        // A server may impose it even when not offered.
        Assert.True(Validate("permessage-deflate; client_no_context_takeover", new PerMessageDeflateOptions())!.SendNoContextTakeover(WebSocketRole.Client));
        Assert.False(Validate("permessage-deflate", new PerMessageDeflateOptions())!.SendNoContextTakeover(WebSocketRole.Client));
    }

    [Fact]
    public void No_answer_means_no_compression()
    {
        Assert.Null(PerMessageDeflateNegotiation.ValidateResponse([], new PerMessageDeflateOptions()));
        ClientHandshakeResult result = HandshakeWithAnswer(null, new PerMessageDeflateOptions());
        Assert.Null(result.PerMessageDeflate);
        Assert.Empty(result.Extensions);
    }

    [Fact]
    public void Client_takes_the_servers_answer_through_the_handshake()
    {
        ClientHandshakeResult result = HandshakeWithAnswer("permessage-deflate; server_no_context_takeover; client_max_window_bits=10", new PerMessageDeflateOptions());
        Assert.NotNull(result.PerMessageDeflate);
        Assert.True(result.PerMessageDeflate.ServerNoContextTakeover);
        Assert.Equal(10, result.PerMessageDeflate.SendWindowBits(WebSocketRole.Client));
        Assert.Equal("permessage-deflate", Assert.Single(result.Extensions).Name);
    }

    [Theory]
    [InlineData("permessage-deflate; client_max_window_bits=8")]
    [InlineData("permessage-deflate; bogus")]
    [InlineData("permessage-deflate, permessage-deflate")]
    public void Handshake_fails_on_an_unacceptable_answer(string answer)
    {
        Assert.Throws<WebSocketHandshakeException>(() => HandshakeWithAnswer(answer, new PerMessageDeflateOptions()));
    }

    /// <summary>
    /// Our client against our server for every client option combination and several server
    /// configurations: both sides must end up with compatible agreements, and messages must flow both ways.
    /// </summary>
    [Theory]
    [MemberData(nameof(ServerNegotiationTests.ServerConfigurations), MemberType = typeof(ServerNegotiationTests))]
    public void Our_client_and_our_server_agree_on_every_combination(string serverConfiguration)
    {
        PerMessageDeflateOptions server = ServerNegotiationTests.Configuration(serverConfiguration);
        int combinations = 0;
        foreach (bool snct in new[] { false, true })
        {
            foreach (bool cnct in new[] { false, true })
            {
                for (int s = 9; s <= 15; s++)
                {
                    for (int c = 9; c <= 15; c++)
                    {
                        var client = new PerMessageDeflateOptions { ServerNoContextTakeover = snct, ClientNoContextTakeover = cnct, ServerMaxWindowBits = s, ClientMaxWindowBits = c, Threshold = 0 };
                        string offer = PerMessageDeflateNegotiation.CreateOffer(client);
                        Assert.True(PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(offer), server, out PerMessageDeflateParameters? serverSide), offer);
                        PerMessageDeflateParameters? clientSide = PerMessageDeflateNegotiation.ValidateResponse(DeflateKit.Parse(serverSide!.ToHeaderValue()), client);
                        Assert.NotNull(clientSide);
                        string context = $"offer [{offer}] answer [{serverSide}]";

                        // Requests are honoured.
                        Assert.True(!snct || serverSide.SendNoContextTakeover(WebSocketRole.Server), context);
                        Assert.True(serverSide.SendWindowBits(WebSocketRole.Server) <= s, context);
                        Assert.True(clientSide.SendWindowBits(WebSocketRole.Client) <= c, context);
                        Assert.True(!cnct || clientSide.SendNoContextTakeover(WebSocketRole.Client), context);

                        // Each side inflates with a window at least as large as the other compresses with.
                        Assert.True(clientSide.ReceiveWindowBits(WebSocketRole.Client) >= serverSide.SendWindowBits(WebSocketRole.Server), context);
                        Assert.True(serverSide.ReceiveWindowBits(WebSocketRole.Server) >= clientSide.SendWindowBits(WebSocketRole.Client), context);

                        // A side that keeps no context takeover on receive only if the sender resets too.
                        Assert.True(!serverSide.ReceiveNoContextTakeover(WebSocketRole.Server) || clientSide.SendNoContextTakeover(WebSocketRole.Client), context);
                        Assert.True(!clientSide.ReceiveNoContextTakeover(WebSocketRole.Client) || serverSide.SendNoContextTakeover(WebSocketRole.Server), context);

                        Exchange(clientSide, serverSide, context);
                        combinations++;
                    }
                }
            }
        }

        Assert.Equal(196, combinations);
    }

    private static void Exchange(PerMessageDeflateParameters clientSide, PerMessageDeflateParameters serverSide, string context)
    {
        using var client = new WebSocketProtocol(WebSocketRole.Client, null, clientSide);
        using var server = new WebSocketProtocol(WebSocketRole.Server, null, serverSide);
        byte[] block = DeflateKit.RandomBytes(700, 3);
        byte[][] messages = [[.. block, .. block, .. block], DeflateKit.CompressibleText(3000, 4), [.. block, .. block]];
        foreach ((WebSocketProtocol tx, WebSocketProtocol rx) in new[] { (client, server), (server, client) })
        {
            var wire = new ArrayBufferWriter<byte>();
            foreach (byte[] m in messages)
            {
                tx.WriteMessage(wire, WebSocketMessageKind.Binary, m, compress: true);
            }

            Memory<byte> input = wire.WrittenSpan.ToArray();
            var received = new List<byte[]>();
            while (rx.TryReadEvent(input, out int consumed, out WebSocketEvent e))
            {
                input = input[consumed..];
                Assert.True(e.Type == WebSocketEventType.Message, $"{context}: {e.Type} {e.CloseCode} {e.Reason}");
                received.Add(e.Payload.ToArray());
            }

            Assert.Equal(messages.Length, received.Count);
            for (int i = 0; i < messages.Length; i++)
            {
                Assert.True(messages[i].AsSpan().SequenceEqual(received[i]), $"{context}: message {i} differs");
            }
        }
    }

    private static PerMessageDeflateParameters? Validate(string response, PerMessageDeflateOptions options)
        => PerMessageDeflateNegotiation.ValidateResponse(DeflateKit.Parse(response), options);

    private static void AssertFails(string response, PerMessageDeflateOptions options)
    {
        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(() => Validate(response, options));
        Assert.False(string.IsNullOrEmpty(error.Message));
        Assert.Throws<WebSocketHandshakeException>(() => HandshakeWithAnswer(response, options));
    }

    private static ClientHandshakeResult HandshakeWithAnswer(string? extensions, PerMessageDeflateOptions options)
    {
        var handshake = new ClientHandshake(new Uri("ws://example.com/chat"), new ClientHandshakeOptions { PerMessageDeflate = options });
        handshake.BuildRequest();
        var response = new StringBuilder()
            .Append("HTTP/1.1 101 Switching Protocols\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append(CultureInfo.InvariantCulture, $"Sec-WebSocket-Accept: {WebSocketAccept.ComputeAccept(handshake.Key)}\r\n");
        if (extensions is not null)
        {
            response.Append(CultureInfo.InvariantCulture, $"Sec-WebSocket-Extensions: {extensions}\r\n");
        }

        return handshake.ValidateResponse(HandshakeText.ParseResponse(response.Append("\r\n").ToString()));
    }
}
