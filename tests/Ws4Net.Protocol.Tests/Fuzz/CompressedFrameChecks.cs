using System.Globalization;
using System.Runtime.InteropServices;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>What the generator knows about an input: the whole intent (valid stream), or the intent up to the first mutated byte.</summary>
internal sealed class CompressedIntent
{
    public required CompressedStream Stream { get; init; }

    /// <summary>Gets the first input offset that differs from the generated stream (its length when the input is the valid stream itself).</summary>
    public required int FirstDifference { get; init; }

    public bool IsWholeStream { get; init; }
}

/// <summary>
/// Every property the compressed-stream fuzzers check for one input, deterministic given the target
/// <c>zframes:{server|client}/{profile}/{agreement}/{chunk seed}</c> and the input. The engine runs
/// with the agreement whole, byte by byte (tiny chunks above 4 KiB), in random chunks, cut around the
/// frame boundaries, and lazily flushed (see <see cref="FrameChecks"/>); each run is checked by
/// <see cref="EngineHarness"/> (no exception, termination, limits, codes, close output, nothing after
/// a close or failure), its managed allocations are bounded, its zlib state is gone after Dispose; all
/// runs must agree with each other and with <see cref="CompressedReferenceDecoder"/>; and with the
/// generator's intent: all of it for a valid stream, the events completed before the first mutated
/// byte for a mutated one.
/// </summary>
internal static class CompressedFrameChecks
{
    public const string TargetPrefix = "zframes:";

    /// <summary>Allocation bound per engine run: 4 × MaxMessageSize + this.</summary>
    public const long AllocationOverhead = 64 * 1024;

    private static long s_inputs;
    private static long s_inputBytes;
    private static long s_engineRuns;
    private static long s_engineCalls;
    private static long s_compressedMessages;
    private static long s_inflatedBytes;
    private static long s_maxAllocated;
    private static double s_maxAllocationRatio;
    private static readonly object StatsLock = new();

    /// <summary>Outcomes according to the reference decoder, and the known-defect tolerances applied.</summary>
    public static FuzzCounters Outcomes { get; } = new();

