using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The environment variables that steer the fuzzers (see docs/fuzzing.md):
/// <list type="bullet">
/// <item><c>WS4NET_FUZZ_ITERATIONS</c>: inputs per fuzz test (default: each test's small CI count).</item>
/// <item><c>WS4NET_FUZZ_SEED</c>: the base seed, decimal or <c>0x</c> hex; <c>random</c> (or <c>time</c>) picks a time-based seed that is printed. Default: a fixed seed per test.</item>
/// <item><c>WS4NET_FUZZ_FIRST_ITERATION</c>: the first iteration number (to replay one iteration: set it and <c>WS4NET_FUZZ_ITERATIONS=1</c>).</item>
/// <item><c>WS4NET_FUZZ_LOG</c>: a file that receives one line of statistics per fuzz test run.</item>
/// <item><c>WS4NET_FUZZ_REPRO_TARGET</c> and <c>WS4NET_FUZZ_REPRO_HEX</c> (hex, or <c>@path</c> of a file holding it): replayed by <see cref="FuzzReproduceTests"/>.</item>
/// <item><c>WS4NET_FUZZ_STRICT_KNOWN_DEFECTS</c>: 1 to fail on the known engine defects the compressed fuzzers tolerate.</item>
/// </list>
/// </summary>
internal static class FuzzSettings
{
    public const string IterationsVariable = "WS4NET_FUZZ_ITERATIONS";
    public const string SeedVariable = "WS4NET_FUZZ_SEED";
    public const string FirstIterationVariable = "WS4NET_FUZZ_FIRST_ITERATION";
    public const string LogVariable = "WS4NET_FUZZ_LOG";
    public const string ReproTargetVariable = "WS4NET_FUZZ_REPRO_TARGET";
    public const string ReproHexVariable = "WS4NET_FUZZ_REPRO_HEX";
    public const string StrictKnownDefectsVariable = "WS4NET_FUZZ_STRICT_KNOWN_DEFECTS";

    public static long? Iterations => ParseLong(Environment.GetEnvironmentVariable(IterationsVariable), IterationsVariable);

    public static long? FirstIteration => ParseLong(Environment.GetEnvironmentVariable(FirstIterationVariable), FirstIterationVariable);

    public static string? LogFile => NullIfEmpty(Environment.GetEnvironmentVariable(LogVariable));

    public static string? ReproTarget => NullIfEmpty(Environment.GetEnvironmentVariable(ReproTargetVariable));

    /// <summary>
    /// Gets whether <c>WS4NET_FUZZ_STRICT_KNOWN_DEFECTS</c> is set (1/true): the compressed-stream fuzzers then fail
    /// on the engine defects they otherwise tolerate and count (see docs/fuzzing.md, "Findings").
    /// </summary>
    /// <summary>
    /// Whether the defects the compressed fuzzers found (all fixed) fail the run if they come back: true
    /// unless <c>WS4NET_FUZZ_STRICT_KNOWN_DEFECTS</c> is <c>0</c> or <c>false</c> (to hunt past them while debugging).
    /// </summary>
    public static bool StrictKnownDefects => NullIfEmpty(Environment.GetEnvironmentVariable(StrictKnownDefectsVariable)) is not ("0" or "false" or "FALSE" or "False");

    /// <summary>The replay input: the hex of <c>WS4NET_FUZZ_REPRO_HEX</c>, or of the file it names with <c>@path</c>.</summary>
    public static byte[]? ReproInput
    {
        get
        {
            string? value = NullIfEmpty(Environment.GetEnvironmentVariable(ReproHexVariable));
            if (value is null)
            {
                return null;
            }

            if (value.StartsWith('@'))
            {
                value = File.ReadAllText(value[1..]);
            }

            return HexText.Parse(value);
        }
    }

