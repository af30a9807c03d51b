using System.Globalization;
using System.Net;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Management;
using Ws4Net.Protocol;
using Ws4Net.Server;
using Xunit.Abstractions;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// The manager's graceful shutdown seen by third-party clients (Python `websockets`, Node `ws`): every
/// message queued before the shutdown arrives, in order, then the close 1001 "going away", and the
/// close handshake completes before the deadline (nobody is aborted).
/// </summary>
public sealed class ShutdownInteropTests(ITestOutputHelper output)
{
    private const int Messages = 300;

    [Fact]
    public async Task PythonWebsockets_receives_everything_queued_then_1001_within_the_deadline()
    {
        string python = TestEnvironment.RequirePythonWebsockets();
        await RunAsync(python, TestEnvironment.PeerScript("py-shutdown-client.py")).WaitAsync(Timeouts.PeerScript);
    }

    [Fact]
    public async Task NodeWs_receives_everything_queued_then_1001_within_the_deadline()
    {
        string node = TestEnvironment.RequireNodeWithPeerModules();
        await RunAsync(node, TestEnvironment.PeerScript("node-shutdown-client.mjs")).WaitAsync(Timeouts.PeerScript);
    }

    private async Task RunAsync(string executable, string script)
    {
        await using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Map("/hold", _ => new ListenOnlyHandler());
        var opened = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += c => opened.TrySetResult(c);
        await server.StartAsync().WaitAsync(Timeouts.Step);
        string url = $"ws://127.0.0.1:{((IPEndPoint)server.LocalEndPoint!).Port}/hold";

        using PeerProcess peer = PeerProcess.Start(executable, [script, "--url", url], TestEnvironment.PeersDir);
        await peer.WaitForStdoutLineAsync(l => l == "OPEN", Timeouts.PeerStartup);
        WebSocketConnection serverSide = await opened.Task.WaitAsync(Timeouts.Step);
        Assert.Equal(WebSocketSubscribeResult.Subscribed, server.Manager.Subscribe(serverSide, "t"));

        // Direct sends, publishes and broadcasts, all queued before the shutdown begins (1 KiB each: more than a socket write).
        string pad = new('.', 1024);
        var expected = new List<string>();
        for (int i = 0; i < Messages; i++)
        {
            string text = string.Create(CultureInfo.InvariantCulture, $"m{i:D4}{pad}");
            expected.Add("MSG " + text);
            WebSocketBroadcastResult sent = (i % 3) switch
            {
                0 => server.Manager.Publish("t", text),
                1 => server.Manager.Broadcast(text),
                _ => Count(serverSide.TrySendText(text)),
            };
            Assert.Equal(1, sent.Delivered);
        }

        WebSocketShutdownResult result = await server.Manager.ShutdownAsync(TimeSpan.FromSeconds(10)).WaitAsync(Timeouts.Shutdown);
        int exitCode = await peer.WaitForExitAsync(Timeouts.Step);
        output.WriteLine(peer.Transcript);

        Assert.Equal(new WebSocketShutdownResult(1, 0), result);
        Assert.Equal(0, exitCode);
        IReadOnlyList<string> lines = peer.StdoutLines;
        Assert.Equal(expected, lines.Where(l => l.StartsWith("MSG ", StringComparison.Ordinal)));
        Assert.Equal("CLOSE 1001 going away", lines[^1]);
        Assert.Equal(WebSocketCloseCode.GoingAway, (await serverSide.Completion.WaitAsync(Timeouts.Step)).Code);
    }

    private static WebSocketBroadcastResult Count(WebSocketSendStatus status) => status switch
    {
        WebSocketSendStatus.Sent => new(1, 0, 0, 0),
        WebSocketSendStatus.Queued => new(0, 1, 0, 0),
        WebSocketSendStatus.Dropped => new(0, 0, 1, 0),
        _ => new(0, 0, 0, 1),
    };

    private sealed class ListenOnlyHandler : WebSocketHandler;
}
