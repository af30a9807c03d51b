using System.Collections.Concurrent;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;
using Xunit.Abstractions;

namespace Ws4Net.Interop.Tests.Compression;

/// <summary>
/// Third-party clients with permessage-deflate (Node `ws` with threshold 0, Python `websockets` with its
/// default compression) run their scripts from eng/peers against the demo server's <c>/echo</c>, whose
/// compression is on by default. The script checks and prints the server's answer; the test checks the
/// exact answer and that the server-side connection has the agreement.
/// </summary>
public sealed class DeflatePeerClientsAgainstDemoServerTests(ITestOutputHelper output)
{
    public static TheoryData<string[], string> NodeVariants => new()
    {
        { [], "permessage-deflate; server_no_context_takeover" },
        { ["--client-no-context-takeover", "--server-no-context-takeover"], "permessage-deflate; server_no_context_takeover; client_no_context_takeover" },
        { ["--client-max-window-bits", "9", "--server-max-window-bits", "10"], "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9" },
    };

    [Theory]
    [MemberData(nameof(NodeVariants))]
    public async Task NodeWs_client_with_deflate_passes_its_script(string[] arguments, string expectedAnswer)
    {
        string node = TestEnvironment.RequireNodeWithPeerModules();
        await RunAsync(node, TestEnvironment.PeerScript("node-deflate-client.mjs"), arguments, expectedAnswer).WaitAsync(Timeouts.PeerScript * 2);
    }

    [Fact]
    public async Task PythonWebsockets_client_with_deflate_passes_its_script()
    {
        string python = TestEnvironment.RequirePythonWebsockets();
        await RunAsync(python, TestEnvironment.PeerScript("py-deflate-client.py"), [], "permessage-deflate; server_no_context_takeover").WaitAsync(Timeouts.PeerScript * 2);
    }

    private async Task RunAsync(string executable, string script, string[] arguments, string expectedAnswer)
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        var opened = new ConcurrentQueue<WebSocketConnection>();
        server.Server.ConnectionOpened += opened.Enqueue;
        string url = server.WebSocketUri("/echo").ToString();

        using PeerProcess client = PeerProcess.Start(executable, [script, "--url", url, .. arguments], TestEnvironment.PeersDir);
        int exitCode = await client.WaitForExitAsync(Timeouts.PeerScript).WaitAsync(Timeouts.PeerScript * 2);
        output.WriteLine(client.Transcript);

        Assert.True(exitCode == 0, $"{Path.GetFileName(script)} exited with code {exitCode} against {url}.\n{client.Transcript}");
        Assert.Contains("ALL OK", client.StdoutLines);
        Assert.DoesNotContain(client.StdoutLines, line => line.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.Contains($"OK extensions {expectedAnswer}", client.StdoutLines);

        WebSocketConnection serverSide = Assert.Single(opened);
        Assert.NotNull(serverSide.PerMessageDeflate);
        Assert.Equal(expectedAnswer, serverSide.PerMessageDeflate.ToHeaderValue());
    }
}
