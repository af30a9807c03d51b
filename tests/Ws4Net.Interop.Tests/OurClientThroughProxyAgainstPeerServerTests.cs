using System.Net;
using Ws4Net.Client;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;
using Ws4Net.Tests;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// Our client through the test proxies (HTTP CONNECT with Basic credentials, SOCKS5) to third-party echo servers
/// (Python <c>websockets</c>, Node <c>ws</c>): the tunnel carries a real peer's handshake, messages and close.
/// A missing peer fails the test (see <see cref="TestEnvironment"/>).
/// </summary>
public sealed class OurClientThroughProxyAgainstPeerServerTests
{
    [Theory]
    [InlineData("python-websockets", "http")]
    [InlineData("python-websockets", "socks5")]
    [InlineData("node-ws", "http")]
    [InlineData("node-ws", "socks5")]
    public async Task EchoThroughTheProxy_ClosesCleanly(string peerName, string proxyKind)
    {
        (string executable, string script) = peerName == "node-ws"
            ? (TestEnvironment.RequireNodeWithPeerModules(), TestEnvironment.PeerScript("node-echo-server.mjs"))
            : (TestEnvironment.RequirePythonWebsockets(), TestEnvironment.PeerScript("py-echo-server.py"));
        (PeerProcess peer, int port) = await PeerProcess.StartServerAsync(executable, script, Timeouts.PeerStartup);
        await using var http = TestConnectProxy.Start();
        await using var socks = TestSocks5Proxy.Start();
        try
        {
            http.RequiredCredentials = ("interop", "secret");
            var options = new WebSocketClientOptions
            {
                ConnectTimeout = Timeouts.Step,
                Proxy = proxyKind == "http"
                    ? new WebProxy(http.Uri) { Credentials = new NetworkCredential("interop", "secret") }
                    : new WebProxy(new Uri($"socks5://127.0.0.1:{socks.Port}")),
            };

            await using WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo"), options).WaitAsync(Timeouts.Step);
            byte[] binary = [0, 1, 2, 253, 254, 255];
            await client.SendTextAsync("through the proxy").AsTask().WaitAsync(Timeouts.Step);
            await client.SendBinaryAsync(binary).AsTask().WaitAsync(Timeouts.Step);
            Assert.Equal("through the proxy", (await client.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step))!.Value.GetText());
            Assert.Equal(binary, (await client.ReceiveAsync().AsTask().WaitAsync(Timeouts.Step))!.Value.Payload.ToArray());
            await client.CloseAsync(WebSocketCloseCode.NormalClosure, "done").AsTask().WaitAsync(Timeouts.Step);
            Assert.Equal(WebSocketCloseCode.NormalClosure, client.CloseStatus!.Value.Code);

            Assert.Equal(proxyKind == "http" ? 1 : 0, http.TunnelCount);
            Assert.Equal(proxyKind == "socks5" ? 1 : 0, socks.Targets.Count);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{ex.Message}\n{peer.Transcript}", ex);
        }
        finally
        {
            peer.Dispose();
        }
    }
}
