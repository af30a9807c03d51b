using System.Diagnostics;
using System.Net;
using System.Text;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>
/// The client through an HTTP CONNECT proxy (<see cref="TestConnectProxy"/>): ws and wss (TLS with the origin
/// inside the tunnel), Basic proxy credentials from <see cref="IWebProxy.Credentials"/> or the proxy URI (and never
/// sent to the origin), 407 and refused tunnels as <see cref="WebSocketConnectException"/>, and the proxy
/// environment variables honoured by default (checked in a child process, whose environment the test owns).
/// </summary>
public sealed class ProxyTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Echo_ThroughAProxyWithoutAuthentication_UsesOneTunnelToTheOrigin(bool secure)
    {
        await using var proxy = TestConnectProxy.Start();
        TestServer server = fixture.Get(secure);
        WebSocketClientOptions options = server.ClientOptions();
        options.Proxy = new WebProxy(proxy.Uri);

        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record", options);
        await using (client)
        {
            await client.SendTextAsync("through the tunnel").WithTimeout();
            Assert.Equal("through the tunnel", (await handler.Messages.ReadAsync().AsTask().WithTimeout()).Text);
            await client.CloseAsync().WithTimeout();
        }

        Assert.Equal(1, proxy.TunnelCount);
        string connect = Assert.Single(proxy.Requests);
        Assert.StartsWith($"CONNECT 127.0.0.1:{server.Port} HTTP/1.1\r\n", connect, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxy-Authorization", connect, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BasicCredentials_FromTheProxyObject_GoToTheProxyOnly(bool secure)
    {
        await using var proxy = TestConnectProxy.Start();
        proxy.RequiredCredentials = ("alice", "s3cret:with colon");
        TestServer server = fixture.Get(secure);
        WebSocketClientOptions options = server.ClientOptions();
        options.Proxy = new WebProxy(proxy.Uri) { Credentials = new NetworkCredential("alice", "s3cret:with colon") };

        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record", options);
        await using (client)
        {
            await client.SendTextAsync("authenticated").WithTimeout();
            Assert.Equal("authenticated", (await handler.Messages.ReadAsync().AsTask().WithTimeout()).Text);
            Assert.False(handler.Request!.Headers.Contains("Proxy-Authorization"));
            Assert.False(handler.Request.Headers.Contains("Authorization"));
        }

        Assert.Equal(1, proxy.TunnelCount);
    }

    [Fact]
    public async Task BasicCredentials_FromTheProxyUri_ArePercentDecoded()
    {
        await using var proxy = TestConnectProxy.Start();
        proxy.RequiredCredentials = ("bob", "p@ss/word");
        TestServer server = fixture.Plain;
        WebSocketClientOptions options = server.ClientOptions();
        options.Proxy = new WebProxy(new Uri($"http://bob:p%40ss%2Fword@127.0.0.1:{proxy.Port}"));

        await using WebSocketConnection client = await server.ConnectAsync("/echo", options);
        await client.SendTextAsync("hi").WithTimeout();
        Assert.Equal("hi", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        Assert.Equal(1, proxy.TunnelCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task MissingOrWrongCredentials_Give407AsProxyAuthenticationRequired(string? password)
    {
        await using var proxy = TestConnectProxy.Start();
        proxy.RequiredCredentials = ("alice", "right");
        TestServer server = fixture.Secure;
        WebSocketClientOptions options = server.ClientOptions();
        options.Proxy = new WebProxy(proxy.Uri) { Credentials = password is null ? null : new NetworkCredential("alice", password) };

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", options));
        Assert.Equal(WebSocketConnectError.ProxyAuthenticationRequired, error.Error);
        Assert.Equal(407, error.StatusCode);
        Assert.True(error.Headers!.TryGetValue("Proxy-Authenticate", out string? challenge));
        Assert.Contains("Basic", challenge, StringComparison.Ordinal);
        Assert.Contains(password is null ? "no credentials" : "rejected", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.Equal(0, proxy.TunnelCount);
    }

    [Theory]
    [InlineData(403, false)]
    [InlineData(502, true)]
    public async Task RefusedTunnel_IsAProxyErrorWithTheProxysStatus(int status, bool transient)
    {
        await using var proxy = TestConnectProxy.Start();
        proxy.Refuse = _ => status;
        TestServer server = fixture.Plain;
        WebSocketClientOptions options = server.ClientOptions();
        options.Proxy = new WebProxy(proxy.Uri);

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", options));
        Assert.Equal(WebSocketConnectError.Proxy, error.Error);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(transient, error.IsTransient);
        Assert.Contains($"refused the tunnel to 127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableProxy_IsConnectionRefusedNamingTheProxy()
    {
        int port;
        await using (var gone = TestConnectProxy.Start())
        {
            port = gone.Port;
        }

        WebSocketClientOptions options = fixture.Plain.ClientOptions();
        options.Proxy = new WebProxy(new Uri($"http://127.0.0.1:{port}"));
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => fixture.Plain.ConnectAsync("/echo", options));
        Assert.Equal(WebSocketConnectError.ConnectionRefused, error.Error);
        Assert.Contains($"proxy 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseProxyFalse_AndBypassedHosts_ConnectDirectly()
    {
        await using var proxy = TestConnectProxy.Start();
        TestServer server = fixture.Plain;

        WebSocketClientOptions disabled = server.ClientOptions();
        disabled.Proxy = new WebProxy(proxy.Uri);
        disabled.UseProxy = false;
        await using (WebSocketConnection client = await server.ConnectAsync("/echo", disabled))
        {
            await client.CloseAsync().WithTimeout();
        }

        WebSocketClientOptions bypassed = server.ClientOptions();
        bypassed.Proxy = new EnvironmentProxy(Variables(("http_proxy", proxy.Uri.ToString()), ("no_proxy", "example.com,127.0.0.1")));
        await using (WebSocketConnection client = await server.ConnectAsync("/echo", bypassed))
        {
            await client.CloseAsync().WithTimeout();
        }

        Assert.Equal(0, proxy.TunnelCount);
        Assert.Empty(proxy.Requests);
    }

    [Fact]
    public async Task EnvironmentProxy_SendsWsToTheHttpProxy_AndWssToTheHttpsProxy()
    {
        await using var httpProxy = TestConnectProxy.Start();
        await using var httpsProxy = TestConnectProxy.Start();
        var environment = new EnvironmentProxy(Variables(("HTTP_PROXY", $"127.0.0.1:{httpProxy.Port}"), ("HTTPS_PROXY", httpsProxy.Uri.ToString())));

        foreach (bool secure in new[] { false, true })
        {
            WebSocketClientOptions options = fixture.Get(secure).ClientOptions();
            options.Proxy = environment;
            await using WebSocketConnection client = await fixture.Get(secure).ConnectAsync("/echo", options);
            await client.SendTextAsync("x").WithTimeout();
            Assert.Equal("x", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        }

        Assert.Equal(1, httpProxy.TunnelCount);
        Assert.Equal(1, httpsProxy.TunnelCount);
        Assert.Contains($":{fixture.Plain.Port} ", Assert.Single(httpProxy.Requests), StringComparison.Ordinal);
        Assert.Contains($":{fixture.Secure.Port} ", Assert.Single(httpsProxy.Requests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsupportedProxyScheme_IsAProxyError()
    {
        WebSocketClientOptions options = fixture.Plain.ClientOptions();
        options.Proxy = new WebProxy(new Uri("https://127.0.0.1:1080"));
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => fixture.Plain.ConnectAsync("/echo", options));
        Assert.Equal(WebSocketConnectError.Proxy, error.Error);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Socks5_WithAndWithoutCredentials_TunnelsWsAndWss(bool secure)
    {
        await using var proxy = TestSocks5Proxy.Start();
        TestServer server = fixture.Get(secure);
        WebSocketClientOptions options = server.ClientOptions();
        if (secure)
        {
            proxy.RequiredCredentials = ("carol", "pässword");
            options.Proxy = new WebProxy(new Uri($"socks5://127.0.0.1:{proxy.Port}")) { Credentials = new NetworkCredential("carol", "pässword") };
        }
        else
        {
            options.Proxy = new WebProxy(new Uri($"socks5://127.0.0.1:{proxy.Port}"));
        }

        await using WebSocketConnection client = await server.ConnectAsync("/echo", options);
        await client.SendTextAsync("socks").WithTimeout();
        Assert.Equal("socks", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        Assert.Equal($"127.0.0.1:{server.Port}", Assert.Single(proxy.Targets));
    }

    [Fact]
    public async Task Socks5_WrongCredentials_AndRefusedTargets_AreReported()
    {
        await using var proxy = TestSocks5Proxy.Start();
        proxy.RequiredCredentials = ("carol", "right");
        WebSocketClientOptions wrong = fixture.Plain.ClientOptions();
        wrong.Proxy = new WebProxy(new Uri($"socks5://carol:wrong@127.0.0.1:{proxy.Port}"));
        WebSocketConnectException denied = await Assert.ThrowsAsync<WebSocketConnectException>(() => fixture.Plain.ConnectAsync("/echo", wrong));
        Assert.Equal(WebSocketConnectError.ProxyAuthenticationRequired, denied.Error);

        WebSocketClientOptions none = fixture.Plain.ClientOptions();
        none.Proxy = new WebProxy(new Uri($"socks5://127.0.0.1:{proxy.Port}"));
        Assert.Equal(WebSocketConnectError.ProxyAuthenticationRequired, (await Assert.ThrowsAsync<WebSocketConnectException>(() => fixture.Plain.ConnectAsync("/echo", none))).Error);

        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        WebSocketClientOptions right = fixture.Plain.ClientOptions();
        right.Proxy = new WebProxy(new Uri($"socks5://carol:right@127.0.0.1:{proxy.Port}"));
        WebSocketConnectException refused = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{closedPort}/"), right).WithTimeout());
        Assert.Equal(WebSocketConnectError.ConnectionRefused, refused.Error);
        Assert.Contains("SOCKS5 reply 5", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefault_HonoursHttpProxyFromTheEnvironment_InTheWs4netCommand()
    {
        await using var proxy = TestConnectProxy.Start();
        string cli = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { cli, "send", fixture.Plain.Uri("/echo").ToString(), "via the environment", "--replies", "1" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (string name in new[] { "http_proxy", "https_proxy", "all_proxy", "no_proxy", "NO_PROXY", "HTTPS_PROXY", "ALL_PROXY", "GATEWAY_INTERFACE" })
        {
            info.Environment.Remove(name);
        }

        info.Environment["HTTP_PROXY"] = proxy.Uri.ToString();
        using Process process = Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
            Assert.Equal("via the environment", (await stdout).Trim());
            Assert.Equal(1, proxy.TunnelCount);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    internal static Func<string, string?> Variables(params (string Name, string Value)[] variables)
        => name => variables.FirstOrDefault(v => v.Name == name).Value;
}
