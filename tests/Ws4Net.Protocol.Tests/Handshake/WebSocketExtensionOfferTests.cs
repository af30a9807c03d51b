using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Handshake;

public class WebSocketExtensionOfferTests
{
    [Fact]
    public void ParsesAnExtensionWithAValuelessParameter()
    {
        IReadOnlyList<WebSocketExtensionOffer> offers = WebSocketExtensionOffer.ParseHeader(["permessage-deflate; client_max_window_bits"]);

        WebSocketExtensionOffer offer = Assert.Single(offers);
        Assert.Equal("permessage-deflate", offer.Name);
        KeyValuePair<string, string?> parameter = Assert.Single(offer.Parameters);
        Assert.Equal("client_max_window_bits", parameter.Key);
        Assert.Null(parameter.Value);
    }

    [Fact]
    public void ParsesTheRfcExamples()
    {
        IReadOnlyList<WebSocketExtensionOffer> offers = WebSocketExtensionOffer.ParseHeader(["mux; max-channels=4; flow-control, deflate-stream"]);

        Assert.Equal(2, offers.Count);
        Assert.Equal("mux", offers[0].Name);
        Assert.Equal([KeyValuePair.Create("max-channels", (string?)"4"), KeyValuePair.Create("flow-control", (string?)null)], offers[0].Parameters);
        Assert.Equal("deflate-stream", offers[1].Name);
        Assert.Empty(offers[1].Parameters);
    }

    [Fact]
    public void SeveralHeaderValuesAreEquivalentToOneCommaJoinedValue()
    {
        IReadOnlyList<WebSocketExtensionOffer> split = WebSocketExtensionOffer.ParseHeader(["foo", "bar; baz=2"]);
        IReadOnlyList<WebSocketExtensionOffer> joined = WebSocketExtensionOffer.ParseHeader(["foo, bar; baz=2"]);

        Assert.Equal(joined.Select(o => o.ToString()), split.Select(o => o.ToString()));
        Assert.Equal(["foo", "bar; baz=2"], split.Select(o => o.ToString()));
    }

    [Theory]
    [InlineData("x; a=\"10\"", "10")]
    [InlineData("x; a=\"a\\bc\"", "abc")]
    [InlineData("x; a=\"\\1\\0\"", "10")]
    [InlineData("x;a=10", "10")]
    [InlineData("x ;\ta = \"v\" ", "v")]
    [InlineData("x; a=\"!#$%&'*+-.^_`|~\"", "!#$%&'*+-.^_`|~")]
    public void UnescapesQuotedStringValues(string header, string expected)
    {
        WebSocketExtensionOffer offer = Assert.Single(WebSocketExtensionOffer.ParseHeader([header]));

        Assert.Equal("x", offer.Name);
        Assert.Equal(KeyValuePair.Create("a", (string?)expected), Assert.Single(offer.Parameters));
    }

