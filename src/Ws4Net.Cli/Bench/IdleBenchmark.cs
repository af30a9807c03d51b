using System.Diagnostics;
using System.Globalization;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// <c>ws4net bench idle</c>: the server's memory per idle connection. Samples the server's VmRSS, opens N
/// connections that send nothing, waits a settle time, samples again, and closes every connection
/// cleanly. One instance per run; not thread-safe.
/// </summary>
/// <param name="target">Any WebSocket endpoint of the server.</param>
/// <param name="connections">Number of connections.</param>
/// <param name="serverPid">The server's process id (its <c>/proc/PID/status</c> is read).</param>
/// <param name="settle">Wait between the last handshake and the second sample.</param>
/// <param name="deflateMessages">With more than 0: offer permessage-deflate as browsers do and exchange this many compressed 2 KiB messages per connection before idling.</param>
internal sealed class IdleBenchmark(BenchTarget target, int connections, int serverPid, TimeSpan settle, int deflateMessages = 0)
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="cancellationToken">Ctrl-C.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="BenchException">The server process cannot be read or a connection failed.</exception>
    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        long before = ProcessStats.ReadRssKiB(serverPid);
        long start = Stopwatch.GetTimestamp();
        RawConnection[] opened = await RawConnection.ConnectManyAsync(target, connections, 64, cancellationToken, offerDeflate: deflateMessages > 0).ConfigureAwait(false);
        int compressed = 0;
        if (deflateMessages > 0)
        {
            // As a browser tab would: a few compressed 2 KiB text messages each way, then silence.
            await Parallel.ForEachAsync(
                opened,
                new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (connection, token) =>
                {
                    if (connection.Deflate)
                    {
                        Interlocked.Increment(ref compressed);
                    }

                    await DeflateExchange.RunAsync(connection, deflateMessages, token).ConfigureAwait(false);
                }).ConfigureAwait(false);
        }

        TimeSpan opening = Stopwatch.GetElapsedTime(start);
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"idle: {connections:#,0} connections open in {opening.TotalSeconds:0.0} s; settling {settle.TotalSeconds:0.#} s")).ConfigureAwait(false);
        try
        {
            await Task.Delay(settle, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: sample now.
        }

        long after = ProcessStats.ReadRssKiB(serverPid);

        long closeErrors = 0;
        long closeStart = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            opened,
            new ParallelOptions { MaxDegreeOfParallelism = 256 },
            async (connection, _) =>
            {
                byte[] scratch = new byte[256];
                if (!await connection.CloseAsync(null, scratch, TimeSpan.FromSeconds(5)).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref closeErrors);
                }
            }).ConfigureAwait(false);
        TimeSpan closing = Stopwatch.GetElapsedTime(closeStart);

        var report = new BenchReport();
        report.Add("bench", "idle");
        report.Add("url", target.Uri.ToString());
        report.Add("connections", connections);
        report.Add("settle_s", settle.TotalSeconds);
        report.Add("deflate_messages", deflateMessages);
        report.Add("deflate_agreed", compressed);
        report.Add("rss_before_kib", before);
        report.Add("rss_after_kib", after);
        report.Add("kib_per_connection", connections == 0 ? 0 : (after - before) / (double)connections);
        report.Add("open_s", opening.TotalSeconds);
        report.Add("close_s", closing.TotalSeconds);
        report.Add("errors", closeErrors);
        return report;
    }
}
