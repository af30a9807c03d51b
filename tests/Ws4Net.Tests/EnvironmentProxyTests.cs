using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>The environment-variable rules of <see cref="EnvironmentProxy"/>, variable by variable.</summary>
public sealed class EnvironmentProxyTests
{
    private static EnvironmentProxy Proxy(params (string, string)[] variables) => new(ProxyTests.Variables(variables));

    [Fact]
    public void NothingSet_MeansNoProxyForAnyScheme()
    {
        EnvironmentProxy proxy = Proxy();
        Assert.True(proxy.IsBypassed(new Uri("ws://example.com/")));
        Assert.True(proxy.IsBypassed(new Uri("wss://example.com/")));
        Assert.Null(proxy.GetProxy(new Uri("ws://example.com/")));
    }

    [Fact]
    public void WsUsesTheHttpProxy_WssTheHttpsProxy()
    {
        EnvironmentProxy proxy = Proxy(("HTTP_PROXY", "http://plain:3128"), ("HTTPS_PROXY", "http://secure:3129"));
        Assert.Equal(new Uri("http://plain:3128"), proxy.GetProxy(new Uri("ws://example.com/")));
        Assert.Equal(new Uri("http://secure:3129"), proxy.GetProxy(new Uri("wss://example.com/")));
        Assert.Equal(new Uri("http://plain:3128"), proxy.GetProxy(new Uri("http://example.com/")));
        Assert.Equal(new Uri("http://secure:3129"), proxy.GetProxy(new Uri("https://example.com/")));
    }

    [Fact]
    public void OnlyHttpProxySet_LeavesWssDirect()
    {
        EnvironmentProxy proxy = Proxy(("HTTP_PROXY", "http://plain:3128"));
        Assert.NotNull(proxy.GetProxy(new Uri("ws://example.com/")));
        Assert.Null(proxy.GetProxy(new Uri("wss://example.com/")));
    }

    [Fact]
    public void LowercaseWins_OverUppercase()
    {
        EnvironmentProxy proxy = Proxy(("http_proxy", "http://lower:1"), ("HTTP_PROXY", "http://upper:2"), ("https_proxy", "http://lower:3"), ("HTTPS_PROXY", "http://upper:4"));
        Assert.Equal("lower", proxy.HttpProxy!.Host);
        Assert.Equal("lower", proxy.HttpsProxy!.Host);
    }

    [Fact]
    public void UppercaseHttpProxy_IsIgnoredUnderCgi_LowercaseIsNot()
    {
        Assert.Null(Proxy(("HTTP_PROXY", "http://injected:1"), ("GATEWAY_INTERFACE", "CGI/1.1")).HttpProxy);
        Assert.Equal("mine", Proxy(("http_proxy", "http://mine:1"), ("GATEWAY_INTERFACE", "CGI/1.1")).HttpProxy!.Host);
    }

    [Fact]
    public void AllProxy_FillsWhicheverIsUnset()
    {
        EnvironmentProxy proxy = Proxy(("HTTPS_PROXY", "http://secure:1"), ("ALL_PROXY", "http://all:2"));
        Assert.Equal("all", proxy.HttpProxy!.Host);
        Assert.Equal("secure", proxy.HttpsProxy!.Host);
        Assert.Equal("all", Proxy(("all_proxy", "all:9")).HttpsProxy!.Host);
    }

    [Theory]
    [InlineData("proxy.local:8080", "http://proxy.local:8080/")]
    [InlineData("http://user:p%40ss@proxy.local:8080", "http://user:p%40ss@proxy.local:8080/")]
    [InlineData("  http://proxy.local  ", "http://proxy.local/")]
    public void Values_WithoutSchemeMeanHttp_AndKeepUserInfo(string value, string expected)
        => Assert.Equal(new Uri(expected), Proxy(("http_proxy", value)).HttpProxy);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("http://")]
    public void EmptyOrInvalidValues_MeanNoProxy(string value) => Assert.Null(Proxy(("http_proxy", value)).HttpProxy);

    [Theory]
    [InlineData("example.com", "ws://example.com/", true)]
    [InlineData("example.com", "ws://api.example.com/", true)]
    [InlineData("example.com", "ws://notexample.com/", false)]
    [InlineData(".example.com", "ws://example.com/", true)]
    [InlineData(".example.com", "ws://a.b.example.com/", true)]
    [InlineData("*.example.com", "ws://a.example.com/", true)]
    [InlineData("EXAMPLE.com", "ws://Api.Example.COM/", true)]
    [InlineData("*", "ws://anything.at.all/", true)]
    [InlineData("other.org, example.com", "ws://example.com/", true)]
    [InlineData("other.org example.com", "ws://example.com/", true)]
    [InlineData("other.org", "ws://example.com/", false)]
    [InlineData("example.com:8080", "ws://example.com:8080/", true)]
    [InlineData("example.com:8080", "ws://example.com/", false)]
    [InlineData("192.168.1.10", "ws://192.168.1.10:9000/", true)]
    [InlineData("192.168.1.10", "ws://192.168.1.11/", false)]
    [InlineData("[::1]:9000", "ws://[::1]:9000/", true)]
    [InlineData("::1", "ws://[::1]/", true)]
    [InlineData("localhost", "ws://127.0.0.1/", false)]
    public void NoProxy_Matching(string noProxy, string target, bool bypassed)
    {
        EnvironmentProxy proxy = Proxy(("http_proxy", "http://proxy:3128"), ("no_proxy", noProxy));
        Assert.Equal(bypassed, proxy.IsBypassed(new Uri(target)));
        Assert.Equal(bypassed, proxy.GetProxy(new Uri(target)) is null);
    }

    [Fact]
    public void UppercaseNoProxy_IsReadWhenLowercaseIsUnset()
    {
        Assert.True(Proxy(("http_proxy", "http://proxy:3128"), ("NO_PROXY", "example.com")).IsBypassed(new Uri("ws://example.com/")));
        Assert.False(Proxy(("http_proxy", "http://proxy:3128"), ("no_proxy", "other.org"), ("NO_PROXY", "example.com")).IsBypassed(new Uri("ws://example.com/")));
    }
}
