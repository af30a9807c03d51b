using Ws4Net.Protocol.Handshake;
using static Ws4Net.Protocol.Tests.Handshake.HandshakeText;

namespace Ws4Net.Protocol.Tests.Handshake;

public class HttpHeadParserTests
{
    private static readonly HttpHeadLimits s_limits = new();

    [Fact]
    public void ParsesRfcSampleRequest()
    {
        byte[] bytes = Bytes(SampleRequest);

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(bytes, s_limits);

        Assert.Equal(HttpHeadParseStatus.Complete, result.Status);
        Assert.True(result.IsComplete);
        Assert.Equal(bytes.Length, result.Consumed);
        Assert.Equal(0, result.ErrorStatusCode);
        Assert.Null(result.ErrorReason);
        HttpRequestHead head = result.Head;
        Assert.Equal("GET", head.Method);
        Assert.Equal("/chat", head.Target);
        Assert.Equal("/chat", head.Path);
        Assert.Equal(string.Empty, head.Query);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal(7, head.Headers.Count);
        Assert.Equal(
            new[]
            {
                KeyValuePair.Create("Host", "server.example.com"),
                KeyValuePair.Create("Upgrade", "websocket"),
                KeyValuePair.Create("Connection", "Upgrade"),
                KeyValuePair.Create("Sec-WebSocket-Key", SampleKey),
                KeyValuePair.Create("Origin", "http://example.com"),
                KeyValuePair.Create("Sec-WebSocket-Protocol", "chat, superchat"),
                KeyValuePair.Create("Sec-WebSocket-Version", "13"),
            },
            head.Headers);
    }

    [Theory]
    [InlineData("/chat?room=1&x=%20y", "/chat", "room=1&x=%20y")]
    [InlineData("/chat?", "/chat", "")]
    [InlineData("/a%2Fb", "/a%2Fb", "")]
    [InlineData("/a?b?c", "/a", "b?c")]
    [InlineData("http://example.com/x?y", "http://example.com/x", "y")]
    [InlineData("*", "*", "")]
    public void SplitsTargetIntoPathAndQuery(string target, string path, string query)
    {
        HttpRequestHead head = ParseRequest(Request($"GET {target} HTTP/1.1", "Host: a"));

        Assert.Equal(target, head.Target);
        Assert.Equal(path, head.Path);
        Assert.Equal(query, head.Query);
    }

    [Fact]
    public void AcceptsHttp10Request()
    {
        HttpRequestHead head = ParseRequest(Request("GET / HTTP/1.0"));

        Assert.Equal("HTTP/1.0", head.Version);
        Assert.Equal(0, head.Headers.Count);
    }

