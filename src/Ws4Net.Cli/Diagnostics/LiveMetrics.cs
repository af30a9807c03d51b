using System.Diagnostics.Metrics;
using System.Globalization;
using Ws4Net.Diagnostics;

namespace Ws4Net.Cli.Diagnostics;

/// <summary>
/// The live line of <c>ws4net serve --metrics</c>: a <see cref="MeterListener"/> on Ws4Net's own meter
/// (<see cref="Ws4NetDiagnostics.MeterName"/>) that sums the connection, message and byte counters and
/// keeps the last <see cref="RttSamples"/> ping round-trip times, and a line once per interval:
/// open connections, messages per second in and out, MiB per second in and out (payload bytes), and the
/// p50/p99 of the recent ping round-trip times. Thread-safe: measurements arrive on any thread.
/// </summary>
internal sealed class LiveMetrics : IDisposable
{
    /// <summary>How many recent ping round-trip times the percentiles are computed over (count).</summary>
    public const int RttSamples = 1024;

    private readonly MeterListener _listener = new();
    private readonly Lock _rttLock = new();
    private readonly double[] _rtts = new double[RttSamples];
    private int _rttCount;
    private int _rttNext;
    private long _active;
    private long _messagesIn;
    private long _messagesOut;
    private long _bytesIn;
    private long _bytesOut;
    private (long MessagesIn, long MessagesOut, long BytesIn, long BytesOut, long At) _last;

    /// <summary>Starts listening to the Ws4Net meter. Start it before the server, so that the active-connection sum starts at zero.</summary>
    public LiveMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Ws4NetDiagnostics.MeterName && instrument.Name is Ws4NetDiagnostics.ConnectionsActive
                or Ws4NetDiagnostics.MessagesReceived or Ws4NetDiagnostics.MessagesSent
                or Ws4NetDiagnostics.BytesReceived or Ws4NetDiagnostics.BytesSent or Ws4NetDiagnostics.PingRoundTripTime)
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, _, state) => ((LiveMetrics)state!).OnLong(instrument.Name, value));
        _listener.SetMeasurementEventCallback<double>(static (instrument, value, _, state) => ((LiveMetrics)state!).OnRtt(value));
        _listener.Start();
        _last = (0, 0, 0, 0, Environment.TickCount64);
    }

    /// <summary>Prints <see cref="Sample"/> to <paramref name="output"/> every <paramref name="interval"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="output">Where the lines go (the console's standard output).</param>
    /// <param name="interval">Time between lines (one second for <c>serve --metrics</c>).</param>
    /// <param name="cancellationToken">Ends the loop.</param>
    /// <returns>Completes when the loop ends; never faults on cancellation.</returns>
    public async Task RunAsync(TextWriter output, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await output.WriteLineAsync(Sample()).ConfigureAwait(false);
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Builds one line from the counts since the previous call (rates over the time elapsed since then).</summary>
    /// <returns>For example <c>metrics: connections 12 | msgs/s in 1200 out 1200 | MiB/s in 0.07 out 0.07 | ping rtt p50 0.31 ms p99 1.20 ms</c>.</returns>
    public string Sample()
    {
        long now = Environment.TickCount64;
        long messagesIn = Interlocked.Read(ref _messagesIn);
        long messagesOut = Interlocked.Read(ref _messagesOut);
        long bytesIn = Interlocked.Read(ref _bytesIn);
        long bytesOut = Interlocked.Read(ref _bytesOut);
        double seconds = Math.Max(0.001, (now - _last.At) / 1000.0);
        double mib = 1024.0 * 1024.0;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"metrics: connections {Interlocked.Read(ref _active)} | msgs/s in {(messagesIn - _last.MessagesIn) / seconds:0} out {(messagesOut - _last.MessagesOut) / seconds:0} | MiB/s in {(bytesIn - _last.BytesIn) / seconds / mib:0.00} out {(bytesOut - _last.BytesOut) / seconds / mib:0.00} | ping rtt {RttText()}");
        _last = (messagesIn, messagesOut, bytesIn, bytesOut, now);
        return line;
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void OnLong(string instrument, long value)
    {
        switch (instrument)
        {
            case Ws4NetDiagnostics.ConnectionsActive:
                Interlocked.Add(ref _active, value);
                break;
            case Ws4NetDiagnostics.MessagesReceived:
                Interlocked.Add(ref _messagesIn, value);
                break;
            case Ws4NetDiagnostics.MessagesSent:
                Interlocked.Add(ref _messagesOut, value);
                break;
            case Ws4NetDiagnostics.BytesReceived:
                Interlocked.Add(ref _bytesIn, value);
                break;
            case Ws4NetDiagnostics.BytesSent:
                Interlocked.Add(ref _bytesOut, value);
                break;
        }
    }

    private void OnRtt(double seconds)
    {
        lock (_rttLock)
        {
            _rtts[_rttNext] = seconds;
            _rttNext = (_rttNext + 1) % RttSamples;
            _rttCount = Math.Min(_rttCount + 1, RttSamples);
        }
    }

    private string RttText()
    {
        double[] sorted;
        lock (_rttLock)
        {
            if (_rttCount == 0)
            {
                return "p50 - p99 - (no pong yet)";
            }

            sorted = _rtts.AsSpan(0, _rttCount).ToArray();
        }

        Array.Sort(sorted);
        return string.Create(CultureInfo.InvariantCulture, $"p50 {Percentile(sorted, 0.50) * 1000:0.00} ms p99 {Percentile(sorted, 0.99) * 1000:0.00} ms");
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double p)
        => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
