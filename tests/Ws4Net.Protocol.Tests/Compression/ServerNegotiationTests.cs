using System.Buffers;
using System.Globalization;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Protocol.Tests.Handshake;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Server side of the permessage-deflate negotiation (RFC 7692 §5, §7.1): every combination of offer
/// parameters against several server configurations, exact response headers, declined offers and the
/// fallback to the next offer in the client's preference order.
/// </summary>
public sealed class ServerNegotiationTests
{
    public static TheoryData<string> ServerConfigurations => new()
    {
        "default", "server10", "client10", "server9-client12", "server-no-takeover", "client-no-takeover", "pooled", "smallest", "tuned",
    };

    [Theory]
    [MemberData(nameof(ServerConfigurations))]
    public void Every_offer_combination_is_answered_as_RFC7692_says(string configuration)
    {
        PerMessageDeflateOptions options = Configuration(configuration);
        var mismatches = new List<string>();
        int accepted = 0;
        int declined = 0;
        foreach (Offer offer in AllOffers())
        {
            string header = offer.Render();
            bool ok = PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(header), options, out PerMessageDeflateParameters? agreed);
            Expectation? expected = Expect(offer, options);
            if (expected is null)
            {
                declined++;
                if (ok)
                {
                    mismatches.Add($"[{header}] should be declined, was answered [{agreed}]");
                }

                continue;
            }

            accepted++;
            if (!ok || agreed is null)
            {
                mismatches.Add($"[{header}] should be answered [{expected.Header}], was declined");
                continue;
            }

            string actual = agreed.ToHeaderValue();
            if (actual != expected.Header)
            {
                mismatches.Add($"[{header}] answered [{actual}], expected [{expected.Header}]");
            }

            // What each engine will do with the agreement.
            if (agreed.SendNoContextTakeover(WebSocketRole.Server) != expected.ServerNoContextTakeover
                || agreed.ReceiveNoContextTakeover(WebSocketRole.Server) != expected.ClientNoContextTakeover
                || agreed.SendWindowBits(WebSocketRole.Server) != expected.ServerCompressBits
                || agreed.ReceiveWindowBits(WebSocketRole.Server) != expected.ServerInflateBits)
            {
                mismatches.Add($"[{header}] agreement behaves as send-nct={agreed.SendNoContextTakeover(WebSocketRole.Server)} recv-nct={agreed.ReceiveNoContextTakeover(WebSocketRole.Server)} send-bits={agreed.SendWindowBits(WebSocketRole.Server)} recv-bits={agreed.ReceiveWindowBits(WebSocketRole.Server)}, expected {expected}");
            }

            if (agreed.CompressionLevel != options.CompressionLevel || agreed.MemoryLevel != options.MemoryLevel || agreed.Threshold != options.Threshold)
            {
                mismatches.Add($"[{header}] did not carry the server's level/memLevel/threshold");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {accepted + declined} offers mishandled:\n" + string.Join('\n', mismatches.Take(25)));
        Assert.Equal(360, accepted + declined);
        Assert.Equal(40, declined);   // exactly the offers with server_max_window_bits=8
    }

    /// <summary>Hand-written rows (offer, configuration, exact response or "declined").</summary>
    [Theory]
    [InlineData("permessage-deflate", "default", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "default", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "client10", "permessage-deflate; client_max_window_bits=10")]
    [InlineData("permessage-deflate", "client10", "permessage-deflate")]   // MUST NOT answer client_max_window_bits unless offered
    [InlineData("permessage-deflate; client_max_window_bits=12", "default", "permessage-deflate; client_max_window_bits=12")]
    [InlineData("permessage-deflate; client_max_window_bits=12", "client10", "permessage-deflate; client_max_window_bits=10")]
    [InlineData("permessage-deflate; client_max_window_bits=9", "client10", "permessage-deflate; client_max_window_bits=9")]
    [InlineData("permessage-deflate; client_max_window_bits=8", "default", "permessage-deflate; client_max_window_bits=8")]
    [InlineData("permessage-deflate; server_max_window_bits=12", "default", "permessage-deflate; server_max_window_bits=12")]
    [InlineData("permessage-deflate; server_max_window_bits=12", "server10", "permessage-deflate; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=9", "server10", "permessage-deflate; server_max_window_bits=9")]
    [InlineData("permessage-deflate; server_max_window_bits=15", "default", "permessage-deflate; server_max_window_bits=15")]
    [InlineData("permessage-deflate", "server10", "permessage-deflate; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=8", "default", null)]
    [InlineData("permessage-deflate; server_max_window_bits=8", "smallest", null)]
    [InlineData("permessage-deflate; server_no_context_takeover", "default", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover", "default", "permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate", "server-no-takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate", "client-no-takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate; client_max_window_bits", "pooled", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    [InlineData("permessage-deflate; client_max_window_bits", "smallest", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9")]
    [InlineData("permessage-deflate", "smallest", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9")]
    [InlineData("permessage-deflate; client_max_window_bits=11; server_max_window_bits=13; client_no_context_takeover; server_no_context_takeover", "server9-client12",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11")]
    [InlineData("PerMessage-Deflate; Client_Max_Window_Bits", "client10", "permessage-deflate; client_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=\"10\"", "default", "permessage-deflate; server_max_window_bits=10")]   // quoted-string form, RFC 7692 §7.1
    [InlineData("permessage-deflate; client_max_window_bits=\"12\"", "default", "permessage-deflate; client_max_window_bits=12")]
    public void Table(string offers, string configuration, string? expected)
    {
        bool ok = PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(offers), Configuration(configuration), out PerMessageDeflateParameters? agreed);
        if (expected is null)
        {
            Assert.False(ok, $"accepted as [{agreed}]");
            Assert.Null(agreed);
            return;
        }

        Assert.True(ok, "declined");
        Assert.Equal(expected, agreed!.ToHeaderValue());
        Assert.Equal(expected, agreed.ToString());
    }

    public static TheoryData<string> InvalidOffers => new()
    {
        "permessage-deflate; foo",                                                   // unknown parameter
        "permessage-deflate; foo=1",
        "permessage-deflate; mux",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover", // duplicates
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=0",                              // invalid values
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=09",
        "permessage-deflate; server_max_window_bits=015",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=100",
        "permessage-deflate; server_max_window_bits",                                // needs a value
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=09",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; client_max_window_bits=\"abc\"",
        "permessage-deflate; server_no_context_takeover=1",                          // value on a no-value parameter
        "permessage-deflate; client_no_context_takeover=true",
        "permessage-deflate; server_no_context_takeover=\"x\"",
        "permessage-deflate; server_max_window_bits=8",                              // valid, but zlib cannot compress with 8 bits
        "permessage-deflate; client_max_window_bits; server_max_window_bits=8; server_no_context_takeover",
    };

    [Theory]
    [MemberData(nameof(InvalidOffers))]
    public void Invalid_offer_is_declined_and_the_next_offer_is_taken(string invalid)
    {
        var options = new PerMessageDeflateOptions();
        Assert.False(PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(invalid), options, out PerMessageDeflateParameters? none));
        Assert.Null(none);

        // The same offer followed by a valid one: the valid one is answered.
        Assert.True(PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(invalid + ", permessage-deflate; client_max_window_bits=12"), options, out PerMessageDeflateParameters? next));
        Assert.Equal("permessage-deflate; client_max_window_bits=12", next!.ToHeaderValue());

        // Through the handshake: 101 without the extension, or with the fallback offer.
        (ServerHandshakeResult declined, string declinedResponse) = Handshake(invalid, options);
        Assert.True(declined.IsAccepted);
        Assert.Null(declined.PerMessageDeflate);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", declinedResponse, StringComparison.OrdinalIgnoreCase);

        (ServerHandshakeResult fallback, string fallbackResponse) = Handshake(invalid + ", permessage-deflate; client_max_window_bits=12", options);
        Assert.True(fallback.IsAccepted);
        Assert.NotNull(fallback.PerMessageDeflate);
        Assert.Contains("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n", fallbackResponse, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=10, permessage-deflate; server_max_window_bits=12, permessage-deflate", "permessage-deflate; server_max_window_bits=10")]
    [InlineData("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=12, permessage-deflate", "permessage-deflate; server_max_window_bits=12")]
    [InlineData("permessage-deflate; server_max_window_bits=8; client_max_window_bits, permessage-deflate; client_max_window_bits", "permessage-deflate")]
    [InlineData("x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("x-webkit-deflate-frame; no_context_takeover, permessage-deflate; bogus, permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    public void Offers_are_tried_in_the_clients_preference_order(string offers, string expected)
    {
        Assert.True(PerMessageDeflateNegotiation.TryAccept(DeflateKit.Parse(offers), new PerMessageDeflateOptions(), out PerMessageDeflateParameters? agreed));
        Assert.Equal(expected, agreed!.ToHeaderValue());

        (ServerHandshakeResult result, string response) = Handshake(offers, new PerMessageDeflateOptions());
        Assert.Equal(expected, result.PerMessageDeflate!.ToHeaderValue());
        Assert.Equal(expected, result.ExtensionsResponse);
        Assert.Contains($"\r\nSec-WebSocket-Extensions: {expected}\r\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Offers_split_over_several_header_lines_keep_their_order()
    {
        string request = Request(null).Replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=11\r\n\r\n", StringComparison.Ordinal);
        ServerHandshakeResult result = ServerHandshake.Negotiate(HandshakeText.ParseRequest(request), new ServerHandshakeOptions { PerMessageDeflate = new PerMessageDeflateOptions() });
        Assert.True(result.IsAccepted);
        Assert.Equal("permessage-deflate; server_max_window_bits=11", result.ExtensionsResponse);
    }

    [Fact]
    public void Server_without_deflate_options_never_answers_the_extension()
    {
        (ServerHandshakeResult result, string response) = Handshake("permessage-deflate; client_max_window_bits", null);
        Assert.True(result.IsAccepted);
        Assert.Null(result.PerMessageDeflate);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Request_without_offers_gets_no_extension()
    {
        (ServerHandshakeResult result, string response) = Handshake(null, new PerMessageDeflateOptions());
        Assert.True(result.IsAccepted);
        Assert.Null(result.PerMessageDeflate);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Chromium_offer_is_accepted_with_the_defaults()
    {
        // What Chromium, Firefox and .NET's ClientWebSocket send.
        (ServerHandshakeResult result, string response) = Handshake("permessage-deflate; client_max_window_bits", new PerMessageDeflateOptions());
        Assert.Contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n", response, StringComparison.Ordinal);
        Assert.Equal(15, result.PerMessageDeflate!.SendWindowBits(WebSocketRole.Server));
        Assert.Equal(15, result.PerMessageDeflate.ReceiveWindowBits(WebSocketRole.Server));
        Assert.False(result.PerMessageDeflate.ServerNoContextTakeover);
        Assert.False(result.PerMessageDeflate.ClientNoContextTakeover);
    }

    // ---------------------------------------------------------------------------------------------

    internal static PerMessageDeflateOptions Configuration(string name) => name switch
    {
        "default" => new PerMessageDeflateOptions(),
        "server10" => new PerMessageDeflateOptions { ServerMaxWindowBits = 10 },
        "client10" => new PerMessageDeflateOptions { ClientMaxWindowBits = 10 },
        "server9-client12" => new PerMessageDeflateOptions { ServerMaxWindowBits = 9, ClientMaxWindowBits = 12 },
        "server-no-takeover" => new PerMessageDeflateOptions { ServerNoContextTakeover = true },
        "client-no-takeover" => new PerMessageDeflateOptions { ClientNoContextTakeover = true },
        "pooled" => new PerMessageDeflateOptions { ServerNoContextTakeover = true, ClientNoContextTakeover = true },
        "smallest" => new PerMessageDeflateOptions { ServerNoContextTakeover = true, ClientNoContextTakeover = true, ServerMaxWindowBits = 9, ClientMaxWindowBits = 9 },
        "tuned" => new PerMessageDeflateOptions { CompressionLevel = 3, MemoryLevel = 5, Threshold = 77, ServerMaxWindowBits = 14, ClientMaxWindowBits = 13 },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    /// <summary>One offer: each parameter present or not, windows absent or 8-15 (client_max_window_bits also without a value).</summary>
    internal sealed record Offer(bool ServerNoContextTakeover, bool ClientNoContextTakeover, int? ServerMaxWindowBits, bool ClientMaxWindowBitsPresent, int? ClientMaxWindowBits)
    {
        public string Render()
        {
            var builder = new StringBuilder("permessage-deflate");
            if (ServerNoContextTakeover)
            {
                builder.Append("; server_no_context_takeover");
            }

            if (ClientNoContextTakeover)
            {
                builder.Append("; client_no_context_takeover");
            }

            if (ServerMaxWindowBits is { } s)
            {
                builder.Append(CultureInfo.InvariantCulture, $"; server_max_window_bits={s}");
            }

            if (ClientMaxWindowBitsPresent)
            {
                builder.Append("; client_max_window_bits");
                if (ClientMaxWindowBits is { } c)
                {
                    builder.Append(CultureInfo.InvariantCulture, $"={c}");
                }
            }

            return builder.ToString();
        }
    }

    internal sealed record Expectation(string Header, bool ServerNoContextTakeover, bool ClientNoContextTakeover, int ServerCompressBits, int ServerInflateBits);

    internal static IEnumerable<Offer> AllOffers()
    {
        int?[] serverBits = [null, 8, 9, 10, 11, 12, 13, 14, 15];
        foreach (bool snct in new[] { false, true })
        {
            foreach (bool cnct in new[] { false, true })
            {
                foreach (int? s in serverBits)
                {
                    yield return new Offer(snct, cnct, s, false, null);
                    yield return new Offer(snct, cnct, s, true, null);
                    for (int c = 8; c <= 15; c++)
                    {
                        yield return new Offer(snct, cnct, s, true, c);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The answer RFC 7692 §7.1 calls for, with this library's documented choices: the server honours every
    /// request, answers its own limits when below 15, echoes client_no_context_takeover, and declines a
    /// server window of 8 bits (zlib cannot produce it). Null means "declined".
    /// </summary>
    internal static Expectation? Expect(Offer offer, PerMessageDeflateOptions options)
    {
        // §7.1.1.1 / §7.1.1.2: a requested no_context_takeover must be in the answer; the server may add its own.
        bool snct = offer.ServerNoContextTakeover || options.ServerNoContextTakeover;
        bool cnct = offer.ClientNoContextTakeover || options.ClientNoContextTakeover;

        // §7.1.2.1: the answer carries server_max_window_bits <= the requested value; without a request the
        // server may still state a smaller window of its own.
        int? answeredServer = null;
        if (offer.ServerMaxWindowBits is { } requested)
        {
            int bits = Math.Min(requested, options.ServerMaxWindowBits);
            if (bits < 9)
            {
                return null;
            }

            answeredServer = bits;
        }
        else if (options.ServerMaxWindowBits < 15)
        {
            answeredServer = options.ServerMaxWindowBits;
        }

        // §7.1.2.2: client_max_window_bits may be answered only when offered; with a value, not above it.
        int? answeredClient = null;
        if (offer.ClientMaxWindowBitsPresent)
        {
            if (offer.ClientMaxWindowBits is { } hint)
            {
                answeredClient = Math.Min(hint, options.ClientMaxWindowBits);
            }
            else if (options.ClientMaxWindowBits < 15)
            {
                answeredClient = options.ClientMaxWindowBits;
            }
        }

        var header = new StringBuilder("permessage-deflate");
        if (snct)
        {
            header.Append("; server_no_context_takeover");
        }

        if (cnct)
        {
            header.Append("; client_no_context_takeover");
        }

        if (answeredServer is { } sb)
        {
            header.Append(CultureInfo.InvariantCulture, $"; server_max_window_bits={sb}");
        }

        if (answeredClient is { } cb)
        {
            header.Append(CultureInfo.InvariantCulture, $"; client_max_window_bits={cb}");
        }

        // The server inflates with the answered client window, else 15 (an 8-bit window is inflated with 9
        // bits, which decodes it too).
        return new Expectation(header.ToString(), snct, cnct, answeredServer ?? 15, Math.Max(9, answeredClient ?? 15));
    }

    internal static string Request(string? extensions)
    {
        var request = new StringBuilder()
            .Append("GET /chat HTTP/1.1\r\n")
            .Append("Host: server.example.com\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append(CultureInfo.InvariantCulture, $"Sec-WebSocket-Key: {HandshakeText.SampleKey}\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (extensions is not null)
        {
            request.Append(CultureInfo.InvariantCulture, $"Sec-WebSocket-Extensions: {extensions}\r\n");
        }

        return request.Append("\r\n").ToString();
    }

    internal static (ServerHandshakeResult Result, string Response) Handshake(string? extensions, PerMessageDeflateOptions? options)
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(HandshakeText.ParseRequest(Request(extensions)), new ServerHandshakeOptions { PerMessageDeflate = options });
        var output = new ArrayBufferWriter<byte>();
        ServerHandshake.WriteResponse(result, output);
        return (result, Encoding.Latin1.GetString(output.WrittenSpan));
    }
}