    /// <summary>The seed for a test: the environment's, a time-based one, or <paramref name="defaultSeed"/>.</summary>
    public static ulong Seed(ulong defaultSeed, string fuzzer, out bool timeBased)
    {
        timeBased = false;
        string? text = NullIfEmpty(Environment.GetEnvironmentVariable(SeedVariable));
        if (text is null)
        {
            return defaultSeed;
        }

        if (text.Equals("random", StringComparison.OrdinalIgnoreCase) || text.Equals("time", StringComparison.OrdinalIgnoreCase))
        {
            timeBased = true;
            ulong time = (ulong)DateTime.UtcNow.Ticks ^ ((ulong)Stopwatch.GetTimestamp() << 17);
            return time ^ (ulong)(uint)StableHash(fuzzer) << 32;
        }

        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong seed)
            : ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed);
        return ok ? seed : throw new InvalidOperationException($"{SeedVariable}='{text}' is not a number, 'random' or 'time'.");
    }

    /// <summary>A hash that does not change between processes (unlike string.GetHashCode).</summary>
    public static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)hash;
    }

    private static long? ParseLong(string? text, string name)
    {
        text = NullIfEmpty(text);
        if (text is null)
        {
            return null;
        }

        return long.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value >= 0
            ? value
            : throw new InvalidOperationException($"{name}='{text}' is not a non-negative integer.");
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}

/// <summary>Thread-safe named counters, to report what the inputs exercised (outcome distribution).</summary>
internal sealed class FuzzCounters
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(string name) => _counts.AddOrUpdate(name, 1, (_, n) => n + 1);

    public override string ToString() =>
        string.Join(", ", _counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")));
}

/// <summary>What the current iteration is working on, for the failure report.</summary>
internal sealed class FuzzContext
{
    /// <summary>The fuzzer-specific description of the configuration, enough to replay <see cref="Input"/> (see <see cref="FuzzReproduceTests"/>).</summary>
    public string? Target { get; set; }

    /// <summary>The input under test.</summary>
    public byte[]? Input { get; set; }

    /// <summary>Builds free text (for example the generator's intent) for the report; only called on failure.</summary>
    public Func<string>? Note { get; set; }

    public void Set(string target, byte[] input, Func<string>? note = null)
    {
        Target = target;
        Input = input;
        Note = note;
    }

    public void Reset()
    {
        Target = null;
        Input = null;
        Note = null;
    }
}

/// <summary>A violated fuzz property.</summary>
internal sealed class FuzzCheckException(string message) : Exception(message);

/// <summary>The report of a failed fuzz iteration (what xUnit shows).</summary>
internal sealed class FuzzFailureException(string message, Exception inner) : Exception(message, inner);

/// <summary>Cheap property assertions for hot loops (the message is only built on failure).</summary>
internal static class Check
{
    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzCheckException(message);
        }
    }

    public static FuzzCheckException Fail(string message) => new(message);
}

internal static class HexText
{
    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    /// <summary>Parses hex, ignoring whitespace, dashes and an optional 0x prefix.</summary>
    public static byte[] Parse(string text)
    {
        var builder = new StringBuilder(text.Length);
        string trimmed = text.Trim();
        if (trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[2..];
        }

        foreach (char c in trimmed)
        {
            if (!char.IsWhiteSpace(c) && c != '-')
            {
                builder.Append(c);
            }
        }

        return Convert.FromHexString(builder.ToString());
    }
}

