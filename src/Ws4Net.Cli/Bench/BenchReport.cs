using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// The figures of one run, in insertion order: printed as a human summary and as exactly one
/// <c>JSON {...}</c> line (machine-readable, one object). Not thread-safe.
/// </summary>
internal sealed class BenchReport
{
    private readonly List<KeyValuePair<string, object>> _figures = [];

    /// <summary>Adds a text figure.</summary>
    /// <param name="key">snake_case name.</param>
    /// <param name="value">The value.</param>
    public void Add(string key, string value) => _figures.Add(new(key, value));

    /// <summary>Adds an integer figure.</summary>
    /// <param name="key">snake_case name.</param>
    /// <param name="value">The value.</param>
    public void Add(string key, long value) => _figures.Add(new(key, value));

    /// <summary>Adds a real figure (rounded to 3 decimals in the JSON).</summary>
    /// <param name="key">snake_case name.</param>
    /// <param name="value">The value.</param>
    public void Add(string key, double value) => _figures.Add(new(key, value));

    /// <summary>Adds the latency figures of a histogram in microseconds: p50_us, p90_us, p99_us, p999_us, max_us, mean_us, samples.</summary>
    /// <param name="histogram">Latencies in <see cref="Stopwatch"/> ticks.</param>
    public void AddLatency(LatencyHistogram histogram)
    {
        static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
        Add("samples", histogram.Count);
        Add("p50_us", Micros(histogram.ValueAtQuantile(0.50)));
        Add("p90_us", Micros(histogram.ValueAtQuantile(0.90)));
        Add("p99_us", Micros(histogram.ValueAtQuantile(0.99)));
        Add("p999_us", Micros(histogram.ValueAtQuantile(0.999)));
        Add("max_us", Micros(histogram.Max));
        Add("mean_us", histogram.Count == 0 ? 0 : Micros(histogram.Sum) / histogram.Count);
    }

    /// <summary>Adds client_cpu_pct and, when measured, server_cpu_pct.</summary>
    /// <param name="cpu">A stopped meter.</param>
    public void AddCpu(CpuMeter cpu)
    {
        Add("client_cpu_pct", cpu.ClientPercent);
        if (cpu.ServerPercent is { } server)
        {
            Add("server_cpu_pct", server);
        }
    }

    /// <summary>Gets a figure previously added, or <see langword="null"/>.</summary>
    /// <param name="key">The name.</param>
    /// <returns>The value.</returns>
    public object? Get(string key) => _figures.Find(f => f.Key == key).Value;

    /// <summary>Writes the summary (one <c>name: value</c> line per figure), then the JSON line.</summary>
    /// <param name="output">Where to write (standard output).</param>
    public void Write(TextWriter output)
    {
        output.WriteLine("summary:");
        foreach (KeyValuePair<string, object> figure in _figures)
        {
            string value = figure.Value switch
            {
                double d => d.ToString("#,0.###", CultureInfo.InvariantCulture),
                long l => l.ToString("#,0", CultureInfo.InvariantCulture),
                _ => figure.Value.ToString() ?? string.Empty,
            };
            output.WriteLine($"  {figure.Key,-18} {value}");
        }

        output.WriteLine("JSON " + ToJson());
        output.Flush();
    }

    /// <summary>Formats every figure as one single-line JSON object.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            foreach (KeyValuePair<string, object> figure in _figures)
            {
                switch (figure.Value)
                {
                    case double d:
                        json.WriteNumber(figure.Key, double.IsFinite(d) ? Math.Round(d, 3) : 0);
                        break;
                    case long l:
                        json.WriteNumber(figure.Key, l);
                        break;
                    default:
                        json.WriteString(figure.Key, figure.Value.ToString());
                        break;
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