    [Theory]
    [InlineData("foo,,bar", 2)]
    [InlineData(", foo ,\t, bar ,", 2)]
    [InlineData("  foo  ", 1)]
    [InlineData("foo;a;b;c=d, bar", 2)]
    public void IgnoresEmptyListElementsAndOptionalWhitespace(string header, int count)
    {
        Assert.Equal(count, WebSocketExtensionOffer.ParseHeader([header]).Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(",")]
    [InlineData(" , ,")]
    [InlineData("foo bar")]
    [InlineData("foo;")]
    [InlineData("foo; ")]
    [InlineData("foo;;a")]
    [InlineData(";a")]
    [InlineData("foo; =1")]
    [InlineData("foo; a=")]
    [InlineData("foo; a= ,bar")]
    [InlineData("foo; a=b=c")]
    [InlineData("foo; a b")]
    [InlineData("fo@o")]
    [InlineData("foo; a=\"unterminated")]
    [InlineData("foo; a=\"has space\"")]
    [InlineData("foo; a=\"\"")]
    [InlineData("foo; a=\"x\\\"")]
    [InlineData("foo; a=\"x\"y")]
    [InlineData("foo; a=\"\u0001\"")]
    [InlineData("foo; a=x\"y\"")]
    [InlineData("foo\r\n")]
    [InlineData("f\u00F6o")]
    public void RejectsMalformedValues(string header)
    {
        Assert.False(WebSocketExtensionOffer.TryParseHeader([header], out IReadOnlyList<WebSocketExtensionOffer> offers));
        Assert.Empty(offers);
        FormatException error = Assert.Throws<FormatException>(() => WebSocketExtensionOffer.ParseHeader(["good", header]));
        Assert.StartsWith("Malformed Sec-WebSocket-Extensions header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportsWhereTheSyntaxErrorIs()
    {
        FormatException error = Assert.Throws<FormatException>(() => WebSocketExtensionOffer.ParseHeader(["foo bar"]));

        Assert.Contains("position 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HandlesNullAndEmptyInputs()
    {
        Assert.Throws<ArgumentNullException>(() => WebSocketExtensionOffer.ParseHeader(null!));
        Assert.Throws<FormatException>(() => WebSocketExtensionOffer.ParseHeader([null!]));
        Assert.False(WebSocketExtensionOffer.TryParseHeader(null, out _));
        Assert.False(WebSocketExtensionOffer.TryParseHeader([null!], out _));
        Assert.True(WebSocketExtensionOffer.TryParseHeader([], out IReadOnlyList<WebSocketExtensionOffer> none));
        Assert.Empty(none);
    }

    [Theory]
    [InlineData("permessage-deflate", "permessage-deflate")]
    [InlineData("permessage-deflate;client_max_window_bits ; server_max_window_bits=\"10\"", "permessage-deflate; client_max_window_bits; server_max_window_bits=10")]
    [InlineData("x; a=1; b", "x; a=1; b")]
    public void ToStringRendersHeaderSyntax(string header, string expected)
    {
        WebSocketExtensionOffer offer = Assert.Single(WebSocketExtensionOffer.ParseHeader([header]));

        Assert.Equal(expected, offer.ToString());
        Assert.Equal(expected, Assert.Single(WebSocketExtensionOffer.ParseHeader([offer.ToString()])).ToString());
    }

    [Fact]
    public void ConstructorValidatesAndCopies()
    {
        List<KeyValuePair<string, string?>> parameters = [KeyValuePair.Create("a", (string?)"1"), KeyValuePair.Create("b", (string?)null)];
        WebSocketExtensionOffer offer = new("ext", parameters);
        parameters.Clear();

        Assert.Equal("ext; a=1; b", offer.ToString());
        Assert.Equal(2, offer.Parameters.Count);
        Assert.Throws<NotSupportedException>(() => ((IList<KeyValuePair<string, string?>>)offer.Parameters).Add(KeyValuePair.Create("c", (string?)null)));
        Assert.Empty(new WebSocketExtensionOffer("ext").Parameters);

        Assert.Throws<ArgumentNullException>(() => new WebSocketExtensionOffer(null!));
        Assert.Throws<ArgumentException>(() => new WebSocketExtensionOffer("bad name"));
        Assert.Throws<ArgumentException>(() => new WebSocketExtensionOffer(""));
        Assert.Throws<ArgumentNullException>(() => new WebSocketExtensionOffer("ext", [KeyValuePair.Create((string)null!, (string?)null)]));
        Assert.Throws<ArgumentException>(() => new WebSocketExtensionOffer("ext", [KeyValuePair.Create("a b", (string?)null)]));
        Assert.Throws<ArgumentException>(() => new WebSocketExtensionOffer("ext", [KeyValuePair.Create("a", (string?)"has space")]));
        Assert.Throws<ArgumentException>(() => new WebSocketExtensionOffer("ext", [KeyValuePair.Create("a", (string?)"")]));
    }
}
