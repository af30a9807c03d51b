using System.Collections.Concurrent;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;
using Xunit.Abstractions;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// Third-party clients (Node `ws`, Python `websockets`, AutobahnPython, faye-websocket) run their
/// own conformance scripts from eng/peers against the demo server's <c>/echo</c>: text and binary
/// of every length encoding, fragmented messages where the client can send them (Autobahn),
/// ping/pong and a 4000 close handshake. The script's stdout is the client's verdict; our side
/// must have seen the client's 4000 "done" close.
/// </summary>
public sealed class PeerClientsAgainstDemoServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task NodeWsClient_PassesItsEchoScript()
    {
        string node = TestEnvironment.RequireNodeWithPeerModules();
        await RunClientScriptAsync(node, TestEnvironment.PeerScript("node-client.mjs")).WaitAsync(Timeouts.PeerScript * 2);
    }

    [Fact]
    public async Task PythonWebsocketsClient_PassesItsEchoScript()
    {
        string python = TestEnvironment.RequirePythonWebsockets();
        await RunClientScriptAsync(python, TestEnvironment.PeerScript("py-client.py")).WaitAsync(Timeouts.PeerScript * 2);
    }

    [Fact]
    public async Task AutobahnPythonClient_PassesItsEchoScript_IncludingFragmentedMessages()
    {
        string python = TestEnvironment.RequirePythonAutobahn();
        await RunClientScriptAsync(python, TestEnvironment.PeerScript("autobahn-client.py"), "OK fragmented text 3-byte fragments", "OK streamed binary")
            .WaitAsync(Timeouts.PeerScript * 2);
    }

    [Fact]
    public async Task FayeWebsocketClient_PassesItsEchoScript()
    {
        string node = TestEnvironment.RequireNodeWithPeerModule("faye-websocket");
        await RunClientScriptAsync(node, TestEnvironment.PeerScript("faye-client.mjs")).WaitAsync(Timeouts.PeerScript * 2);
    }

    private async Task RunClientScriptAsync(string executable, string script, params string[] requiredLines)
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        var serverSides = new ConcurrentQueue<WebSocketConnection>();
        server.Server.ConnectionOpened += serverSides.Enqueue;
        string url = server.WebSocketUri("/echo").ToString();

        using PeerProcess client = PeerProcess.Start(executable, [script, "--url", url], TestEnvironment.PeersDir);
        int exitCode = await client.WaitForExitAsync(Timeouts.PeerScript).WaitAsync(Timeouts.PeerScript * 2);
        output.WriteLine(client.Transcript);

        string name = Path.GetFileName(script);
        Assert.True(exitCode == 0, $"{name} exited with code {exitCode} against {url}.\n{client.Transcript}");
        Assert.True(client.StdoutLines.Contains("ALL OK"), $"{name} did not print ALL OK.\n{client.Transcript}");
        Assert.DoesNotContain(client.StdoutLines, line => line.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.Contains(client.StdoutLines, line => line.StartsWith("OK close 4000", StringComparison.Ordinal));
        foreach (string required in requiredLines)
        {
            Assert.True(client.StdoutLines.Contains(required), $"{name} did not print \"{required}\".\n{client.Transcript}");
        }

        // Our side of the one connection the script opened saw the client's close 4000 "done".
        WebSocketConnection serverSide = Assert.Single(serverSides);
        WebSocketCloseInfo status = await serverSide.Completion.WaitAsync(Timeouts.Step);
        Assert.True(
            status.Code == (WebSocketCloseCode)4000 && status.Reason == "done" && status.InitiatedByPeer,
            $"The demo server should have seen the client's close 4000 \"done\", got {status}.\n{client.Transcript}");
        Assert.Equal(WebSocketConnectionState.Closed, serverSide.State);
    }
}