    [Theory]
    [InlineData("X:value", "value")]
    [InlineData("X:   value  ", "value")]
    [InlineData("X:\t value \t", "value")]
    [InlineData("X: a  b\tc", "a  b\tc")]
    [InlineData("X:", "")]
    [InlineData("X:   ", "")]
    public void TrimsOptionalWhitespaceAroundValues(string line, string expected)
    {
        HttpRequestHead head = ParseRequest(Request("GET / HTTP/1.1", line));

        Assert.True(head.Headers.TryGetValue("x", out string? value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void DecodesObsTextAsLatin1()
    {
        byte[] bytes = [.. Bytes("GET / HTTP/1.1\r\nX-Name: caf"), 0xE9, 0xFF, .. Bytes("\r\n\r\n")];

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(bytes, s_limits);

        Assert.True(result.IsComplete);
        Assert.Equal("caf\u00E9\u00FF", result.Head.Headers.GetValues("X-Name")[0]);
    }

    [Fact]
    public void KeepsRepeatedHeadersInOrder()
    {
        HttpRequestHead head = ParseRequest(Request("GET / HTTP/1.1", "A: 1", "B: 2", "a: 3"));

        Assert.Equal(["1", "3"], head.Headers.GetValues("A"));
        Assert.Equal(["A", "B", "a"], head.Headers.Select(h => h.Key));
    }

    [Fact]
    public void EveryPrefixOfARequestIsIncompleteAndTrailingBytesAreNotConsumed()
    {
        byte[] head = Bytes(SampleRequest);
        byte[] frame = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]; // masked "Hello", RFC 6455 §5.7
        byte[] buffer = [.. head, .. frame];

        for (int length = 0; length < head.Length; length++)
        {
            HttpHeadParseResult<HttpRequestHead> partial = HttpHeadParser.ParseRequest(buffer.AsSpan(0, length), s_limits);
            Assert.True(partial.Status == HttpHeadParseStatus.Incomplete, $"prefix of {length} bytes: {partial.Status} {partial.ErrorReason}");
            Assert.Equal(0, partial.Consumed);
            Assert.Null(partial.Head);
            Assert.Equal(0, partial.ErrorStatusCode);
        }

        for (int length = head.Length; length <= buffer.Length; length++)
        {
            HttpHeadParseResult<HttpRequestHead> complete = HttpHeadParser.ParseRequest(buffer.AsSpan(0, length), s_limits);
            Assert.Equal(HttpHeadParseStatus.Complete, complete.Status);
            Assert.Equal(head.Length, complete.Consumed);
        }

        HttpHeadParseResult<HttpRequestHead> all = HttpHeadParser.ParseRequest(buffer, s_limits);
        Assert.Equal(frame, buffer[all.Consumed..]);
        Assert.Equal("/chat", all.Head!.Target);
    }

    [Fact]
    public void EveryPrefixOfAResponseIsIncomplete()
    {
        byte[] head = Bytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        byte[] buffer = [.. head, 0x81, 0x05, .. "Hello"u8];

        for (int length = 0; length < head.Length; length++)
        {
            Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseResponse(buffer.AsSpan(0, length), s_limits).Status);
        }

        HttpHeadParseResult<HttpResponseHead> result = HttpHeadParser.ParseResponse(buffer, s_limits);
        Assert.Equal(HttpHeadParseStatus.Complete, result.Status);
        Assert.Equal(head.Length, result.Consumed);
        Assert.Equal(101, result.Head!.StatusCode);
        Assert.Equal("Switching Protocols", result.Head.ReasonPhrase);
        Assert.Equal("HTTP/1.1", result.Head.Version);
        Assert.Equal(3, result.Head.Headers.Count);
    }

    [Fact]
    public void DefaultResultIsIncomplete()
    {
        HttpHeadParseResult<HttpRequestHead> result = default;

        Assert.Equal(HttpHeadParseStatus.Incomplete, result.Status);
        Assert.False(result.IsComplete);
    }

    [Theory]
    // Line endings.
    [InlineData("GET / HTTP/1.1\nHost: a\r\n\r\n", "bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\n\r\n", "bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\n", "bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "CR not followed by LF")]
    [InlineData("GET / HTTP/1.1\r\r\n\r\n", "CR not followed by LF")]
    [InlineData("\r\nGET / HTTP/1.1\r\n\r\n", "Empty line")]
    // Header field syntax.
    [InlineData("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", "NUL")]
    [InlineData("GET / HTTP/1.1\r\nX: \0\r\n\r\n", "NUL")]
    [InlineData("GET / HTTP/1.1\r\nX: a\u0001b\r\n\r\n", "control character")]
    [InlineData("GET / HTTP/1.1\r\nX: a\u007Fb\r\n\r\n", "control character")]
    [InlineData("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "obsolete line folding")]
    [InlineData("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", "obsolete line folding")]
    [InlineData("GET / HTTP/1.1\r\n Host: a\r\n\r\n", "obsolete line folding")]
    [InlineData("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "whitespace between the header name")]
    [InlineData("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "whitespace between the header name")]
    [InlineData("GET / HTTP/1.1\r\n: a\r\n\r\n", "empty header name")]
    [InlineData("GET / HTTP/1.1\r\nHost a\r\n\r\n", "without ':'")]
    [InlineData("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", "not allowed in a token")]
    [InlineData("GET / HTTP/1.1\r\nX Y: a\r\n\r\n", "not allowed in a token")]
    [InlineData("GET / HTTP/1.1\r\nX\0: a\r\n\r\n", "not allowed in a token")]
    // Request line shape.
    [InlineData("GET\r\n\r\n", "Malformed request line")]
    [InlineData("GET /chat\r\n\r\n", "Malformed request line")]
    [InlineData("GET  /chat HTTP/1.1\r\n\r\n", "Malformed request line")]
    [InlineData("GET /chat  HTTP/1.1\r\n\r\n", "Malformed request line")]
    [InlineData("GET /chat HTTP/1.1 extra\r\n\r\n", "Malformed request line")]
    [InlineData("GET /a b HTTP/1.1\r\n\r\n", "Malformed request line")]
    [InlineData(" GET / HTTP/1.1\r\n\r\n", "Malformed request line")]
    [InlineData("GET / HTTP/1.1 \r\n\r\n", "Malformed request line")]
    [InlineData("GET\t/ HTTP/1.1\r\n\r\n", "Malformed request line")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n", "method")]
    [InlineData("GET /\u0001 HTTP/1.1\r\n\r\n", "request-target")]
    [InlineData("GET /\u00E9 HTTP/1.1\r\n\r\n", "request-target")]
    // Version syntax.
    [InlineData("GET / http/1.1\r\n\r\n", "Malformed HTTP version")]
    [InlineData("GET / HTTP/11\r\n\r\n", "Malformed HTTP version")]
    [InlineData("GET / HTTP/1.10\r\n\r\n", "Malformed HTTP version")]
    [InlineData("GET / HTTP/1\r\n\r\n", "Malformed HTTP version")]
    [InlineData("GET / HTTX/1.1\r\n\r\n", "Malformed HTTP version")]
    [InlineData("GET / HTTP/a.1\r\n\r\n", "Malformed HTTP version")]
    public void RejectsMalformedRequestsWith400(string text, string reasonFragment)
    {
        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes(text), s_limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(400, result.ErrorStatusCode);
        Assert.Contains(reasonFragment, result.ErrorReason, StringComparison.Ordinal);
        Assert.Equal(0, result.Consumed);
        Assert.Null(result.Head);
    }

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/1.2")]
    [InlineData("HTTP/0.9")]
    [InlineData("HTTP/3.0")]
    public void RejectsUnsupportedVersionsWith505(string version)
    {
        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes($"GET / {version}\r\n\r\n"), s_limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(505, result.ErrorStatusCode);
        Assert.Contains(version, result.ErrorReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nX: a\0b\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost : a\r\n")]
    [InlineData("GET / HTTP/1.1\r\nX: a\r\n b\r\n")]
    [InlineData("GET / HTTP/1.1\nHost")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rb")]
    [InlineData("GET /chat\r\nHost")]
    [InlineData("GET / HTTP/2.0\r\n")]
    public void ReportsErrorsInCompletedLinesBeforeTheHeadEnds(string text)
    {
        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes(text), s_limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.NotNull(result.ErrorReason);
    }

    [Fact]
    public void StopsAtFirstEmptyLineEvenIfGarbageFollows()
    {
        byte[] buffer = Bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n\0\r\nnot a header\n");

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(buffer, s_limits);

        Assert.Equal(HttpHeadParseStatus.Complete, result.Status);
        Assert.Equal("GET / HTTP/1.1\r\nHost: a\r\n\r\n".Length, result.Consumed);
    }

    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protocols", "HTTP/1.1", 101, "Switching Protocols")]
    [InlineData("HTTP/1.1 101", "HTTP/1.1", 101, "")]
    [InlineData("HTTP/1.1 101 ", "HTTP/1.1", 101, "")]
    [InlineData("HTTP/1.1 404 Not  Found ", "HTTP/1.1", 404, "Not  Found ")]
    [InlineData("HTTP/1.0 403 Forbidden\tnow", "HTTP/1.0", 403, "Forbidden\tnow")]
    [InlineData("HTTP/1.1 599 x", "HTTP/1.1", 599, "x")]
    [InlineData("HTTP/1.1 100 Continue", "HTTP/1.1", 100, "Continue")]
    public void ParsesStatusLines(string statusLine, string version, int statusCode, string reason)
    {
        HttpResponseHead head = ParseResponse(statusLine + "\r\nX: y\r\n\r\n");

        Assert.Equal(version, head.Version);
        Assert.Equal(statusCode, head.StatusCode);
        Assert.Equal(reason, head.ReasonPhrase);
        Assert.Equal("y", head.Headers.GetValues("X")[0]);
    }

    [Theory]
    [InlineData("HTTP/1.1 1011 Foo", 400)]
    [InlineData("HTTP/1.1 10 Foo", 400)]
    [InlineData("HTTP/1.1 abc Foo", 400)]
    [InlineData("HTTP/1.1  101 Foo", 400)]
    [InlineData("HTTP/1.1 099 Foo", 400)]
    [InlineData("HTTP/1.1 600 Foo", 400)]
    [InlineData("HTTP/1.1 101\tFoo", 400)]
    [InlineData("HTTP/1.1 101 Fo\u0001o", 400)]
    [InlineData("HTTP/1.1", 400)]
    [InlineData(" HTTP/1.1 101 Foo", 400)]
    [InlineData("HTTP/2 101 Foo", 400)]
    [InlineData("http/1.1 101 Foo", 400)]
    [InlineData("HTTP/2.0 101 Foo", 505)]
    public void RejectsMalformedStatusLines(string statusLine, int expectedStatus)
    {
        HttpHeadParseResult<HttpResponseHead> result = HttpHeadParser.ParseResponse(Bytes(statusLine + "\r\n\r\n"), s_limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(expectedStatus, result.ErrorStatusCode);
        Assert.Null(result.Head);
    }

    [Fact]
    public void RejectsHeaderSyntaxErrorsInResponses()
    {
        Assert.Equal(HttpHeadParseStatus.Invalid, HttpHeadParser.ParseResponse(Bytes("HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n"), s_limits).Status);
        Assert.Equal(HttpHeadParseStatus.Invalid, HttpHeadParser.ParseResponse(Bytes("HTTP/1.1 101 OK\r\nA: b\r\n c\r\n\r\n"), s_limits).Status);
        Assert.Equal(HttpHeadParseStatus.Invalid, HttpHeadParser.ParseResponse(Bytes("HTTP/1.1 101 OK\r\nA: b\0\r\n\r\n"), s_limits).Status);
    }

    [Fact]
    public void RejectsNullLimits()
    {
        Assert.Throws<ArgumentNullException>(() => HttpHeadParser.ParseRequest(Bytes(SampleRequest), null!));
        Assert.Throws<ArgumentNullException>(() => HttpHeadParser.ParseResponse(Bytes("HTTP/1.1 101\r\n\r\n"), null!));
    }

    [Fact]
    public void HeadConstructorsValidateArguments()
    {
        HttpHeaderCollection headers = new();
        Assert.Throws<ArgumentNullException>(() => new HttpRequestHead(null!, "/", "HTTP/1.1", headers));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "", "HTTP/1.1", headers));
        Assert.Throws<ArgumentNullException>(() => new HttpRequestHead("GET", "/", "HTTP/1.1", null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpResponseHead("HTTP/1.1", 99, "", headers));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpResponseHead("HTTP/1.1", 600, "", headers));
        Assert.Throws<ArgumentNullException>(() => new HttpResponseHead("HTTP/1.1", 101, null!, headers));
    }
}
