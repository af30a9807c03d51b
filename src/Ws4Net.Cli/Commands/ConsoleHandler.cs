using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// Prints what a client connection receives: text as <c>&lt; text</c>, binary as length and hex, pongs with
/// the round-trip time of the ping that carried the same payload. Thread-safe (pings are recorded from the
/// input loop, pongs matched on the receive loop).
/// </summary>
internal sealed class ConsoleHandler : WebSocketHandler
{
    /// <summary>The most pings awaiting their pong that are remembered; older ones are forgotten.</summary>
    private const int MaxPendingPings = 64;

    private readonly ConcurrentDictionary<string, long> _pings = new(StringComparer.Ordinal);

    /// <summary>Gets how many data messages have been printed.</summary>
    public int MessageCount => Volatile.Read(ref _messages);

    private int _messages;

    /// <summary>Remembers when a ping with <paramref name="payload"/> was sent.</summary>
    public void PingSent(ReadOnlySpan<byte> payload)
    {
        if (_pings.Count >= MaxPendingPings)
        {
            _pings.Clear();
        }

        _pings[Convert.ToHexString(payload)] = Stopwatch.GetTimestamp();
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        Interlocked.Increment(ref _messages);
        if (message.IsText)
        {
            Console.Out.WriteLine($"< {message.GetText()}");
        }
        else
        {
            int shown = Math.Min(message.Payload.Length, 64);
            string hex = Convert.ToHexString(message.Payload.Span[..shown]);
            Console.Out.WriteLine($"< [binary {message.Payload.Length} B] {hex}{(shown < message.Payload.Length ? "..." : string.Empty)}");
        }

        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnPongAsync(ReadOnlyMemory<byte> payload)
    {
        string text = Encoding.UTF8.GetString(payload.Span);
        if (_pings.TryRemove(Convert.ToHexString(payload.Span), out long sent))
        {
            double ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"< pong {text} ({ms:0.###} ms)"));
        }
        else
        {
            Console.Out.WriteLine($"< pong {text} (unsolicited)");
        }

        return ValueTask.CompletedTask;
    }
}
