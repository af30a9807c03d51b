using System.Buffers;
using Ws4Net.Protocol.Handshake;
using static Ws4Net.Protocol.Tests.Handshake.HandshakeText;

namespace Ws4Net.Protocol.Tests.Handshake;

public class ClientHandshakeTests
{
    private const string AcceptedHead =
        "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

    private static ClientHandshake Create(string uri, ClientHandshakeOptions? options = null) =>
        new(new Uri(uri), options ?? new ClientHandshakeOptions(), SampleKey);

    private static string RequestText(string uri, ClientHandshakeOptions? options = null) => AsText(Create(uri, options).BuildRequest());

    private static HttpResponseHead Response(params string[] extraHeaderLines) =>
        ParseResponse(AcceptedHead + string.Concat(extraHeaderLines.Select(line => line + "\r\n")) + "\r\n");

    [Fact]
    public void WritesTheRfcSampleRequestExactly()
    {
        ClientHandshakeOptions options = new() { Origin = "http://example.com", Subprotocols = { "chat", "superchat" } };

        Assert.Equal(
            "GET /chat HTTP/1.1\r\n" +
            "Host: server.example.com\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "Origin: http://example.com\r\n" +
            "Sec-WebSocket-Protocol: chat, superchat\r\n" +
            "\r\n",
            RequestText("ws://server.example.com/chat", options));
    }

