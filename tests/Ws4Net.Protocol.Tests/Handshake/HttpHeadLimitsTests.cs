using Ws4Net.Protocol.Handshake;
using static Ws4Net.Protocol.Tests.Handshake.HandshakeText;

namespace Ws4Net.Protocol.Tests.Handshake;

public class HttpHeadLimitsTests
{
    [Fact]
    public void HasDocumentedDefaults()
    {
        HttpHeadLimits limits = new();

        Assert.Equal(8192, limits.MaxStartLineLength);
        Assert.Equal(8192, limits.MaxHeaderLineLength);
        Assert.Equal(100, limits.MaxHeaderCount);
        Assert.Equal(16384, limits.MaxHeadSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void SettersRejectZeroAndNegative(int value)
    {
        HttpHeadLimits limits = new();

        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxStartLineLength = value);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxHeaderLineLength = value);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxHeaderCount = value);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxHeadSize = value);
        Assert.Equal(8192, limits.MaxStartLineLength);
    }

    [Fact]
    public void SettersStorePositiveValues()
    {
        HttpHeadLimits limits = new() { MaxStartLineLength = 1, MaxHeaderLineLength = 2, MaxHeaderCount = 3, MaxHeadSize = 4 };

        Assert.Equal(1, limits.MaxStartLineLength);
        Assert.Equal(2, limits.MaxHeaderLineLength);
        Assert.Equal(3, limits.MaxHeaderCount);
        Assert.Equal(4, limits.MaxHeadSize);
    }

    [Fact]
    public void StartLineOverTheLimitIsRejectedWith414BeforeItsCrlf()
    {
        const string StartLine = "GET /0123456789abcdefghijklmnop HTTP/1.1";
        HttpHeadLimits limits = new() { MaxStartLineLength = 30 };
        byte[] bytes = Bytes(StartLine);

        for (int length = 0; length <= 30; length++)
        {
            Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(bytes.AsSpan(0, length), limits).Status);
        }

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(bytes.AsSpan(0, 31), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(414, result.ErrorStatusCode);
        Assert.Contains("30 bytes", result.ErrorReason, StringComparison.Ordinal);
    }

    [Fact]
    public void StartLineExactlyAtTheLimitIsAccepted()
    {
        string startLine = "GET /abc HTTP/1.1"; // 17 bytes
        HttpHeadLimits limits = new() { MaxStartLineLength = startLine.Length };

        // A trailing CR is the start of the terminator, not part of the line.
        Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(Bytes(startLine + "\r"), limits).Status);
        Assert.Equal(HttpHeadParseStatus.Complete, HttpHeadParser.ParseRequest(Bytes(startLine + "\r\n\r\n"), limits).Status);

        HttpHeadParseResult<HttpRequestHead> over = HttpHeadParser.ParseRequest(Bytes("GET /abcd HTTP/1.1\r\n\r\n"), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, over.Status);
        Assert.Equal(414, over.ErrorStatusCode);
    }

    [Fact]
    public void StatusLineOverTheLimitIsRejected()
    {
        HttpHeadLimits limits = new() { MaxStartLineLength = 20 };

        HttpHeadParseResult<HttpResponseHead> result = HttpHeadParser.ParseResponse(Bytes("HTTP/1.1 101 Switching Protocols"), limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(414, result.ErrorStatusCode);
    }

    [Fact]
    public void HeaderLineOverTheLimitIsRejectedWith431BeforeItsCrlf()
    {
        HttpHeadLimits limits = new() { MaxHeaderLineLength = 16 };
        string prefix = "GET / HTTP/1.1\r\n";
        byte[] bytes = Bytes(prefix + "X-Long: 0123456789abcdef"); // header line of 24 bytes

        for (int length = prefix.Length; length <= prefix.Length + 16; length++)
        {
            Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(bytes.AsSpan(0, length), limits).Status);
        }

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(bytes.AsSpan(0, prefix.Length + 17), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(431, result.ErrorStatusCode);
        Assert.Contains("Line 2", result.ErrorReason, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLineExactlyAtTheLimitIsAccepted()
    {
        HttpHeadLimits limits = new() { MaxHeaderLineLength = 16, MaxStartLineLength = 100 };

        Assert.Equal(HttpHeadParseStatus.Complete, HttpHeadParser.ParseRequest(Bytes(Request("GET /a-start-line-longer-than-16 HTTP/1.1", "X-Long: 01234567")), limits).Status);

        HttpHeadParseResult<HttpRequestHead> over = HttpHeadParser.ParseRequest(Bytes(Request("GET / HTTP/1.1", "X-Long: 012345678")), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, over.Status);
        Assert.Equal(431, over.ErrorStatusCode);
    }

    [Fact]
    public void HeaderCountOverTheLimitIsRejectedWith431AsSoonAsTheExtraLineStarts()
    {
        HttpHeadLimits limits = new() { MaxHeaderCount = 3 };
        string threeHeaders = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n";

        Assert.Equal(HttpHeadParseStatus.Complete, HttpHeadParser.ParseRequest(Bytes(threeHeaders + "\r\n"), limits).Status);
        Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(Bytes(threeHeaders), limits).Status);
        Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(Bytes(threeHeaders + "\r"), limits).Status);

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes(threeHeaders + "D"), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(431, result.ErrorStatusCode);
        Assert.Contains("More than 3 header fields", result.ErrorReason, StringComparison.Ordinal);

        HttpHeadParseResult<HttpRequestHead> complete = HttpHeadParser.ParseRequest(Bytes(threeHeaders + "D: 4\r\n\r\n"), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, complete.Status);
        Assert.Equal(431, complete.ErrorStatusCode);
    }

    [Fact]
    public void HeadOverTheSizeLimitIsRejectedWith431BeforeTheTerminatorArrives()
    {
        string head = Request("GET / HTTP/1.1", "Host: example.com", "X-Padding: 0123456789012345678");
        HttpHeadLimits limits = new() { MaxHeadSize = head.Length - 1 };
        byte[] bytes = Bytes(head);

        for (int length = 0; length < head.Length - 1; length++)
        {
            Assert.Equal(HttpHeadParseStatus.Incomplete, HttpHeadParser.ParseRequest(bytes.AsSpan(0, length), limits).Status);
        }

        // With MaxHeadSize bytes buffered and no terminator, the head can only end up too large.
        HttpHeadParseResult<HttpRequestHead> atLimit = HttpHeadParser.ParseRequest(bytes.AsSpan(0, head.Length - 1), limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, atLimit.Status);
        Assert.Equal(431, atLimit.ErrorStatusCode);
        Assert.Contains("exceeds the limit", atLimit.ErrorReason, StringComparison.Ordinal);

        HttpHeadParseResult<HttpRequestHead> whole = HttpHeadParser.ParseRequest(bytes, limits);
        Assert.Equal(HttpHeadParseStatus.Invalid, whole.Status);
        Assert.Equal(431, whole.ErrorStatusCode);
    }

    [Fact]
    public void HeadExactlyAtTheSizeLimitIsAcceptedEvenWithMoreBytesBuffered()
    {
        string head = Request("GET / HTTP/1.1", "Host: example.com");
        HttpHeadLimits limits = new() { MaxHeadSize = head.Length };
        byte[] buffer = [.. Bytes(head), .. new byte[1000]];

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(buffer, limits);

        Assert.Equal(HttpHeadParseStatus.Complete, result.Status);
        Assert.Equal(head.Length, result.Consumed);
    }

    [Fact]
    public void EndlessInputWithoutLineBreaksIsRejectedAtTheLimit()
    {
        HttpHeadLimits limits = new();
        byte[] junk = new byte[limits.MaxStartLineLength + 1];
        junk.AsSpan().Fill((byte)'A');

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(junk, limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(414, result.ErrorStatusCode);
    }

    [Fact]
    public void ManyShortHeadersAreRejectedByHeadSizeWithDefaultLimits()
    {
        HttpHeadLimits limits = new() { MaxHeaderCount = 10_000 };
        string text = "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("X-A: 0123456789\r\n", 2000));

        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes(text), limits);

        Assert.Equal(HttpHeadParseStatus.Invalid, result.Status);
        Assert.Equal(431, result.ErrorStatusCode);
    }
}