    public static string Statistics
    {
        get
        {
            lock (StatsLock)
            {
                return string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Interlocked.Read(ref s_inputs)} compressed-stream inputs, {Interlocked.Read(ref s_inputBytes)} input bytes, {Interlocked.Read(ref s_engineRuns)} engine runs, {Interlocked.Read(ref s_engineCalls)} TryReadEvent calls, {Interlocked.Read(ref s_compressedMessages)} compressed messages completed (reference), {Interlocked.Read(ref s_inflatedBytes)} bytes inflated (reference), largest engine allocation in one run {s_maxAllocated} B ({s_maxAllocationRatio:F3} × MaxMessageSize) (all compressed fuzzers in this process); outcomes: {Outcomes}");
            }
        }
    }

    public static string Target(WebSocketRole role, FrameProfile profile, PerMessageDeflateParameters agreement, ulong chunkSeed) => string.Create(
        CultureInfo.InvariantCulture,
        $"{TargetPrefix}{(role == WebSocketRole.Server ? "server" : "client")}/{profile.Name}/{CompressedAgreements.Name(agreement)}/{chunkSeed}");

    public static void ParseTarget(string target, out WebSocketRole role, out FrameProfile profile, out PerMessageDeflateParameters agreement, out ulong chunkSeed)
    {
        string[] parts = target[TargetPrefix.Length..].Split('/');
        role = parts[0] switch
        {
            "server" => WebSocketRole.Server,
            "client" => WebSocketRole.Client,
            _ => throw new ArgumentException($"Unknown role in '{target}'.", nameof(target)),
        };
        profile = CompressedProfiles.Get(parts[1]);
        agreement = CompressedAgreements.Parse(parts[2]);
        chunkSeed = ulong.Parse(parts[3], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Checks one input; returns the number of engine runs. <paramref name="strict"/> (default:
    /// <c>WS4NET_FUZZ_STRICT_KNOWN_DEFECTS</c>) turns the tolerance of the known engine defects off.
    /// </summary>
    /// <remarks>
    /// An input whose DEFLATE data refers further back than the agreed window (the peer breaks RFC 7692
    /// §7.1.2) is not compared with the reference decoder, which rejects it: a receiver may as well
    /// inflate with a larger window and accept it. The engine must still judge it the same way under every
    /// chunking; known defect "window" (zlib decides by how the output is cut into calls) is tolerated
    /// unless strict.
    /// </remarks>
    public static int CheckInput(string target, byte[] input, CompressedIntent? intent = null, bool? strict = null)
    {
        ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out PerMessageDeflateParameters agreement, out ulong chunkSeed);
        bool fragments = profile.DeliverFragments;
        CompressedModel model = CompressedReferenceDecoder.Decode(input, role, profile, agreement);
        ModelResult reference = model.Result;
        CountOutcome(model);

        bool strictDefects = strict ?? FuzzSettings.StrictKnownDefects;
        bool windowTolerance = model.WindowViolation && !strictDefects;
        bool utf8Tolerance = model.Failure == ReferenceFailure.Utf8 && model.Utf8FailureBeforeOverflow && !strictDefects;
        bool overflowTolerance = model.Failure == ReferenceFailure.Limit && model.DeflateErrorAfterOverflow && !strictDefects;

        if (intent is { IsWholeStream: true })
        {
            CompareWithIntent("reference decoder", reference.Events, reference.Output, reference.ReceiveDone, intent, fragments);
            if (model.WindowViolation || model.CompressedMessages != intent.Stream.CompressedMessages)
            {
                throw Check.Fail($"test bug: the reference decoder completed {model.CompressedMessages} compressed message(s) (window violation: {model.WindowViolation}), the generator wrote {intent.Stream.CompressedMessages}");
            }
        }

        var rng = new FuzzRng(chunkSeed);
        byte[] junk = rng.Bytes(rng.Next(1, 24));
        var chunks = new List<int> { input.Length };
        EngineRun whole = Run("whole", lazy: false);
        List<FuzzEvent> wholeEvents = Adjusted(whole, out List<OwedFrame> wholeOutput);

        bool agreesWithReference = TryCompare(model.WindowViolation, () =>
        {
            EngineHarness.CompareEvents("reference decoder", reference.Events, "engine (whole)", wholeEvents, fragments, secondIsPrefix: true, partialBefore1009: true);
            CompareFrames("reference decoder", reference.Output, "engine (whole)", wholeOutput);
            if (whole.ReceiveCompleted != reference.ReceiveDone)
            {
                throw Check.Fail($"IsReceiveCompleted={whole.ReceiveCompleted}, the reference decoder says {reference.ReceiveDone}");
            }
        });

        int runs = 1;
        bool chunkingsAgree = true;
        for (int kind = 0; kind < 4; kind++)
        {
            chunks.Clear();
            string name;
            switch (kind)
            {
                case 0 when input.Length <= FrameChecks.ByteByByteLimit:
                    chunks.AddRange(Enumerable.Repeat(1, input.Length));
                    name = "byte-by-byte";
                    break;
                case 0:
                    FrameChecks.Tiny(rng, input.Length, chunks);
                    name = "tiny";
                    break;
                case 1:
                    FrameChecks.Mixed(rng, input.Length, chunks);
                    name = "random";
                    break;
                case 2:
                    FrameChecks.AroundFrames(rng, input, chunks);
                    name = "frame-boundaries";
                    break;
                default:
                    FrameChecks.Mixed(rng, input.Length, chunks);
                    name = "lazy-flush random";
                    break;
            }

            string chunking = name == "byte-by-byte" || chunks.Count > 64 ? name : name + " [" + EngineHarness.DescribeChunks(CollectionsMarshal.AsSpan(chunks)) + "]";
            bool lazy = kind == 3;
            EngineRun other = Run(chunking, lazy);
            runs++;
            List<FuzzEvent> otherEvents = Adjusted(other, out List<OwedFrame> otherOutput);
            chunkingsAgree &= TryCompare(windowTolerance, () =>
            {
                EngineHarness.CompareEvents("whole", wholeEvents, chunking, otherEvents, fragments, secondIsPrefix: false, partialBefore1009: true);
                if (lazy && !model.WindowViolation)
                {
                    CompareFrames("reference decoder (lazy flush)", ReferenceDecoder.LazyOutput(reference, role, profile), chunking, otherOutput);
                }
                else if (!lazy)
                {
                    CompareFrames("whole", wholeOutput, chunking, otherOutput);
                }

                if (whole.State != other.State || whole.ReceiveCompleted != other.ReceiveCompleted)
                {
                    throw Check.Fail($"final state differs: whole {whole.State}/{whole.ReceiveCompleted}, {chunking} {other.State}/{other.ReceiveCompleted}");
                }
            });
        }

        if (model.WindowViolation)
        {
            Outcomes.Add(agreesWithReference ? "window-violation-rejected-by-engine" : "window-violation-accepted-by-engine");
            if (!chunkingsAgree)
            {
                Outcomes.Add("known-defect-window: inputs whose result depends on the chunking (tolerated)");
            }
        }

        if (intent is not null)
        {
            CheckIntent(intent, whole, wholeEvents, wholeOutput, fragments);
        }

        Interlocked.Increment(ref s_inputs);
        Interlocked.Add(ref s_inputBytes, input.Length);
        Interlocked.Add(ref s_engineRuns, runs);
        Interlocked.Add(ref s_compressedMessages, model.CompressedMessages);
        Interlocked.Add(ref s_inflatedBytes, model.InflatedBytes);
        return runs;

        EngineRun Run(string chunking, bool lazy)
        {
            EngineRun run = EngineHarness.Run(role, profile, input, CollectionsMarshal.AsSpan(chunks), chunking, junk, lazy, agreement, measureAllocations: true);
            Interlocked.Add(ref s_engineCalls, run.Calls);
            long bound = (4 * profile.MaxMessageSize) + AllocationOverhead;
            if (run.AllocatedBytes > bound)
            {
                throw Check.Fail($"the engine allocated {run.AllocatedBytes} managed bytes for this input under chunking '{chunking}', over the bound 4 × MaxMessageSize + {AllocationOverhead} = {bound}");
            }

            RecordAllocation(run.AllocatedBytes, profile.MaxMessageSize);

            // Without context takeover the receive side rents a zlib state per message only (RFC 7692 §7.1.1.1, docs/compression.md).
            if (agreement.ReceiveNoContextTakeover(role) && run.HeldCompressionState && !model.EndsInsideMessage && model.Failure == ReferenceFailure.None)
            {
                throw Check.Fail($"without context takeover the engine still holds a zlib state between messages under chunking '{chunking}'");
            }

            return run;
        }

        // Known defects "utf8-overflow" and "overflow-then-error" (docs/fuzzing.md, Findings): which of two
        // failures the engine reports depends on the chunking. Tolerated by mapping the engine's code back to
        // the reference's, unless WS4NET_FUZZ_STRICT_KNOWN_DEFECTS is set:
        // - the engine inflates a whole segment before it validates the text, so invalid UTF-8 followed in the
        //   same frame by more data than the limit gives 1009 instead of 1007;
        // - at the limit, the engine's one-byte probe call may both write the byte over the limit and reach a
        //   DEFLATE error after it in the same zlib call, and the error wins: 1007 instead of 1009.
        List<FuzzEvent> Adjusted(EngineRun run, out List<OwedFrame> output)
        {
            output = OutputFrames.Decode(run.Output, role);
            int code = run.Events.Count > 0 && run.Events[^1].Type == WebSocketEventType.Failed ? run.Events[^1].Code : 0;
            int mapped = utf8Tolerance && code == 1009 ? 1007 : overflowTolerance && code == 1007 ? 1009 : 0;
            if (mapped == 0)
            {
                return run.Events;
            }

            Outcomes.Add(mapped == 1007 ? "known-defect-utf8-overflow: engine runs with 1009 instead of 1007 (tolerated)" : "known-defect-overflow-then-error: engine runs with 1007 instead of 1009 (tolerated)");
            var events = new List<FuzzEvent>(run.Events) { [^1] = FuzzEvent.Failed(mapped) };
            output = output.Select(f => f.Opcode == 8 && f.Payload.AsSpan().SequenceEqual(OutputFrames.ClosePayload(code)) ? new OwedFrame(8, OutputFrames.ClosePayload(mapped)) : f).ToList();
            return events;
        }

        static bool TryCompare(bool tolerate, Action compare)
        {
            if (!tolerate)
            {
                compare();
                return true;
            }

            try
            {
                compare();
                return true;
            }
            catch (FuzzCheckException)
            {
                return false;
            }
        }
    }

    private static void CheckIntent(CompressedIntent intent, EngineRun whole, List<FuzzEvent> wholeEvents, List<OwedFrame> wholeOutput, bool fragments)
    {
        if (intent.IsWholeStream)
        {
            CompareWithIntent("engine (whole)", wholeEvents, wholeOutput, whole.ReceiveCompleted, intent, fragments);
            return;
        }

        // Mutated: everything completed before the first mutated byte is as intended.
        List<FuzzEvent> expected = intent.Stream.Events.Where(e => e.End <= intent.FirstDifference).Select(e => e.Event).ToList();
        List<FuzzEvent> actual = CompressedEvents.Normalize(wholeEvents, fragments);
        bool same = actual.Count >= expected.Count;
        for (int i = 0; same && i < expected.Count; i++)
        {
            same = expected[i].SameAs(actual[i]);
        }

        if (!same)
        {
            throw Check.Fail($"the events completed before the first mutated byte ({intent.FirstDifference}) differ from the generator's:\n    generator: {FuzzEvent.Describe(expected)}\n    engine (whole, normalized): {FuzzEvent.Describe(actual)}");
        }

        List<OwedFrame> owed = intent.Stream.Output.Where(o => o.End <= intent.FirstDifference).Select(o => o.Frame).ToList();
        if (wholeOutput.Count < owed.Count || owed.Zip(wholeOutput).Any(p => !p.First.SameAs(p.Second)))
        {
            throw Check.Fail($"the owed frames for the control frames before the first mutated byte differ: generator {OutputFrames.Describe(owed)}, engine {OutputFrames.Describe(wholeOutput)}");
        }
    }

    private static void CompareWithIntent(string name, List<FuzzEvent> events, List<OwedFrame> output, bool receiveDone, CompressedIntent intent, bool fragments)
    {
        List<FuzzEvent> expected = intent.Stream.Events.Select(e => e.Event).ToList();
        List<FuzzEvent> actual = CompressedEvents.Normalize(events, fragments);
        if (expected.Count != actual.Count || expected.Zip(actual).Any(p => !p.First.SameAs(p.Second)))
        {
            throw Check.Fail($"{name} differs from the generator ({intent.Stream.Source}):\n    generator: {FuzzEvent.Describe(expected)}\n    {name} (normalized): {FuzzEvent.Describe(actual)}");
        }

        CompareFrames("generator", intent.Stream.Output.Select(o => o.Frame).ToList(), name, output);
        if (receiveDone != intent.Stream.ReceiveDone)
        {
            throw Check.Fail($"{name}: receive completed {receiveDone}, the generator intended {intent.Stream.ReceiveDone}");
        }
    }

    private static void CompareFrames(string firstName, List<OwedFrame> first, string secondName, List<OwedFrame> second)
    {
        if (first.Count != second.Count || first.Zip(second).Any(p => !p.First.SameAs(p.Second)))
        {
            throw Check.Fail($"owed output differs:\n    {firstName}: {OutputFrames.Describe(first)}\n    {secondName}: {OutputFrames.Describe(second)}");
        }
    }

    private static void CountOutcome(CompressedModel model)
    {
        FuzzEvent? last = model.Result.Events.Count > 0 ? model.Result.Events[^1] : null;
        Outcomes.Add(last?.Type switch
        {
            WebSocketEventType.Failed => string.Create(CultureInfo.InvariantCulture, $"failed-{last.Code}-{model.Failure.ToString().ToLowerInvariant()}"),
            WebSocketEventType.Close => "close",
            null => "no-event",
            _ => "open",
        });
        if (model.CompressedMessages > 0)
        {
            Outcomes.Add("with-compressed-messages");
        }
    }

    private static void RecordAllocation(long allocated, long maxMessage)
    {
        double ratio = (double)allocated / maxMessage;
        if (allocated > Interlocked.Read(ref s_maxAllocated) || ratio > s_maxAllocationRatio)
        {
            lock (StatsLock)
            {
                s_maxAllocated = Math.Max(s_maxAllocated, allocated);
                s_maxAllocationRatio = Math.Max(s_maxAllocationRatio, ratio);
            }
        }
    }
}
