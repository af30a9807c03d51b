namespace Ws4Net.Cli.Bench;

/// <summary>
/// A live progress line on standard error, once a second: rewritten in place on a terminal, one plain
/// line per update when standard error is redirected (logs stay readable). Standard output is left to
/// the summary and the JSON line. Thread-safe: <see cref="RunAsync"/> is the only writer.
/// </summary>
internal static class ProgressLine
{
    /// <summary>Prints <paramref name="status"/>'s text every second until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="status">Produces the line (called on a timer thread; must be thread-safe).</param>
    /// <param name="cancellationToken">Ends the loop.</param>
    /// <returns>A task that completes when the loop ends (never faults).</returns>
    public static async Task RunAsync(Func<string> status, CancellationToken cancellationToken)
    {
        bool terminal = !Console.IsErrorRedirected;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        bool wrote = false;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                string line = status();
                if (terminal)
                {
                    Console.Error.Write("\r" + line.PadRight(Math.Max(0, Math.Min(Console.WindowWidth - 1, 120))));
                }
                else
                {
                    Console.Error.WriteLine(line);
                }

                wrote = true;
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
        catch (IOException)
        {
            // The console went away; progress is optional.
        }

        if (terminal && wrote)
        {
            Console.Error.WriteLine();
        }
    }
}
