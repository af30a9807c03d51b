using Ws4Net.Interop.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// Third-party clients (Node `ws`, Python `websockets`) run their own conformance scripts from
/// eng/peers against the demo server's <c>/echo</c>: text and binary of every length encoding,
/// ping/pong and a 4000 close handshake. The script's stdout is the verdict.
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

    private async Task RunClientScriptAsync(string executable, string script)
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        string url = server.WebSocketUri("/echo").ToString();

        using PeerProcess client = PeerProcess.Start(executable, [script, "--url", url], TestEnvironment.PeersDir);
        int exitCode = await client.WaitForExitAsync(Timeouts.PeerScript).WaitAsync(Timeouts.PeerScript * 2);
        output.WriteLine(client.Transcript);

        Assert.True(exitCode == 0, $"{Path.GetFileName(script)} exited with code {exitCode} against {url}.\n{client.Transcript}");
        Assert.True(client.StdoutLines.Contains("ALL OK"), $"{Path.GetFileName(script)} did not print ALL OK.\n{client.Transcript}");
        Assert.DoesNotContain(client.StdoutLines, line => line.StartsWith("FAIL", StringComparison.Ordinal));
    }
}
