using System.Globalization;
using System.Text.RegularExpressions;

namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>One <c>ws4net serve --amqp</c> process (a node): its port, its id, its log lines.</summary>
internal sealed partial class ServeNode : IAsyncDisposable
{
    private ServeNode(LineProcess process, string nodeId, int port)
    {
        Process = process;
        NodeId = nodeId;
        Port = port;
    }

    public LineProcess Process { get; }

    public string NodeId { get; }

    public int Port { get; }

    public Uri WebSocketUri(string path) => new($"ws://127.0.0.1:{Port}{path}");

    public string PageUrl => $"http://127.0.0.1:{Port}/";

    /// <summary>Starts a node and waits until it listens and its backplane is connected.</summary>
    public static async Task<ServeNode> StartAsync(RabbitMqBroker broker, string exchange, string nodeId)
    {
        LineProcess process = LineProcess.Start(
            "node " + nodeId,
            "dotnet",
            [AmqpTestEnvironment.CliDll, "serve", "--port", "0", "--node-id", nodeId, "--amqp", broker.Uri, "--amqp-exchange", exchange, "--amqp-max-reconnect-delay", "2", "--keepalive", "0", "--no-compression"]);
        try
        {
            string open = await process.WaitForLineAsync(l => l.Contains("Open http://", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "listening line");
            int port = int.Parse(PortPattern().Match(open).Groups[1].Value, CultureInfo.InvariantCulture);
            await process.WaitForLineAsync(l => l.Contains($"Backplane node {nodeId} connected", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "backplane connection");
            return new ServeNode(process, nodeId, port);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the node gracefully (SIGTERM) and returns its final counters line.</summary>
    public async Task<BackplaneCounts> StopAsync()
    {
        await Process.StopAsync(TimeSpan.FromSeconds(20));
        string line = await Process.WaitForLineAsync(l => l.Contains($"Backplane node {NodeId} stopped", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "final counters");
        Match m = CountsPattern().Match(line);
        Assert.True(m.Success, line);
        return new BackplaneCounts(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    [GeneratedRegex(@"Open http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"forwarded (\d+) .*received (\d+), own skipped (\d+)")]
    private static partial Regex CountsPattern();
}

/// <summary>A node's final backplane counters (from its log).</summary>
internal readonly record struct BackplaneCounts(long Forwarded, long Received, long SkippedOwn);
