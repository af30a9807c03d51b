using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Handshake;

public class HttpHeaderCollectionTests
{
    [Fact]
    public void LooksUpNamesCaseInsensitively()
    {
        HttpHeaderCollection headers = new() { { "Sec-WebSocket-Key", "abc" } };

        Assert.True(headers.Contains("sec-websocket-key"));
        Assert.True(headers.TryGetValue("SEC-WEBSOCKET-KEY", out string? value));
        Assert.Equal("abc", value);
        Assert.Equal(["abc"], headers.GetValues("Sec-Websocket-Key"));
        Assert.Equal(1, headers.Count);
    }

    [Fact]
    public void MissingHeaderYieldsFalseAndEmptyLists()
    {
        HttpHeaderCollection headers = new() { { "A", "1" } };

        Assert.False(headers.Contains("B"));
        Assert.False(headers.TryGetValue("B", out string? value));
        Assert.Null(value);
        Assert.Empty(headers.GetValues("B"));
        Assert.Empty(headers.GetTokens("B"));
        Assert.False(headers.ContainsToken("B", "1"));
    }

    [Fact]
    public void JoinsRepeatedValuesWithCommaSpace()
    {
        HttpHeaderCollection headers = new() { { "Accept", "a" }, { "Other", "x" }, { "accept", "b" }, { "ACCEPT", "" } };

        Assert.True(headers.TryGetValue("Accept", out string? value));
        Assert.Equal("a, b, ", value);
        Assert.Equal(["a", "b", ""], headers.GetValues("accept"));
        Assert.Equal(4, headers.Count);
    }

    [Fact]
    public void EnumeratesInInsertionOrderWithOriginalSpelling()
    {
        HttpHeaderCollection headers = new() { { "b", "1" }, { "A", "2" }, { "b", "3" } };

        Assert.Equal(
            [KeyValuePair.Create("b", "1"), KeyValuePair.Create("A", "2"), KeyValuePair.Create("b", "3")],
            headers.ToList());
    }

    [Theory]
    [InlineData("Upgrade", "upgrade", true)]
    [InlineData("keep-alive, Upgrade", "upgrade", true)]
    [InlineData("keep-alive,Upgrade", "UPGRADE", true)]
    [InlineData("Upgrade ,\tkeep-alive", "upgrade", true)]
    [InlineData("keep-alive", "upgrade", false)]
    [InlineData("Upgraded, x-upgrade", "upgrade", false)]
    [InlineData("\"Upgrade\"", "upgrade", false)]
    [InlineData("", "upgrade", false)]
    [InlineData(" , ,", "upgrade", false)]
    public void ContainsTokenMatchesListElements(string value, string token, bool expected)
    {
        HttpHeaderCollection headers = new() { { "Connection", value } };

        Assert.Equal(expected, headers.ContainsToken("connection", token));
    }

    [Fact]
    public void ContainsTokenSearchesEveryOccurrence()
    {
        HttpHeaderCollection headers = new() { { "Connection", "keep-alive" }, { "Connection", "Upgrade" } };

        Assert.True(headers.ContainsToken("Connection", "upgrade"));
        Assert.True(headers.ContainsToken("Connection", " upgrade "));
        Assert.False(headers.ContainsToken("Connection", ""));
        Assert.False(headers.ContainsToken("Upgrade", "upgrade"));
    }

    [Fact]
    public void GetTokensTrimsAndSkipsEmptyElementsAcrossOccurrences()
    {
        HttpHeaderCollection headers = new() { { "P", "a,, b ,\t," }, { "X", "zzz" }, { "p", "" }, { "p", "c" } };

        Assert.Equal(["a", "b", "c"], headers.GetTokens("P"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Bad Name")]
    [InlineData("Bad:Name")]
    [InlineData("Na\u00EFve")]
    [InlineData("A\r\nB")]
    public void AddRejectsInvalidNames(string name)
    {
        HttpHeaderCollection headers = new();

        Assert.Throws<ArgumentException>(() => headers.Add(name, "v"));
        Assert.Equal(0, headers.Count);
    }

    [Theory]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    [InlineData("a\0b")]
    [InlineData("a\u0001b")]
    [InlineData("a\u007Fb")]
    public void AddRejectsControlCharactersInValues(string value)
    {
        HttpHeaderCollection headers = new();

        Assert.Throws<ArgumentException>(() => headers.Add("X", value));
    }

    [Fact]
    public void AddAcceptsTabsAndObsText()
    {
        HttpHeaderCollection headers = new() { { "X", "a\tb caf\u00E9" } };

        Assert.Equal("a\tb caf\u00E9", headers.GetValues("X")[0]);
    }

    [Fact]
    public void RejectsNullArguments()
    {
        HttpHeaderCollection headers = new();

        Assert.Throws<ArgumentNullException>(() => headers.Add(null!, "v"));
        Assert.Throws<ArgumentNullException>(() => headers.Add("X", null!));
        Assert.Throws<ArgumentNullException>(() => headers.Contains(null!));
        Assert.Throws<ArgumentNullException>(() => headers.TryGetValue(null!, out _));
        Assert.Throws<ArgumentNullException>(() => headers.GetValues(null!));
        Assert.Throws<ArgumentNullException>(() => headers.GetTokens(null!));
        Assert.Throws<ArgumentNullException>(() => headers.ContainsToken(null!, "x"));
        Assert.Throws<ArgumentNullException>(() => headers.ContainsToken("X", null!));
    }
}
