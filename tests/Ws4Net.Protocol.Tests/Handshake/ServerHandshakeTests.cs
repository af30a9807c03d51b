using System.Buffers;
using Ws4Net.Protocol.Handshake;
using static Ws4Net.Protocol.Tests.Handshake.HandshakeText;

namespace Ws4Net.Protocol.Tests.Handshake;

public class ServerHandshakeTests
{
    private static readonly string[] s_validHeaders =
    [
        "Host: server.example.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + SampleKey,
        "Sec-WebSocket-Version: 13",
    ];

    /// <summary>A valid request with the headers starting with <paramref name="omit"/> removed and <paramref name="extra"/> appended.</summary>
    private static HttpRequestHead ValidRequest(string? omit = null, params string[] extra) =>
        ParseRequest(Request(
            "GET /chat HTTP/1.1",
            [.. s_validHeaders.Where(h => omit is null || !h.StartsWith(omit + ":", StringComparison.OrdinalIgnoreCase)), .. extra]));

    private static ServerHandshakeResult Negotiate(HttpRequestHead request, ServerHandshakeOptions? options = null) =>
        ServerHandshake.Negotiate(request, options ?? new ServerHandshakeOptions());

    [Fact]
    public void AcceptsTheRfcSampleAndWritesTheExactResponse()
    {
        ServerHandshakeOptions options = new() { Subprotocols = { "chat" } };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ParseRequest(SampleRequest), options);

