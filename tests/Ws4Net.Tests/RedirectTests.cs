using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>
/// Redirects of the opening handshake (RFC 9110 §15.4) across ports: followed up to
/// <see cref="WebSocketClientOptions.MaxRedirects"/>, never from wss to ws, with <c>Authorization</c> kept on
/// the same origin and dropped across origins.
/// </summary>
public sealed class RedirectTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Redirect_ToAnotherPort_IsFollowed(int status)
    {
        TestServer target = fixture.Plain;
        await using var redirector = RedirectServer.Start((_, _) => RedirectServer.Redirect(status, target.Uri("/echo").ToString()));
        WebSocketClientOptions options = target.ClientOptions();
        options.MaxRedirects = 1;

        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(redirector.Uri("/start"), options).WithTimeout();
        await client.SendTextAsync("redirected").WithTimeout();
        Assert.Equal("redirected", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        Assert.Single(redirector.Requests);
    }

    [Fact]
    public async Task Redirect_WithHttpSchemesInLocation_MapsThemToWs()
    {
        TestServer target = fixture.Plain;
        await using var redirector = RedirectServer.Start((_, _) => RedirectServer.Redirect(302, $"http://127.0.0.1:{target.Port}/echo"));
        WebSocketClientOptions options = target.ClientOptions();
        options.MaxRedirects = 1;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(redirector.Uri(), options).WithTimeout();
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task ByDefault_ARedirectIsAnHttpStatusError_WithTheLocation()
    {
        await using var redirector = RedirectServer.Start((_, _) => RedirectServer.Redirect(302, "ws://127.0.0.1:1/elsewhere"));
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(redirector.Uri()).WithTimeout());
        Assert.Equal(WebSocketConnectError.HttpStatus, error.Error);
        Assert.Equal(302, error.StatusCode);
        Assert.True(error.Headers!.TryGetValue("Location", out string? location));
        Assert.Equal("ws://127.0.0.1:1/elsewhere", location);
    }

    [Fact]
    public async Task TooManyRedirects_IsARedirectError_AfterExactlyTheLimitPlusOneRequests()
    {
        await using RedirectServer loop = RedirectServer.Start((n, _) => RedirectServer.Redirect(307, $"/hop{n + 1}"));
        var options = new WebSocketClientOptions { MaxRedirects = 2 };
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(loop.Uri("/hop0"), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Redirect, error.Error);
        Assert.Equal(307, error.StatusCode);
        Assert.Equal(3, loop.Requests.Count);
        Assert.Equal(["GET /hop0 ", "GET /hop1 ", "GET /hop2 "], loop.Requests.Select(r => r[..(r.IndexOf("HTTP/", StringComparison.Ordinal))]));
        Assert.Equal(loop.Uri("/hop2"), error.Uri);
    }

    [Fact]
    public async Task RedirectFromWssToWs_IsRefused()
    {
        TestServer plain = fixture.Plain;
        await using var redirector = RedirectServer.Start((_, _) => RedirectServer.Redirect(302, plain.Uri("/echo").ToString()), secure: true);
        WebSocketClientOptions options = fixture.Secure.ClientOptions();
        options.MaxRedirects = 3;
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(redirector.Uri(), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Redirect, error.Error);
        Assert.Contains("must not be downgraded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectFromWsToWss_IsFollowed()
    {
        TestServer secure = fixture.Secure;
        await using var redirector = RedirectServer.Start((_, _) => RedirectServer.Redirect(308, secure.Uri("/echo").ToString()));
        WebSocketClientOptions options = secure.ClientOptions();
        options.MaxRedirects = 1;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(redirector.Uri(), options).WithTimeout();
        await client.SendTextAsync("upgraded").WithTimeout();
        Assert.Equal("upgraded", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
    }

    [Fact]
    public async Task Authorization_IsKeptOnTheSameOrigin_AndDroppedAcrossOrigins()
    {
        await using var other = RedirectServer.Start((_, _) => RedirectServer.NotFound);
        await using var first = RedirectServer.Start((n, _) => n == 0
            ? RedirectServer.Redirect(302, "/same-origin")
            : RedirectServer.Redirect(302, other.Uri("/other-origin").ToString()));
        var options = new WebSocketClientOptions { MaxRedirects = 5 };
        options.Headers.Add(new("Authorization", "Bearer token-for-first"));
        options.Headers.Add(new("Cookie", "session=first"));
        options.Headers.Add(new("X-Trace", "kept"));

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(first.Uri("/start"), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.HttpStatus, error.Error);
        Assert.Equal(404, error.StatusCode);

        string[] sameOrigin = [.. first.Requests];
        Assert.Equal(2, sameOrigin.Length);
        Assert.All(sameOrigin, head => Assert.Contains("Authorization: Bearer token-for-first", head, StringComparison.Ordinal));
        Assert.StartsWith("GET /same-origin ", sameOrigin[1], StringComparison.Ordinal);

        string crossOrigin = Assert.Single(other.Requests);
        Assert.StartsWith("GET /other-origin ", crossOrigin, StringComparison.Ordinal);
        Assert.DoesNotContain("Authorization", crossOrigin, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Cookie", crossOrigin, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("X-Trace: kept", crossOrigin, StringComparison.Ordinal);
        Assert.Contains($"Host: 127.0.0.1:{other.Port}", crossOrigin, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectWithoutLocation_IsARedirectError()
    {
        await using var redirector = RedirectServer.Start((_, _) => "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
        var options = new WebSocketClientOptions { MaxRedirects = 1 };
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => WebSocketClient.ConnectAsync(redirector.Uri(), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Redirect, error.Error);
    }
}