/// <summary>Runs a fuzz loop: one seeded generator per iteration, failures reported with everything needed to replay them.</summary>
internal static class FuzzRunner
{
    /// <summary>
    /// Runs <paramref name="body"/> for the configured number of iterations. Iteration <c>i</c> gets its own
    /// generator derived from (seed, fuzzer name, i), so it can be replayed alone. Returns the number of inputs run.
    /// </summary>
    public static long Run(ITestOutputHelper output, string fuzzer, string testFilter, ulong defaultSeed, long defaultIterations, Action<FuzzRng, FuzzContext> body)
    {
        ulong seed = FuzzSettings.Seed(defaultSeed, fuzzer, out bool timeBased);
        long iterations = FuzzSettings.Iterations ?? defaultIterations;
        long first = FuzzSettings.FirstIteration ?? 0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz {fuzzer}: seed {seed}{(timeBased ? " (time-based)" : string.Empty)}, iterations {first}..{first + iterations - 1}"));

        var context = new FuzzContext();
        var stopwatch = Stopwatch.StartNew();
        ulong streamSeed = seed ^ ((ulong)(uint)FuzzSettings.StableHash(fuzzer) << 32);   // the same seed gives each fuzzer its own inputs
        for (long i = first; i < first + iterations; i++)
        {
            context.Reset();
            try
            {
                body(new FuzzRng(streamSeed, i), context);
            }
            catch (Exception ex)
            {
                string report = Report(fuzzer, testFilter, seed, i, context, ex);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz {fuzzer}: FAILED at seed {seed}, iteration {i} (report in the exception message)"));
                throw new FuzzFailureException(report, ex);
            }
        }

        stopwatch.Stop();
        double seconds = stopwatch.Elapsed.TotalSeconds;
        string summary = string.Create(
            CultureInfo.InvariantCulture,
            $"fuzz {fuzzer}: {iterations} inputs, seed {seed}, first iteration {first}, {seconds:F1} s, {(seconds > 0 ? iterations / seconds : 0):F0} inputs/s, no failure");
        output.WriteLine(summary);
        if (FuzzSettings.LogFile is { } log)
        {
            lock (LogLock)
            {
                File.AppendAllText(log, string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {summary}{Environment.NewLine}"));
            }
        }

        return iterations;
    }

    private static readonly object LogLock = new();

    /// <summary>Builds the failure report and saves the input to a file (hex) next to it.</summary>
    public static string Report(string fuzzer, string testFilter, ulong seed, long iteration, FuzzContext context, Exception ex)
    {
        byte[] input = context.Input ?? [];
        string hex = HexText.Format(input);
        string? file = null;
        try
        {
            string directory = Path.Combine(Path.GetTempPath(), "ws4net-fuzz");
            Directory.CreateDirectory(directory);
            file = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{fuzzer}-{seed}-{iteration}.hex"));
            File.WriteAllText(file, hex);
        }
        catch (IOException)
        {
            file = null;
        }
        catch (UnauthorizedAccessException)
        {
            file = null;
        }

        string shownHex = hex.Length <= 8192 ? hex : hex[..8192] + $"... ({input.Length} bytes; the whole input is in the file below)";
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"FUZZ FAILURE in {fuzzer}");
        report.AppendLine(CultureInfo.InvariantCulture, $"  seed {seed}, iteration {iteration}");
        report.AppendLine(CultureInfo.InvariantCulture, $"  target: {context.Target ?? "(not set)"}");
        report.AppendLine(CultureInfo.InvariantCulture, $"  input ({input.Length} bytes): {shownHex}");
        if (file is not null)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  input saved to: {file}");
        }

        if (context.Note is not null)
        {
            string note;
            try
            {
                note = context.Note();
            }
            catch (Exception noteException)
            {
                note = "(the note failed: " + noteException.Message + ")";
            }

            report.AppendLine(CultureInfo.InvariantCulture, $"  note: {note}");
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"  assertion: {ex.Message}");
        report.AppendLine("  replay the iteration:");
        report.AppendLine(CultureInfo.InvariantCulture, $"    {FuzzSettings.SeedVariable}={seed} {FuzzSettings.FirstIterationVariable}={iteration} {FuzzSettings.IterationsVariable}=1 dotnet test tests/Ws4Net.Protocol.Tests -c Release --filter \"FullyQualifiedName~{testFilter}\"");
        if (context.Target is not null)
        {
            string hexArgument = file is not null && hex.Length > 8192 ? "@" + file : hex;
            report.AppendLine("  replay the input alone:");
            report.AppendLine(CultureInfo.InvariantCulture, $"    {FuzzSettings.ReproTargetVariable}='{context.Target}' {FuzzSettings.ReproHexVariable}={hexArgument} dotnet test tests/Ws4Net.Protocol.Tests -c Release --filter \"FullyQualifiedName~FuzzReproduceTests\"");
        }

        if (ex is not FuzzCheckException)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  exception: {ex}");
        }

        return report.ToString();
    }
}
