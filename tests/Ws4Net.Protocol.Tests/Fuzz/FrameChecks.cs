using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Every property the frame fuzzers check for one input, deterministic given the target
/// (<c>frames:{server|client}/{profile}/{chunk seed}</c>) and the input, so a failure replays exactly.
/// </summary>
internal static class FrameChecks
{
    public const int ByteByByteLimit = 4096;

    private static long s_inputBytes;
    private static long s_engineCalls;
    private static long s_engineRuns;

    /// <summary>How the inputs ended according to the reference decoder (per role/profile-independent outcome).</summary>
    public static FuzzCounters Outcomes { get; } = new();

    /// <summary>Totals since the process started: input bytes checked, engine runs (chunkings) and TryReadEvent calls.</summary>
    public static string Statistics => string.Create(
        CultureInfo.InvariantCulture,
        $"{Interlocked.Read(ref s_inputBytes)} input bytes, {Interlocked.Read(ref s_engineRuns)} engine runs, {Interlocked.Read(ref s_engineCalls)} TryReadEvent calls (all frame fuzzers in this process); outcomes: {Outcomes}");

    public static string Target(WebSocketRole role, FrameProfile profile, ulong chunkSeed) =>
        string.Create(CultureInfo.InvariantCulture, $"frames:{(role == WebSocketRole.Server ? "server" : "client")}/{profile.Name}/{chunkSeed}");

