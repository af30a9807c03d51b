using Ws4Net.Cli.Demo;
using Ws4Net.Client;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Tests;

/// <summary>Requests the server must refuse, written by hand on a raw socket, and the status each gets.</summary>
public sealed class HandshakeRejectionTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private const string ValidKey = "dGhlIHNhbXBsZSBub25jZQ==";

    private int Port => fixture.Plain.Port;

    private static string Upgrade(string method = "GET", string path = "/echo", string? key = ValidKey, string version = "13", string extra = "")
        => $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + (key is null ? string.Empty : $"Sec-WebSocket-Key: {key}\r\n")
            + $"Sec-WebSocket-Version: {version}\r\n{extra}\r\n";

    private static async Task<RawHttpResponse> SendAsync(int port, string request)
    {
        await using RawClient raw = await RawClient.ConnectAsync(port);
        await raw.WriteAsync(request);
        RawHttpResponse response = await raw.ReadHttpResponseAsync();
        Assert.Empty(await raw.ReadToEndAsync(TimeSpan.FromSeconds(10))); // and then the server closes the connection
        return response;
    }

    [Fact]
    public async Task ValidUpgrade_Gets101()
    {
        await using RawClient raw = await RawClient.HandshakeAsync(Port, "/echo");
    }

    [Fact]
    public async Task UnknownPathWithUpgrade_Gets404()
    {
        RawHttpResponse response = await SendAsync(Port, Upgrade(path: "/nowhere"));
        Assert.Equal(404, response.StatusCode);
        Assert.Equal("close", response.Header("Connection"), ignoreCase: true);
    }

    [Fact]
    public async Task WrongVersion_Gets426_WithSupportedVersionHeader()
    {
        RawHttpResponse response = await SendAsync(Port, Upgrade(version: "8"));
        Assert.Equal(426, response.StatusCode);
        Assert.Equal("13", response.Header("Sec-WebSocket-Version"));
    }

    [Fact]
    public async Task MissingKey_Gets400()
    {
        RawHttpResponse response = await SendAsync(Port, Upgrade(key: null));
        Assert.Equal(400, response.StatusCode);
        Assert.Contains("Sec-WebSocket-Key", response.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedKey_Gets400()
    {
        RawHttpResponse response = await SendAsync(Port, Upgrade(key: "not-base64-of-16-bytes"));
        Assert.Equal(400, response.StatusCode);
    }

    [Fact]
    public async Task PostUpgrade_Gets400()
    {
        RawHttpResponse response = await SendAsync(Port, Upgrade(method: "POST", extra: "Content-Length: 0\r\n"));
        Assert.Equal(400, response.StatusCode);
    }

    [Fact]
    public async Task PlainGetOnAWebSocketPath_Gets426()
    {
        RawHttpResponse response = await SendAsync(Port, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(426, response.StatusCode);
        Assert.Equal("websocket", response.Header("Upgrade"), ignoreCase: true);
        Assert.Equal("13", response.Header("Sec-WebSocket-Version"));
    }

    [Fact]
    public async Task PlainGetOnAnUnmappedPath_WithoutFallback_Gets404()
    {
        RawHttpResponse response = await SendAsync(Port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(404, response.StatusCode);
    }

    [Fact]
    public async Task HeadOverTheSizeLimit_Gets431()
    {
        await using TestServer server = await TestServer.StartAsync(configure: o => o.HeadLimits = new HttpHeadLimits { MaxHeadSize = 2048 });
        string big = string.Concat(Enumerable.Range(0, 20).Select(i => $"X-Filler-{i:D2}: {new string('v', 100)}\r\n")); // ~2.3 KB of headers
        RawHttpResponse response = await SendAsync(server.Port, Upgrade(extra: big));
        Assert.Equal(431, response.StatusCode);

        // The same server still accepts a normal upgrade.
        await using RawClient ok = await RawClient.HandshakeAsync(server.Port, "/echo");
    }

    [Fact]
    public async Task DefaultHeadLimit_HeaderOver16KiB_Gets431()
    {
        string big = $"X-Big: {new string('b', 17_000)}\r\n";
        RawHttpResponse response = await SendAsync(Port, Upgrade(extra: big));
        Assert.Equal(431, response.StatusCode);
    }

    [Fact]
    public async Task OurClient_OnUnknownPath_ThrowsHandshakeExceptionWith404()
    {
        TestServer server = fixture.Plain;
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => server.ConnectAsync("/missing"));
        Assert.Equal(WebSocketConnectError.HttpStatus, error.Error);
        Assert.Equal(404, error.StatusCode);
        Assert.NotNull(error.Headers);
    }

    [Fact]
    public async Task OurClient_OverWss_OnUnknownPath_ThrowsHandshakeExceptionWith404()
    {
        TestServer server = fixture.Secure;
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => server.ConnectAsync("/missing"));
        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task DemoServer_PlainGetRoot_Gets200Html_AndWebSocketPathsStillAnswer426()
    {
        await using var demo = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await demo.StartAsync().WithTimeout();
        int port = ((System.Net.IPEndPoint)demo.LocalEndPoint!).Port;

        RawHttpResponse page = await SendAsync(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(200, page.StatusCode);
        Assert.StartsWith("text/html", page.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Contains("Ws4Net", page.BodyText, StringComparison.Ordinal);
        Assert.Equal(DemoServer.Page.Length, page.Body.Length);

        RawHttpResponse echo = await SendAsync(port, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(426, echo.StatusCode);

        RawHttpResponse missing = await SendAsync(port, "GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.Equal(404, missing.StatusCode);
    }

    [Fact]
    public async Task HeadOnAWebSocketPath_Gets426_WithoutABody()
    {
        // RFC 9110 §9.3.2: a response to HEAD never carries content.
        await using RawClient raw = await RawClient.ConnectAsync(Port);
        await raw.WriteAsync("HEAD /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        RawHttpResponse response = await raw.ReadHttpResponseAsync(readBody: false);
        Assert.Equal(426, response.StatusCode);
        byte[] after = await raw.ReadToEndAsync(TimeSpan.FromSeconds(10));
        Assert.True(after.Length == 0, $"{after.Length} body bytes followed the HEAD response: {System.Text.Encoding.UTF8.GetString(after)}");
    }
}
