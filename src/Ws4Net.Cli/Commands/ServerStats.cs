using System.Globalization;
using Ws4Net.Server;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// The <c>ws4net serve --stats-interval</c> line: what a soak or load test cannot read from <c>/proc</c>
/// (the managed heap), printed by the server about itself. One line per interval on standard output:
/// <c>stats: gc_heap_bytes=N gc_committed_bytes=N gc_fragmented_bytes=N gc0=N gc1=N gc2=N connections=N handshakes_pending=N handshakes_evicted=N</c>.
/// <c>gc_heap_bytes</c> is the managed heap size measured at the end of the last garbage collection (so it
/// tracks what survives, not the allocation churn between collections). Thread-safe (stateless).
/// </summary>
internal static class ServerStats
{
    /// <summary>Formats one stats line.</summary>
    /// <param name="server">The running server (its manager's connection count).</param>
    /// <returns>The line, without a newline.</returns>
    public static string Format(WebSocketServer server)
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.Any);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"stats: gc_heap_bytes={info.HeapSizeBytes} gc_committed_bytes={info.TotalCommittedBytes} gc_fragmented_bytes={info.FragmentedBytes} gc0={GC.CollectionCount(0)} gc1={GC.CollectionCount(1)} gc2={GC.CollectionCount(2)} connections={server.Manager.Count} handshakes_pending={server.PendingHandshakes} handshakes_evicted={server.HandshakesEvicted}");
    }

    /// <summary>Prints a stats line every <paramref name="interval"/> until <paramref name="stopping"/> is cancelled.</summary>
    /// <param name="server">The running server.</param>
    /// <param name="interval">Time between lines (positive).</param>
    /// <param name="output">Where the lines go (flushed after each).</param>
    /// <param name="stopping">Ends the loop (the host is stopping).</param>
    /// <returns>Completes when the loop ends; never faults on cancellation.</returns>
    public static async Task RunAsync(WebSocketServer server, TimeSpan interval, TextWriter output, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                await output.WriteLineAsync(Format(server)).ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // The host is stopping.
        }
    }
}