    public static void ParseTarget(string target, out WebSocketRole role, out FrameProfile profile, out ulong chunkSeed)
    {
        string[] parts = target["frames:".Length..].Split('/');
        role = parts[0] switch
        {
            "server" => WebSocketRole.Server,
            "client" => WebSocketRole.Client,
            _ => throw new ArgumentException($"Unknown role in '{target}'.", nameof(target)),
        };
        profile = FrameProfile.Get(parts[1]);
        chunkSeed = ulong.Parse(parts[2], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Runs <paramref name="input"/> whole, byte by byte (tiny random chunks above 4 KiB), in random
    /// chunks and cut around the frame boundaries; checks each run's own properties (see
    /// <see cref="EngineHarness"/>), that all runs agree, and that they agree with the reference decoder;
    /// with <paramref name="intended"/> (a valid generated stream), that both agree with the generator.
    /// Returns the number of engine runs.
    /// </summary>
    public static int CheckInput(string target, byte[] input, ModelResult? intended = null)
    {
        ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out ulong chunkSeed);
        bool fragments = profile.DeliverFragments;
        ModelResult model = ReferenceDecoder.Decode(input, role, profile);
        FuzzEvent? last = model.Events.Count > 0 ? model.Events[^1] : null;
        Outcomes.Add(last?.Type switch
        {
            WebSocketEventType.Failed => "failed-" + last.Code.ToString(CultureInfo.InvariantCulture),
            WebSocketEventType.Close => "close",
            null => "no-event",
            _ => "open",
        });
        if (intended is not null)
        {
            EngineHarness.CompareEvents("generator", intended.Events, "reference decoder", model.Events, fragments, secondIsPrefix: false);
            if (intended.Output.Count != model.Output.Count || intended.Output.Zip(model.Output).Any(p => !p.First.SameAs(p.Second)) || intended.ReceiveDone != model.ReceiveDone)
            {
                throw Check.Fail($"the reference decoder disagrees with the generator on the owed output: {OutputFrames.Describe(intended.Output)} vs {OutputFrames.Describe(model.Output)}");
            }
        }

        var rng = new FuzzRng(chunkSeed);
        byte[] junk = rng.Bytes(rng.Next(1, 24));
        var chunks = new List<int>();

        chunks.Add(input.Length);
        EngineRun whole = EngineHarness.Run(role, profile, input, CollectionsMarshal.AsSpan(chunks), "whole", junk);
        EngineHarness.CompareEvents("reference decoder", model.Events, "engine (whole)", whole.Events, fragments, secondIsPrefix: true);
        EngineHarness.CompareOutput(role, whole, model.Output, "reference decoder");
        if (whole.ReceiveCompleted != model.ReceiveDone)
        {
            throw Check.Fail($"IsReceiveCompleted={whole.ReceiveCompleted}, the reference decoder says {model.ReceiveDone}");
        }

        if (intended is not null)
        {
            EngineHarness.CompareEvents("generator", intended.Events, "engine (whole)", whole.Events, fragments, secondIsPrefix: true);
            EngineHarness.CompareOutput(role, whole, intended.Output, "generator");
        }

        int runs = 1;
        for (int kind = 0; kind < 3; kind++)
        {
            chunks.Clear();
            string name;
            switch (kind)
            {
                case 0 when input.Length <= ByteByByteLimit:
                    for (int i = 0; i < input.Length; i++)
                    {
                        chunks.Add(1);
                    }

                    name = "byte-by-byte";
                    break;
                case 0:
                    Tiny(rng, input.Length, chunks);
                    name = "tiny";
                    break;
                case 1:
                    Mixed(rng, input.Length, chunks);
                    name = "random";
                    break;
                default:
                    AroundFrames(rng, input, chunks);
                    name = "frame-boundaries";
                    break;
            }

            string chunking = name == "byte-by-byte" || chunks.Count > 64 ? name : name + " [" + EngineHarness.DescribeChunks(CollectionsMarshal.AsSpan(chunks)) + "]";
            EngineRun other = EngineHarness.Run(role, profile, input, CollectionsMarshal.AsSpan(chunks), chunking, junk);
            runs++;
            Interlocked.Add(ref s_engineCalls, other.Calls);
            EngineHarness.CompareEvents("whole", whole.Events, chunking, other.Events, fragments, secondIsPrefix: false);
            EngineHarness.CompareOutput(role, whole, other);
            if (whole.State != other.State || whole.ReceiveCompleted != other.ReceiveCompleted)
            {
                throw Check.Fail($"final state differs: whole {whole.State}/{whole.ReceiveCompleted}, {chunking} {other.State}/{other.ReceiveCompleted}");
            }
        }

        // A driver that flushes only at the end: same events, and the owed pongs capped by MaxPendingControlBytes.
        chunks.Clear();
        Mixed(rng, input.Length, chunks);
        EngineRun lazy = EngineHarness.Run(role, profile, input, CollectionsMarshal.AsSpan(chunks), "lazy-flush random", junk, lazyFlush: true);
        runs++;
        Interlocked.Add(ref s_engineCalls, lazy.Calls);
        EngineHarness.CompareEvents("whole", whole.Events, lazy.Chunking, lazy.Events, fragments, secondIsPrefix: false);
        List<OwedFrame> lazyExpected = ReferenceDecoder.LazyOutput(model, role, profile);
        EngineHarness.CompareOutput(role, lazy, lazyExpected, "reference decoder (lazy flush)");
        if (lazyExpected.Count != model.Output.Count)
        {
            Outcomes.Add("lazy-flush-pongs-dropped");
        }

        Interlocked.Add(ref s_inputBytes, input.Length);
        Interlocked.Add(ref s_engineRuns, runs);
        Interlocked.Add(ref s_engineCalls, whole.Calls);
        return runs;
    }

    /// <summary>Chunks of 1-16 bytes.</summary>
    internal static void Tiny(FuzzRng rng, int length, List<int> chunks)
    {
        int left = length;
        while (left > 0)
        {
            int size = Math.Min(left, rng.Next(1, 17));
            chunks.Add(size);
            left -= size;
        }
    }

    /// <summary>Mostly tiny chunks, some medium, a few large, the odd empty one.</summary>
    internal static void Mixed(FuzzRng rng, int length, List<int> chunks)
    {
        int left = length;
        if (left == 0)
        {
            chunks.Add(0);
        }

        while (left > 0)
        {
            int size = rng.Next(100) switch
            {
                < 5 => 0,
                < 45 => rng.Next(1, 5),
                < 75 => rng.Next(5, 65),
                < 93 => rng.Next(65, 4097),
                _ => rng.Next(1, length + 1),
            };
            size = Math.Min(size, left);
            chunks.Add(size);
            left -= size;
        }
    }

    /// <summary>Cuts near the frame boundaries found by a lenient scan (inside headers, right after them, one byte off).</summary>
    internal static void AroundFrames(FuzzRng rng, byte[] input, List<int> chunks)
    {
        var cuts = new List<int>();
        int pos = 0;
        while (pos + 2 <= input.Length && cuts.Count < 4096)
        {
            int length7 = input[pos + 1] & 0x7F;
            int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            int header = 2 + extended + ((input[pos + 1] & 0x80) != 0 ? 4 : 0);
            cuts.Add(pos + rng.Next(-1, 3));
            cuts.Add(pos + header + rng.Next(-1, 2));
            if (pos + header > input.Length)
            {
                break;
            }

            ulong length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(pos + 2)),
                127 => BinaryPrimitives.ReadUInt64BigEndian(input.AsSpan(pos + 2)),
                _ => (ulong)length7,
            };
            if (length > (ulong)(input.Length - pos - header))
            {
                break;
            }

            pos += header + (int)length;
        }

        cuts.Add(rng.Next(input.Length + 1));
        cuts.Sort();
        int previous = 0;
        foreach (int cut in cuts)
        {
            int at = Math.Clamp(cut, previous, input.Length);
            chunks.Add(at - previous);
            previous = at;
        }

        chunks.Add(input.Length - previous);
    }
}