        Assert.True(result.IsWebSocketRequest);
        Assert.True(result.IsAccepted);
        Assert.Equal(101, result.StatusCode);
        Assert.Equal("Switching Protocols", result.Reason);
        Assert.Equal(SampleKey, result.Key);
        Assert.Equal(SampleAccept, result.Accept);
        Assert.Equal("chat", result.Subprotocol);
        Assert.Equal(["chat", "superchat"], result.RequestedSubprotocols);
        Assert.Empty(result.ExtensionOffers);
        Assert.Null(result.ExtensionsResponse);
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Protocol: chat\r\n" +
            "\r\n",
            AsText(ServerHandshake.WriteResponse(result)));
    }

    [Fact]
    public void AcceptedResponseWithoutSubprotocolOrExtensions()
    {
        ServerHandshakeResult result = Negotiate(ValidRequest());

        Assert.True(result.IsAccepted);
        Assert.Null(result.Subprotocol);
        Assert.Empty(result.RequestedSubprotocols);
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
            AsText(ServerHandshake.WriteResponse(result)));
    }

    [Fact]
    public void BufferWriterOverloadWritesTheSameBytes()
    {
        ServerHandshakeResult accepted = Negotiate(ValidRequest());
        ServerHandshakeResult rejected = Negotiate(ValidRequest("Host"));
        ArrayBufferWriter<byte> writer = new(1);

        ServerHandshake.WriteResponse(accepted, writer);
        Assert.Equal(ServerHandshake.WriteResponse(accepted), writer.WrittenSpan.ToArray());

        writer.Clear();
        ServerHandshake.WriteResponse(rejected, writer);
        Assert.Equal(ServerHandshake.WriteResponse(rejected), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void AcceptsFirefoxStyleConnectionHeader()
    {
        HttpRequestHead request = ParseRequest(Request(
            "GET /socket?token=abc HTTP/1.1",
            "Host: localhost:8080",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Accept: */*",
            "Sec-WebSocket-Version: 13",
            "Origin: http://localhost:8080",
            "Sec-WebSocket-Extensions: permessage-deflate",
            "Sec-WebSocket-Key: " + SampleKey,
            "Connection: keep-alive, Upgrade",
            "Pragma: no-cache",
            "Upgrade: websocket"));

        ServerHandshakeResult result = Negotiate(request);

        Assert.True(result.IsAccepted, result.Reason);
        Assert.Equal("permessage-deflate", Assert.Single(result.ExtensionOffers).Name);
        Assert.Null(result.ExtensionsResponse);
    }

    [Fact]
    public void TokenValuesAndHeaderNamesAreCaseInsensitive()
    {
        HttpRequestHead request = ParseRequest(Request(
            "GET / HTTP/1.1",
            "host: a",
            "upgrade: WebSocket",
            "CONNECTION: UPGRADE",
            "sec-websocket-key: " + SampleKey,
            "SEC-WEBSOCKET-VERSION: 13"));

        Assert.True(Negotiate(request).IsAccepted);
    }

    [Theory]
    [InlineData("POST /chat HTTP/1.1", "WebSocket upgrade requires GET.")]
    [InlineData("get /chat HTTP/1.1", "WebSocket upgrade requires GET.")]
    [InlineData("HEAD /chat HTTP/1.1", "WebSocket upgrade requires GET.")]
    [InlineData("GET /chat HTTP/1.0", "WebSocket upgrade requires HTTP/1.1.")]
    public void RejectsWrongMethodOrVersion(string requestLine, string reason)
    {
        ServerHandshakeResult result = Negotiate(ParseRequest(Request(requestLine, s_validHeaders)));

        Assert.False(result.IsAccepted);
        Assert.True(result.IsWebSocketRequest);
        Assert.Equal(400, result.StatusCode);
        Assert.Equal(reason, result.Reason);
        Assert.Null(result.Accept);
    }

    [Theory]
    [InlineData("Host", new string[0], "Missing Host header.")]
    [InlineData(null, new[] { "Host: other.example.com" }, "Duplicate Host header.")]
    [InlineData("Host", new[] { "Host:" }, "Empty Host header.")]
    [InlineData("Connection", new string[0], "The Connection header must contain the 'Upgrade' token.")]
    [InlineData("Connection", new[] { "Connection: keep-alive" }, "The Connection header must contain the 'Upgrade' token.")]
    [InlineData("Connection", new[] { "Connection: Upgraded" }, "The Connection header must contain the 'Upgrade' token.")]
    [InlineData("Sec-WebSocket-Key", new string[0], "Missing Sec-WebSocket-Key header.")]
    [InlineData(null, new[] { "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==" }, "Duplicate Sec-WebSocket-Key header.")]
    [InlineData("Sec-WebSocket-Key", new[] { "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O" }, "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.")]
    [InlineData("Sec-WebSocket-Key", new[] { "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=" }, "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.")]
    [InlineData("Sec-WebSocket-Key", new[] { "Sec-WebSocket-Key: not base64 at all!!!!!" }, "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.")]
    [InlineData("Sec-WebSocket-Key", new[] { "Sec-WebSocket-Key:" }, "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.")]
    [InlineData("Sec-WebSocket-Version", new string[0], "Missing Sec-WebSocket-Version header.")]
    [InlineData(null, new[] { "Sec-WebSocket-Version: 13" }, "Duplicate Sec-WebSocket-Version header.")]
    [InlineData(null, new[] { "Content-Length: 5" }, "A WebSocket upgrade request must not have a body (Content-Length or Transfer-Encoding).")]
    [InlineData(null, new[] { "Content-Length: 0", "Content-Length: 0" }, "A WebSocket upgrade request must not have a body (Content-Length or Transfer-Encoding).")]
    [InlineData(null, new[] { "Transfer-Encoding: chunked" }, "A WebSocket upgrade request must not have a body (Content-Length or Transfer-Encoding).")]
    [InlineData(null, new[] { "Sec-WebSocket-Protocol:" }, "Malformed Sec-WebSocket-Protocol header: it lists no subprotocol.")]
    [InlineData(null, new[] { "Sec-WebSocket-Protocol: chat v2" }, "Malformed Sec-WebSocket-Protocol header: every subprotocol must be a token.")]
    [InlineData(null, new[] { "Sec-WebSocket-Protocol: chat, \"v2\"" }, "Malformed Sec-WebSocket-Protocol header: every subprotocol must be a token.")]
    [InlineData(null, new[] { "Sec-WebSocket-Extensions: foo bar" }, "Malformed Sec-WebSocket-Extensions header.")]
    [InlineData(null, new[] { "Sec-WebSocket-Extensions: foo", "Sec-WebSocket-Extensions:" }, "Malformed Sec-WebSocket-Extensions header.")]
    public void RejectsInvalidWebSocketRequestsWith400(string? omit, string[] extra, string reason)
    {
        ServerHandshakeResult result = Negotiate(ValidRequest(omit, extra));

        Assert.False(result.IsAccepted);
        Assert.True(result.IsWebSocketRequest);
        Assert.Equal(400, result.StatusCode);
        Assert.Equal(reason, result.Reason);
        Assert.Null(result.Accept);
        Assert.Null(result.Subprotocol);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", AsText(ServerHandshake.WriteResponse(result)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Upgrade: h2c")]
    [InlineData("Upgrade: websockets")]
    [InlineData("Upgrade: websocket/13")]
    [InlineData("Upgrade:")]
    public void RequestsWithoutWebSocketUpgradeAreFlaggedForFallback(string? upgrade)
    {
        ServerHandshakeResult result = Negotiate(upgrade is null ? ValidRequest("Upgrade") : ValidRequest("Upgrade", upgrade));

        Assert.False(result.IsWebSocketRequest);
        Assert.False(result.IsAccepted);
        Assert.Equal(400, result.StatusCode);
        Assert.Equal("Missing or invalid Upgrade header: expected 'websocket'.", result.Reason);
    }

    [Fact]
    public void EmptyContentLengthIsAllowed()
    {
        Assert.True(Negotiate(ValidRequest(null, "Content-Length: 0")).IsAccepted);
    }

    [Fact]
    public void PlainHttpRequestIsNotAWebSocketRequest()
    {
        ServerHandshakeResult result = Negotiate(ParseRequest(Request("GET /index.html HTTP/1.1", "Host: a", "Accept: text/html")));

        Assert.False(result.IsWebSocketRequest);
        Assert.False(result.IsAccepted);
    }

    [Fact]
    public void UpgradeListContainingWebsocketIsAccepted()
    {
        Assert.True(Negotiate(ValidRequest("Upgrade", "Upgrade: foo/2, websocket")).IsAccepted);
    }

    [Fact]
    public void RejectionResponseHasExactBytes()
    {
        ServerHandshakeResult result = Negotiate(ParseRequest(Request("POST /chat HTTP/1.1", s_validHeaders)));

        Assert.Equal(
            "HTTP/1.1 400 Bad Request\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: 32\r\n" +
            "Connection: close\r\n" +
            "\r\n" +
            "WebSocket upgrade requires GET.\n",
            AsText(ServerHandshake.WriteResponse(result)));
    }

    [Theory]
    [InlineData("8")]
    [InlineData("12")]
    [InlineData("14")]
    [InlineData("13, 8")]
    [InlineData("")]
    public void UnsupportedVersionIsRejectedWith426AndAdvertisesVersion13(string version)
    {
        ServerHandshakeResult result = Negotiate(ValidRequest("Sec-WebSocket-Version", $"Sec-WebSocket-Version: {version}"));

        Assert.False(result.IsAccepted);
        Assert.True(result.IsWebSocketRequest);
        Assert.Equal(426, result.StatusCode);
        string body = result.Reason + "\n";
        Assert.Equal(
            "HTTP/1.1 426 Upgrade Required\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            $"Content-Length: {body.Length}\r\n" +
            "Connection: Upgrade, close\r\n" +
            "Upgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "\r\n" +
            body,
            AsText(ServerHandshake.WriteResponse(result)));
    }

    [Fact]
    public void RejectionResponseIsWellFormedAndContentLengthMatchesBody()
    {
        ServerHandshakeResult result = Negotiate(ValidRequest("Upgrade"));
        byte[] response = ServerHandshake.WriteResponse(result);

        HttpHeadParseResult<HttpResponseHead> parsed = HttpHeadParser.ParseResponse(response, new HttpHeadLimits());
        Assert.True(parsed.IsComplete);
        Assert.Equal(400, parsed.Head.StatusCode);
        Assert.Equal("Bad Request", parsed.Head.ReasonPhrase);
        Assert.Equal(["close"], parsed.Head.Headers.GetValues("Connection"));
        Assert.Empty(parsed.Head.Headers.GetValues("Sec-WebSocket-Version"));
        int contentLength = int.Parse(parsed.Head.Headers.GetValues("Content-Length")[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(response.Length - parsed.Consumed, contentLength);
        Assert.Equal(result.Reason + "\n", AsText(response.AsSpan(parsed.Consumed)));
    }

    [Theory]
    [InlineData("https://good.example", true)]
    [InlineData("HTTPS://GOOD.EXAMPLE", true)]
    [InlineData("https://other.example", false)]
    [InlineData("https://good.example.evil", false)]
    [InlineData("null", false)]
    [InlineData(null, false)]
    public void AllowedOriginsAreEnforcedWith403(string? origin, bool accepted)
    {
        ServerHandshakeOptions options = new() { AllowedOrigins = { "https://good.example", "http://localhost:8080" } };
        HttpRequestHead request = origin is null ? ValidRequest() : ValidRequest(null, $"Origin: {origin}");

        ServerHandshakeResult result = ServerHandshake.Negotiate(request, options);

        Assert.Equal(accepted, result.IsAccepted);
        if (!accepted)
        {
            Assert.Equal(403, result.StatusCode);
            Assert.True(result.IsWebSocketRequest);
            Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", AsText(ServerHandshake.WriteResponse(result)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void DuplicateOriginIsRejectedWhenOriginsAreRestricted()
    {
        ServerHandshakeOptions options = new() { AllowedOrigins = { "https://good.example" } };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ValidRequest(null, "Origin: https://good.example", "Origin: https://good.example"), options);

        Assert.Equal(403, result.StatusCode);
    }

    [Fact]
    public void RequireOriginRejectsRequestsWithoutOrigin()
    {
        ServerHandshakeOptions options = new() { RequireOrigin = true };

        Assert.Equal(403, ServerHandshake.Negotiate(ValidRequest(), options).StatusCode);
        Assert.True(ServerHandshake.Negotiate(ValidRequest(null, "Origin: https://any.example"), options).IsAccepted);
        Assert.True(Negotiate(ValidRequest()).IsAccepted);
    }

    [Fact]
    public void SelectsSubprotocolInServerPreferenceOrder()
    {
        ServerHandshakeOptions options = new() { Subprotocols = { "c", "b" } };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: a, b, c"), options);

        Assert.Equal("c", result.Subprotocol);
        Assert.Equal(["a", "b", "c"], result.RequestedSubprotocols);
        Assert.Contains("Sec-WebSocket-Protocol: c\r\n", AsText(ServerHandshake.WriteResponse(result)), StringComparison.Ordinal);
    }

    [Fact]
    public void CombinesRepeatedSubprotocolHeaders()
    {
        ServerHandshakeOptions options = new() { Subprotocols = { "b" } };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: a", "Sec-WebSocket-Protocol: b"), options);

        Assert.Equal(["a", "b"], result.RequestedSubprotocols);
        Assert.Equal("b", result.Subprotocol);
    }

    [Fact]
    public void NoSubprotocolWhenNoneMatchesOrNoneOffered()
    {
        ServerHandshakeOptions options = new() { Subprotocols = { "chat" } };

        ServerHandshakeResult noneOffered = ServerHandshake.Negotiate(ValidRequest(), options);
        ServerHandshakeResult noMatch = ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: superchat, Chat"), options);

        Assert.True(noneOffered.IsAccepted);
        Assert.Null(noneOffered.Subprotocol);
        Assert.True(noMatch.IsAccepted);
        Assert.Null(noMatch.Subprotocol);
        Assert.DoesNotContain("Sec-WebSocket-Protocol", AsText(ServerHandshake.WriteResponse(noMatch)), StringComparison.Ordinal);
    }

    [Fact]
    public void SelectorReceivesTheClientListAndTakesPrecedence()
    {
        IReadOnlyList<string>? seen = null;
        ServerHandshakeOptions options = new()
        {
            Subprotocols = { "a" },
            SubprotocolSelector = offered =>
            {
                seen = offered;
                return "b";
            },
        };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: a, b"), options);

        Assert.Equal(["a", "b"], seen);
        Assert.Equal("b", result.Subprotocol);
    }

    [Fact]
    public void SelectorMayDeclineAndIsNotCalledWithoutOffers()
    {
        int calls = 0;
        ServerHandshakeOptions options = new()
        {
            SubprotocolSelector = _ =>
            {
                calls++;
                return null;
            },
        };

        Assert.Null(ServerHandshake.Negotiate(ValidRequest(), options).Subprotocol);
        Assert.Equal(0, calls);
        Assert.Null(ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: a"), options).Subprotocol);
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData("c")]
    [InlineData("A")]
    [InlineData("a, b")]
    [InlineData("")]
    public void SelectorReturningAnUnofferedValueThrows(string returned)
    {
        ServerHandshakeOptions options = new() { SubprotocolSelector = _ => returned };

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(
            () => ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Protocol: a, b"), options));
        Assert.Contains("did not offer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtensionNegotiatorReceivesOffersAndItsAnswerIsWritten()
    {
        IReadOnlyList<WebSocketExtensionOffer>? seen = null;
        ServerHandshakeOptions options = new()
        {
            ExtensionNegotiator = offers =>
            {
                seen = offers;
                return "permessage-deflate; server_no_context_takeover";
            },
        };
        HttpRequestHead request = ValidRequest(
            null,
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo",
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"10\"");

        ServerHandshakeResult result = ServerHandshake.Negotiate(request, options);

        Assert.True(result.IsAccepted);
        Assert.Equal(
            ["permessage-deflate; client_max_window_bits", "x-foo", "permessage-deflate; server_max_window_bits=10"],
            seen!.Select(o => o.ToString()));
        Assert.Same(seen, result.ExtensionOffers);
        Assert.Equal("permessage-deflate; server_no_context_takeover", result.ExtensionsResponse);
        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
            AsText(ServerHandshake.WriteResponse(result)));
    }

    [Fact]
    public void BothSubprotocolAndExtensionsAreWrittenInOrder()
    {
        ServerHandshakeOptions options = new() { Subprotocols = { "chat" }, ExtensionNegotiator = _ => "x-foo" };

        ServerHandshakeResult result = ServerHandshake.Negotiate(
            ValidRequest(null, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: x-foo"),
            options);

        Assert.EndsWith(
            "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: x-foo\r\n\r\n",
            AsText(ServerHandshake.WriteResponse(result)),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void ExtensionNegotiatorMayAcceptNone(string? answer)
    {
        ServerHandshakeOptions options = new() { ExtensionNegotiator = _ => answer };

        ServerHandshakeResult result = ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Extensions: x-foo"), options);

        Assert.True(result.IsAccepted);
        Assert.Null(result.ExtensionsResponse);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", AsText(ServerHandshake.WriteResponse(result)), StringComparison.Ordinal);
    }

    [Fact]
    public void ExtensionNegotiatorIsNotCalledWithoutOffers()
    {
        ServerHandshakeOptions options = new() { ExtensionNegotiator = _ => throw new InvalidCastException("must not be called") };

        Assert.True(ServerHandshake.Negotiate(ValidRequest(), options).IsAccepted);
    }

    [Theory]
    [InlineData("x-bar")]
    [InlineData("x-foo, x-bar")]
    [InlineData("x-foo; a=\"b c\"")]
    [InlineData("x-foo\r\nSet-Cookie: a=b")]
    public void ExtensionNegotiatorReturningAnInvalidAnswerThrows(string answer)
    {
        ServerHandshakeOptions options = new() { ExtensionNegotiator = _ => answer };

        Assert.Throws<InvalidOperationException>(
            () => ServerHandshake.Negotiate(ValidRequest(null, "Sec-WebSocket-Extensions: x-foo"), options));
    }

    [Fact]
    public void RejectsNullArguments()
    {
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.Negotiate((HttpRequestHead)null!, new ServerHandshakeOptions()));
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.Negotiate((ServerHandshakeRequest)null!, new ServerHandshakeOptions()));
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.Negotiate(ValidRequest(), null!));
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.WriteResponse(null!));
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.WriteResponse(null!, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentNullException>(() => ServerHandshake.WriteResponse(Negotiate(ValidRequest()), null!));
    }
}
