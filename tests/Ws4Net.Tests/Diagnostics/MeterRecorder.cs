using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Ws4Net.Diagnostics;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>One measurement of a Ws4Net instrument, with its tags.</summary>
internal sealed record Measurement(string Instrument, string? Unit, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? Tag(string key) => Tags.TryGetValue(key, out object? value) ? value : null;

    public bool Has(string key, object? value) => Equals(Tag(key), value);
}

/// <summary>
/// Records every measurement of the Ws4Net meter through a <see cref="MeterListener"/> while it lives.
/// The meter is process-wide: tests that use it run in <see cref="DiagnosticsCollection"/> (alone) and
/// look for values only they produce (distinctive sizes and close codes).
/// </summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly ConcurrentDictionary<string, string?> _published = new(StringComparer.Ordinal);

    public MeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Ws4NetDiagnostics.MeterName)
            {
                _published[instrument.Name] = instrument.Unit;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Gets the unit of every Ws4Net instrument published, by name.</summary>
    public IReadOnlyDictionary<string, string?> Published => _published;

    public IReadOnlyList<Measurement> All => [.. _measurements];

    public IReadOnlyList<Measurement> Of(string instrument, Func<Measurement, bool>? where = null)
        => [.. _measurements.Where(m => m.Instrument == instrument && (where is null || where(m)))];

    public double Sum(string instrument, Func<Measurement, bool>? where = null) => Of(instrument, where).Sum(m => m.Value);

    /// <summary>Polls observable instruments (the send-queue gauge) now.</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    /// <summary>Waits until <paramref name="condition"/> holds (measurements arrive from other threads, some after the awaited operation).</summary>
    public async Task WaitForAsync(Func<MeterRecorder, bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} was not measured; measurements:\n{string.Join("\n", All.Select(m => $"{m.Instrument} {m.Value} {string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}"))}");
            }

            await Task.Delay(20);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, instrument.Unit, value, copy));
    }
}

/// <summary>Tests that observe the process-wide Ws4Net meter and activity source run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DiagnosticsCollection
{
    public const string Name = "Ws4Net diagnostics";
}