    [Fact]
    public void WritesAMinimalRequestExactly()
    {
        Assert.Equal(
            "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            RequestText("ws://example.com"));
    }

    [Theory]
    [InlineData("ws://example.com/", "example.com")]
    [InlineData("ws://example.com:80/", "example.com")]
    [InlineData("ws://example.com:443/", "example.com:443")]
    [InlineData("ws://example.com:8080/", "example.com:8080")]
    [InlineData("wss://example.com/", "example.com")]
    [InlineData("wss://example.com:443/", "example.com")]
    [InlineData("wss://example.com:80/", "example.com:80")]
    [InlineData("http://example.com/", "example.com")]
    [InlineData("https://example.com/", "example.com")]
    [InlineData("https://example.com:8443/", "example.com:8443")]
    [InlineData("WS://Example.COM:9000/", "example.com:9000")]
    [InlineData("ws://127.0.0.1:9001/", "127.0.0.1:9001")]
    [InlineData("ws://[::1]:9000/", "[::1]:9000")]
    [InlineData("ws://[::1]/", "[::1]")]
    [InlineData("wss://[2001:db8::1]:443/", "[2001:db8::1]")]
    [InlineData("ws://[fe80::1%25eth0]:81/", "[fe80::1]:81")]
    [InlineData("ws://b\u00FCcher.example/", "xn--bcher-kva.example")]
    [InlineData("ws://user:pass@example.com/", "example.com")]
    public void WritesTheHostHeader(string uri, string host)
    {
        string request = RequestText(uri);

        Assert.Contains($"\r\nHost: {host}\r\n", request, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ws://example.com", "/")]
    [InlineData("ws://example.com/", "/")]
    [InlineData("ws://example.com?x=1", "/?x=1")]
    [InlineData("ws://example.com/chat/room?x=1&y=%20z", "/chat/room?x=1&y=%20z")]
    [InlineData("ws://example.com/a b?c d", "/a%20b?c%20d")]
    [InlineData("ws://example.com/caf\u00E9", "/caf%C3%A9")]
    public void WritesPathAndQueryAsTheTarget(string uri, string target)
    {
        Assert.StartsWith($"GET {target} HTTP/1.1\r\n", RequestText(uri), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ws://example.com", false)]
    [InlineData("http://example.com", false)]
    [InlineData("wss://example.com", true)]
    [InlineData("https://example.com", true)]
    public void ReportsWhetherTlsIsNeeded(string uri, bool secure)
    {
        ClientHandshake handshake = new(new Uri(uri), new ClientHandshakeOptions());

        Assert.Equal(secure, handshake.IsSecure);
        Assert.Equal(new Uri(uri), handshake.Uri);
    }

    [Fact]
    public void WritesExtensionsAndCustomHeadersLast()
    {
        ClientHandshakeOptions options = new()
        {
            ExtensionOffers = "permessage-deflate; client_max_window_bits",
            Headers = { KeyValuePair.Create("Authorization", "Bearer abc"), KeyValuePair.Create("X-Trace", "1\t2"), KeyValuePair.Create("x-trace", "3") },
        };

        Assert.Equal(
            "GET /x HTTP/1.1\r\nHost: h:1234\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
            "Authorization: Bearer abc\r\nX-Trace: 1\t2\r\nx-trace: 3\r\n\r\n",
            RequestText("ws://h:1234/x", options));
    }

    [Fact]
    public void WritesLatin1CustomHeaderValuesAsSingleBytes()
    {
        ClientHandshakeOptions options = new() { Headers = { KeyValuePair.Create("X-Name", "caf\u00E9") } };

        byte[] request = Create("ws://h/", options).BuildRequest();

        Assert.Equal([.. "X-Name: caf"u8, 0xE9, .. "\r\n\r\n"u8], request[^16..]);
    }

    [Fact]
    public void CustomOriginHeaderIsAllowedWhenOriginIsNotSet()
    {
        ClientHandshakeOptions options = new() { Headers = { KeyValuePair.Create("Origin", "https://a.example") } };

        Assert.Contains("\r\nOrigin: https://a.example\r\n", RequestText("ws://h/", options), StringComparison.Ordinal);

        options.Origin = "https://b.example";
        Assert.Throws<ArgumentException>(() => Create("ws://h/", options).BuildRequest());
    }

    [Theory]
    [InlineData("Host")]
    [InlineData("host")]
    [InlineData("Upgrade")]
    [InlineData("CONNECTION")]
    [InlineData("Sec-WebSocket-Key")]
    [InlineData("sec-websocket-version")]
    [InlineData("Sec-WebSocket-Accept")]
    [InlineData("Sec-WebSocket-Protocol")]
    [InlineData("Sec-WebSocket-Extensions")]
    [InlineData("Content-Length")]
    [InlineData("Transfer-Encoding")]
    public void RejectsCustomHeadersTheHandshakeOwns(string name)
    {
        ClientHandshakeOptions options = new() { Headers = { KeyValuePair.Create(name, "x") } };
        ClientHandshake handshake = Create("ws://h/", options);

        ArgumentException error = Assert.Throws<ArgumentException>(() => handshake.BuildRequest());
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => handshake.WriteRequest(new ArrayBufferWriter<byte>()));
    }

    [Theory]
    [InlineData("X-A", "a\r\nInjected: yes")]
    [InlineData("X-A", "a\rb")]
    [InlineData("X-A", "a\nb")]
    [InlineData("X-A", "a\0b")]
    [InlineData("X-A", "a\u0007b")]
    [InlineData("X-A", "\u20AC")]
    [InlineData("X A", "v")]
    [InlineData("", "v")]
    [InlineData("X-A:", "v")]
    [InlineData("X-A\r\n", "v")]
    public void RejectsInvalidCustomHeaders(string name, string value)
    {
        ClientHandshakeOptions options = new() { Headers = { KeyValuePair.Create(name, value) } };

        Assert.Throws<ArgumentException>(() => Create("ws://h/", options).BuildRequest());
    }

    [Fact]
    public void RejectsNullCustomHeaderParts()
    {
        Assert.Throws<ArgumentException>(() => Create("ws://h/", new() { Headers = { KeyValuePair.Create("X-A", (string)null!) } }).BuildRequest());
        Assert.Throws<ArgumentException>(() => Create("ws://h/", new() { Headers = { KeyValuePair.Create((string)null!, "v") } }).BuildRequest());
    }

    [Theory]
    [InlineData("chat v2")]
    [InlineData("chat,v2")]
    [InlineData("")]
    [InlineData("caf\u00E9")]
    public void RejectsInvalidSubprotocols(string subprotocol)
    {
        ClientHandshakeOptions options = new() { Subprotocols = { "ok", subprotocol } };

        Assert.Throws<ArgumentException>(() => Create("ws://h/", options).BuildRequest());
    }

    [Fact]
    public void RejectsDuplicateSubprotocolsButIsCaseSensitive()
    {
        Assert.Throws<ArgumentException>(() => Create("ws://h/", new() { Subprotocols = { "chat", "chat" } }).BuildRequest());
        Assert.Contains("Sec-WebSocket-Protocol: chat, Chat\r\n", RequestText("ws://h/", new() { Subprotocols = { "chat", "Chat" } }), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://a.example\r\nX: y")]
    [InlineData("http://a example")]
    public void RejectsInvalidOrigins(string origin)
    {
        Assert.Throws<ArgumentException>(() => Create("ws://h/", new() { Origin = origin }).BuildRequest());
    }

    [Theory]
    [InlineData("")]
    [InlineData("foo bar")]
    [InlineData("foo\r\nX: y")]
    public void RejectsMalformedExtensionOffers(string offers)
    {
        Assert.Throws<ArgumentException>(() => Create("ws://h/", new() { ExtensionOffers = offers }).BuildRequest());
    }

    [Theory]
    [InlineData("ftp://example.com/")]
    [InlineData("file:///tmp/x")]
    [InlineData("ws://example.com/#fragment")]
    public void RejectsUnsupportedUris(string uri)
    {
        Assert.Throws<ArgumentException>(() => new ClientHandshake(new Uri(uri), new ClientHandshakeOptions()));
    }

    [Fact]
    public void RejectsRelativeUriAndNullArguments()
    {
        Assert.Throws<ArgumentException>(() => new ClientHandshake(new Uri("/chat", UriKind.Relative), new ClientHandshakeOptions()));
        Assert.Throws<ArgumentNullException>(() => new ClientHandshake(null!, new ClientHandshakeOptions()));
        Assert.Throws<ArgumentNullException>(() => new ClientHandshake(new Uri("ws://h/"), null!));
        Assert.Throws<ArgumentNullException>(() => Create("ws://h/").WriteRequest(null!));
        Assert.Throws<ArgumentNullException>(() => Create("ws://h/").ValidateResponse(null!));
    }

    [Fact]
    public void GeneratesAFreshValidKeyPerHandshake()
    {
        ClientHandshake first = new(new Uri("ws://h/"), new ClientHandshakeOptions());
        ClientHandshake second = new(new Uri("ws://h/"), new ClientHandshakeOptions());

        Assert.True(WebSocketAccept.IsValidKey(first.Key));
        Assert.NotEqual(first.Key, second.Key);
        Assert.Contains($"\r\nSec-WebSocket-Key: {first.Key}\r\n", AsText(first.BuildRequest()), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteRequestMatchesBuildRequest()
    {
        ClientHandshake handshake = Create("wss://h:8443/p?q", new() { Subprotocols = { "a" }, Origin = "https://h" });
        ArrayBufferWriter<byte> writer = new(1);

        handshake.WriteRequest(writer);

        Assert.Equal(handshake.BuildRequest(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void CopiesOptionsAtConstruction()
    {
        ClientHandshakeOptions options = new() { Subprotocols = { "chat" } };
        ClientHandshake handshake = Create("ws://h/", options);

        options.Subprotocols.Add("bad token");
        options.Origin = "https://late.example";
        options.Headers.Add(KeyValuePair.Create("Host", "evil"));

        string request = AsText(handshake.BuildRequest());
        Assert.Contains("Sec-WebSocket-Protocol: chat\r\n", request, StringComparison.Ordinal);
        Assert.DoesNotContain("Origin", request, StringComparison.Ordinal);
        Assert.Equal("chat", handshake.ValidateResponse(Response("Sec-WebSocket-Protocol: chat")).Subprotocol);
    }

    [Fact]
    public void AcceptsAValidResponse()
    {
        HttpResponseHead response = Response("Set-Cookie: id=1");

        ClientHandshakeResult result = Create("ws://server.example.com/chat").ValidateResponse(response);

        Assert.Null(result.Subprotocol);
        Assert.Empty(result.Extensions);
        Assert.Same(response.Headers, result.Headers);
        Assert.Equal("id=1", result.Headers.GetValues("Set-Cookie")[0]);
    }

    [Fact]
    public void AcceptsCaseInsensitiveTokensAndListsInTheResponse()
    {
        HttpResponseHead response = ParseResponse(
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\nupgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n" +
            "sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n");

        Assert.NotNull(Create("ws://h/").ValidateResponse(response));
    }

    [Fact]
    public void ReturnsTheSelectedSubprotocolAndExtensions()
    {
        ClientHandshakeOptions options = new()
        {
            Subprotocols = { "chat", "superchat" },
            ExtensionOffers = "permessage-deflate; client_max_window_bits, x-foo",
        };

        ClientHandshakeResult result = Create("ws://h/", options).ValidateResponse(Response(
            "Sec-WebSocket-Protocol: superchat",
            "Sec-WebSocket-Extensions: x-foo",
            "Sec-WebSocket-Extensions: Permessage-Deflate; server_max_window_bits=10"));

        Assert.Equal("superchat", result.Subprotocol);
        Assert.Equal(["x-foo", "Permessage-Deflate; server_max_window_bits=10"], result.Extensions.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("HTTP/1.1 403 Forbidden", 403, "WebSocket handshake failed: server answered 403 Forbidden")]
    [InlineData("HTTP/1.1 200 OK", 200, "WebSocket handshake failed: server answered 200 OK")]
    [InlineData("HTTP/1.1 426", 426, "WebSocket handshake failed: server answered 426 Upgrade Required")]
    [InlineData("HTTP/1.1 302 Found", 302, "WebSocket handshake failed: server answered 302 Found")]
    [InlineData("HTTP/1.1 599 ", 599, "WebSocket handshake failed: server answered 599")]
    public void NonSwitchingStatusThrowsWithTheStatusAndHeaders(string statusLine, int status, string message)
    {
        HttpResponseHead response = ParseResponse(statusLine + "\r\nLocation: /elsewhere\r\nSec-WebSocket-Version: 13\r\n\r\n");

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(() => Create("ws://h/").ValidateResponse(response));

        Assert.Equal(status, error.StatusCode);
        Assert.Equal(message, error.Message);
        Assert.Equal(message["WebSocket handshake failed: ".Length..], error.Reason);
        Assert.Same(response.Headers, error.Headers);
        Assert.Equal("/elsewhere", error.Headers!.GetValues("Location")[0]);
    }

    [Theory]
    [InlineData("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "HTTP/1.0")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "Upgrade: websocket")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "Upgrade: websocket")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "Connection")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "Connection")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "lacks Sec-WebSocket-Accept")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "more than one Sec-WebSocket-Accept")]
    public void InvalidSwitchingResponsesThrow(string responseText, string reasonFragment)
    {
        HttpResponseHead response = ParseResponse(responseText);

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(() => Create("ws://h/").ValidateResponse(response));

        Assert.Equal(101, error.StatusCode);
        Assert.Contains(reasonFragment, error.Reason, StringComparison.Ordinal);
        Assert.StartsWith("WebSocket handshake failed: ", error.Message, StringComparison.Ordinal);
        Assert.Same(response.Headers, error.Headers);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("s3pPLMBiTxaQ9kYGzzhZRbK+xOo")]
    [InlineData("S3PPLMBITXAQ9KYGZZHZRBK+XOO=")]
    [InlineData("")]
    public void AcceptMismatchThrows(string accept)
    {
        HttpResponseHead response = ParseResponse(
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(() => Create("ws://h/").ValidateResponse(response));

        Assert.Equal("Sec-WebSocket-Accept mismatch", error.Reason);
        Assert.Equal("WebSocket handshake failed: Sec-WebSocket-Accept mismatch", error.Message);
        Assert.Equal(101, error.StatusCode);
    }

    [Fact]
    public void AcceptComputedForAnotherKeyThrows()
    {
        ClientHandshake handshake = new(new Uri("ws://h/"), new ClientHandshakeOptions()); // random key

        Assert.Throws<WebSocketHandshakeException>(() => handshake.ValidateResponse(Response()));
    }

    [Theory]
    [InlineData("Sec-WebSocket-Protocol: superchat", "not offered")]
    [InlineData("Sec-WebSocket-Protocol: CHAT", "not offered")]
    [InlineData("Sec-WebSocket-Protocol: chat, chat2", "exactly one")]
    [InlineData("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat", "exactly one")]
    [InlineData("Sec-WebSocket-Protocol:", "exactly one")]
    public void UnofferedOrMultipleSubprotocolsThrow(string header, string reasonFragment)
    {
        ClientHandshakeOptions options = new() { Subprotocols = { "chat", "chat2" } };

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(
            () => Create("ws://h/", options).ValidateResponse(Response(header)));

        Assert.Contains(reasonFragment, error.Reason, StringComparison.Ordinal);
        Assert.Equal(101, error.StatusCode);
    }

    [Fact]
    public void SubprotocolWhenNoneOfferedThrows()
    {
        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(
            () => Create("ws://h/").ValidateResponse(Response("Sec-WebSocket-Protocol: chat")));

        Assert.Contains("none was offered", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Extensions: x-bar", "'x-bar', which was not offered")]
    [InlineData("Sec-WebSocket-Extensions: permessage-deflate, x-bar", "'x-bar', which was not offered")]
    [InlineData("Sec-WebSocket-Extensions: permessage-deflate;", "malformed")]
    [InlineData("Sec-WebSocket-Extensions:", "malformed")]
    public void UnofferedOrMalformedExtensionsThrow(string header, string reasonFragment)
    {
        ClientHandshakeOptions options = new() { ExtensionOffers = "permessage-deflate" };

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(
            () => Create("ws://h/", options).ValidateResponse(Response(header)));

        Assert.Contains(reasonFragment, error.Reason, StringComparison.Ordinal);
        Assert.Equal(101, error.StatusCode);
    }

    [Fact]
    public void ExtensionWhenNoneOfferedThrows()
    {
        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(
            () => Create("ws://h/").ValidateResponse(Response("Sec-WebSocket-Extensions: permessage-deflate")));

        Assert.Contains("none was offered", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientAndServerAgreeEndToEnd()
    {
        ClientHandshakeOptions clientOptions = new()
        {
            Subprotocols = { "v1.chat", "v2.chat" },
            Origin = "https://app.example",
            ExtensionOffers = "permessage-deflate; client_max_window_bits",
            Headers = { KeyValuePair.Create("Cookie", "session=42") },
        };
        ClientHandshake client = new(new Uri("wss://api.example:8443/live?room=7"), clientOptions);
        ServerHandshakeOptions serverOptions = new()
        {
            Subprotocols = { "v2.chat", "v1.chat" },
            AllowedOrigins = { "https://app.example" },
            ExtensionNegotiator = offers => offers[0].Name == "permessage-deflate" ? "permessage-deflate; server_no_context_takeover" : null,
        };

        HttpHeadParseResult<HttpRequestHead> request = HttpHeadParser.ParseRequest(client.BuildRequest(), new HttpHeadLimits());
        Assert.True(request.IsComplete);
        Assert.Equal("/live", request.Head.Path);
        Assert.Equal("room=7", request.Head.Query);
        Assert.Equal("api.example:8443", request.Head.Headers.GetValues("Host")[0]);
        Assert.Equal("session=42", request.Head.Headers.GetValues("Cookie")[0]);

        ServerHandshakeResult negotiated = ServerHandshake.Negotiate(request.Head, serverOptions);
        Assert.True(negotiated.IsAccepted, negotiated.Reason);
        Assert.Equal(client.Key, negotiated.Key);

        byte[] responseBytes = [.. ServerHandshake.WriteResponse(negotiated), 0x81, 0x00];
        HttpHeadParseResult<HttpResponseHead> response = HttpHeadParser.ParseResponse(responseBytes, new HttpHeadLimits());
        Assert.True(response.IsComplete);
        Assert.Equal(responseBytes.Length - 2, response.Consumed);

        ClientHandshakeResult result = client.ValidateResponse(response.Head);
        Assert.Equal("v2.chat", result.Subprotocol);
        Assert.Equal("permessage-deflate; server_no_context_takeover", Assert.Single(result.Extensions).ToString());
    }

    [Fact]
    public void ServerRejectionSurfacesAsHandshakeException()
    {
        ClientHandshake client = new(new Uri("ws://h/"), new ClientHandshakeOptions());
        HttpRequestHead request = ParseRequest(AsText(client.BuildRequest()).Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", StringComparison.Ordinal));
        byte[] rejection = ServerHandshake.WriteResponse(ServerHandshake.Negotiate(request, new ServerHandshakeOptions()));
        HttpHeadParseResult<HttpResponseHead> response = HttpHeadParser.ParseResponse(rejection, new HttpHeadLimits());
        Assert.True(response.IsComplete);

        WebSocketHandshakeException error = Assert.Throws<WebSocketHandshakeException>(() => client.ValidateResponse(response.Head));

        Assert.Equal(426, error.StatusCode);
        Assert.Equal("WebSocket handshake failed: server answered 426 Upgrade Required", error.Message);
        Assert.Equal("13", error.Headers!.GetValues("Sec-WebSocket-Version")[0]);
    }

    [Fact]
    public void ExceptionConstructorsFormatTheMessage()
    {
        WebSocketHandshakeException plain = new("boom");
        Assert.Equal("WebSocket handshake failed: boom", plain.Message);
        Assert.Equal("boom", plain.Reason);
        Assert.Equal(0, plain.StatusCode);
        Assert.Null(plain.Headers);

        InvalidDataException inner = new("bad bytes");
        WebSocketHandshakeException wrapped = new("invalid response head", inner);
        Assert.Same(inner, wrapped.InnerException);
        Assert.Equal(0, wrapped.StatusCode);

        Assert.Equal("WebSocket handshake failed: unknown error", new WebSocketHandshakeException().Message);
    }
}
