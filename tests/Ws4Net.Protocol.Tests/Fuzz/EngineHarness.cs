using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The observable result of feeding one input to a fresh engine under one chunking. With
/// DeliverFragments, consecutive Fragment events are coalesced up to the end of the message or the
/// next non-fragment event (their cut depends on the chunking, their concatenation does not).
/// </summary>
internal sealed class EngineRun
{
    public required string Chunking { get; init; }

    public List<FuzzEvent> Events { get; } = [];

    public byte[] Output { get; set; } = [];

    public WebSocketProtocolState State { get; set; }

    public bool ReceiveCompleted { get; set; }

    public int Calls { get; set; }

    /// <summary>Gets or sets the managed bytes the engine allocated during the run (its constructor, reads, flushes and disposal), when measured.</summary>
    public long AllocatedBytes { get; set; }

    /// <summary>Gets or sets whether the engine held a zlib state at the end of the input, before it was disposed.</summary>
    public bool HeldCompressionState { get; set; }
}

/// <summary>
/// Feeds inputs to <see cref="WebSocketProtocol"/> as a correct driver does (TryReadEvent on the
/// chunk, continue with <c>input[consumed..]</c>, flush the pending output after every call) and checks
/// the per-call and per-event properties on the way.
/// </summary>
internal static class EngineHarness
{
    private static readonly int[] FailureCodes = [1002, 1007, 1009];

    /// <summary>
    /// Runs <paramref name="input"/> (not modified) cut into <paramref name="chunks"/>. With
    /// <paramref name="lazyFlush"/> the pending output is written only once, at the end (a driver that
    /// lets owed pongs pile up), instead of after every call.
    /// </summary>
    /// <remarks>
    /// With <paramref name="perMessageDeflate"/> the engine runs with that permessage-deflate agreement and
    /// must hold no zlib state once disposed; with <paramref name="measureAllocations"/> the managed bytes
    /// allocated inside the engine's calls (not the harness's) are summed into <see cref="EngineRun.AllocatedBytes"/>.
    /// </remarks>
    public static EngineRun Run(
        WebSocketRole role,
        FrameProfile profile,
        ReadOnlySpan<byte> input,
        ReadOnlySpan<int> chunks,
        string chunking,
        ReadOnlySpan<byte> junk,
        bool lazyFlush = false,
        Ws4Net.Protocol.Compression.PerMessageDeflateParameters? perMessageDeflate = null,
        bool measureAllocations = false)
    {
        bool fragments = profile.DeliverFragments;
        byte[] copy = input.ToArray();    // masked payloads are unmasked in place
        var run = new EngineRun { Chunking = chunking };
        var output = new ArrayBufferWriter<byte>(64);
        var open = new ByteBuf(64);       // the coalesced fragment being built
        var messageText = new ByteBuf(64); // fragment mode: the text message delivered so far (across control-frame cuts)
        bool openActive = false;
        WebSocketMessageKind openType = default;
        long messageBytes = 0;            // bytes delivered for the current message (fragment mode)
        bool done = false;
        int calls = 0;

        long allocated = 0;
        long mark = measureAllocations ? GC.GetAllocatedBytesForCurrentThread() : 0;
        using var protocol = new WebSocketProtocol(role, profile.Options, perMessageDeflate);
        if (measureAllocations)
        {
            allocated += GC.GetAllocatedBytesForCurrentThread() - mark;
        }

        int offset = 0;
        foreach (int size in chunks)
        {
            Memory<byte> rest = copy.AsMemory(offset, size);
            int callsInChunk = 0;
            int zeroProgressEvents = 0;
            while (true)
            {
                bool got;
                int consumed;
                WebSocketEvent e;
                int at = offset + (size - rest.Length);
                try
                {
                    if (measureAllocations)
                    {
                        mark = GC.GetAllocatedBytesForCurrentThread();
                        got = protocol.TryReadEvent(rest, out consumed, out e);
                        allocated += GC.GetAllocatedBytesForCurrentThread() - mark;
                    }
                    else
                    {
                        got = protocol.TryReadEvent(rest, out consumed, out e);
                    }
                }
                catch (Exception ex)
                {
                    throw Check.Fail($"TryReadEvent threw on peer input under chunking '{chunking}' at input offset {at}: {ex}");
                }

                calls++;
                callsInChunk++;
                if (!lazyFlush && protocol.HasPendingOutput)
                {
                    protocol.WritePendingOutput(output);
                }

                if (consumed < 0 || consumed > rest.Length)
                {
                    throw Check.Fail($"TryReadEvent reported consumed={consumed} for {rest.Length} byte(s) under chunking '{chunking}' at input offset {at}");
                }

                if (!got)
                {
                    if (consumed != rest.Length)
                    {
                        throw Check.Fail($"TryReadEvent returned false with {rest.Length - consumed} byte(s) unconsumed under chunking '{chunking}' at input offset {at}");
                    }

                    break;
                }

                // Termination: a call that produces an event on non-empty input must make progress eventually.
                zeroProgressEvents = consumed == 0 ? zeroProgressEvents + 1 : 0;
                if (zeroProgressEvents > 1 || callsInChunk > size + 2)
                {
                    throw Check.Fail($"TryReadEvent keeps producing events without consuming input under chunking '{chunking}' at input offset {at} ({callsInChunk} calls for a {size}-byte chunk)");
                }

                if (done)
                {
                    throw Check.Fail($"event {e} after the receive side completed (close or failure) under chunking '{chunking}' at input offset {at}");
                }

                // The event's payload is valid until the next TryReadEvent call: it is copied below, before that.
                if (e.Type == WebSocketEventType.Fragment)
                {
                    // Hot path (one event per chunk piece): checked and coalesced without copying into an event object.
                    string? problem = !profile.DeliverFragments ? "Fragment event although DeliverFragments is off"
                        : e.MessageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary) ? $"Fragment with message type {e.MessageType}"
                        : openActive && openType != e.MessageType ? $"fragment of a {e.MessageType} message continues a {openType} message"
                        : null;
                    messageBytes += e.Payload.Length;
                    if (problem is null && (e.Payload.Length > profile.MaxFrameSize || messageBytes > profile.MaxMessageSize))
                    {
                        problem = $"fragments deliver {messageBytes} bytes of one message (this one {e.Payload.Length}), over MaxMessageSize {profile.MaxMessageSize} / MaxFrameSize {profile.MaxFrameSize}";
                    }

                    if (problem is not null)
                    {
                        throw Check.Fail($"{problem} under chunking '{chunking}' at input offset {at}");
                    }

                    openActive = true;
                    openType = e.MessageType;
                    open.Append(e.Payload.Span);
                    if (e.EndOfMessage)
                    {
                        messageBytes = 0;
                        CloseOpen(true);
                    }
                }
                else
                {
                    FuzzEvent recorded = Record(e);
                    if (CheckEvent(recorded, profile) is { } problem)
                    {
                        throw Check.Fail($"{problem} under chunking '{chunking}' at input offset {at}");
                    }

                    if (openActive)
                    {
                        CloseOpen(false);
                    }

                    run.Events.Add(recorded);
                    if (recorded.Type is WebSocketEventType.Close or WebSocketEventType.Failed)
                    {
                        done = true;
                        if (!protocol.IsReceiveCompleted)
                        {
                            throw Check.Fail($"{recorded} but IsReceiveCompleted is false under chunking '{chunking}'");
                        }
                    }
                }

                rest = rest[consumed..];
            }

            offset += size;
        }

        if (offset != input.Length)
        {
            throw new InvalidOperationException($"chunking '{chunking}' covers {offset} of {input.Length} bytes");
        }

        if (openActive)
        {
            CloseOpen(false);
        }

        if (lazyFlush)
        {
            protocol.WritePendingOutput(output);
        }

        if (done != protocol.IsReceiveCompleted)
        {
            throw Check.Fail($"IsReceiveCompleted={protocol.IsReceiveCompleted} but the events {(done ? "end" : "do not end")} with a close or failure under chunking '{chunking}'");
        }

        // (e) after a close or a failure, later input produces nothing.
        if (done && !junk.IsEmpty)
        {
            byte[] more = junk.ToArray();
            int written = output.WrittenCount;
            bool got = protocol.TryReadEvent(more, out int consumed, out WebSocketEvent late);
            protocol.WritePendingOutput(output);
            if (got || consumed != more.Length || output.WrittenCount != written)
            {
                throw Check.Fail($"input after the receive side completed produced got={got} ({(got ? late.ToString() : "-")}), consumed {consumed} of {more.Length}, {output.WrittenCount - written} output byte(s) under chunking '{chunking}'");
            }
        }

        run.Output = output.WrittenSpan.ToArray();
        run.State = protocol.State;
        run.ReceiveCompleted = protocol.IsReceiveCompleted;
        run.Calls = calls;
        run.HeldCompressionState = protocol.HoldsCompressionState;
        mark = measureAllocations ? GC.GetAllocatedBytesForCurrentThread() : 0;
        protocol.Dispose();
        if (measureAllocations)
        {
            allocated += GC.GetAllocatedBytesForCurrentThread() - mark;
        }

        run.AllocatedBytes = allocated;
        if (protocol.HoldsCompressionState)
        {
            throw Check.Fail($"the engine still holds a zlib state after Dispose under chunking '{chunking}'");
        }

        CheckFinalOutput(run, role);
        return run;

        void CloseOpen(bool endOfMessage)
        {
            byte[] payload = open.ToArray();
            if (openType == WebSocketMessageKind.Text)
            {
                messageText.Append(payload);
                bool ok = endOfMessage ? Utf8.IsValid(messageText.ReadOnlySpan) : Utf8Reference.FirstInvalidIndex(messageText.ReadOnlySpan) < 0;
                if (!ok)
                {
                    throw Check.Fail($"text fragments deliver invalid UTF-8 under chunking '{chunking}': {HexText.Format(messageText.ReadOnlySpan)}");
                }

                if (endOfMessage)
                {
                    messageText.Clear();
                }
            }

            run.Events.Add(FuzzEvent.Fragment(openType, payload, endOfMessage));
            open.Clear();
            openActive = false;
        }
    }

    private static FuzzEvent Record(in WebSocketEvent e) => new(
        e.Type,
        e.MessageType,
        e.Payload.ToArray(),
        e.EndOfMessage,
        (int)e.CloseCode,
        e.Reason is null,
        e.Type == WebSocketEventType.Close ? e.Reason : null);

    /// <summary>Properties of a single non-fragment event: types, limits (d), codes (f), UTF-8 of text. Returns the problem, or null.</summary>
    private static string? CheckEvent(FuzzEvent e, FrameProfile profile)
    {
        switch (e.Type)
        {
            case WebSocketEventType.Message:
                if (profile.DeliverFragments)
                {
                    return "Message event although DeliverFragments is on";
                }

                if (e.MessageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
                {
                    return $"Message with message type {e.MessageType}";
                }

                if (e.Payload.Length > profile.MaxMessageSize)
                {
                    return $"message of {e.Payload.Length} bytes exceeds MaxMessageSize {profile.MaxMessageSize}";
                }

                if (!e.EndOfMessage)
                {
                    return "Message event with EndOfMessage false";
                }

                if (e.MessageType == WebSocketMessageKind.Text && !Utf8.IsValid(e.Payload))
                {
                    return $"text message is not valid UTF-8: {HexText.Format(e.Payload)}";
                }

                return null;
            case WebSocketEventType.Ping:
            case WebSocketEventType.Pong:
                return e.Payload.Length > 125 || !e.EndOfMessage ? $"{e} has a payload over 125 bytes or EndOfMessage false" : null;
            case WebSocketEventType.Close:
                bool codeOk = e.Code == 1005 ? e.ReasonIsNull : ReferenceDecoder.IsSendableCloseCode(e.Code) && !e.ReasonIsNull;
                return !codeOk || e.Payload.Length != 0 ? $"{e} reports a code that cannot be on the wire, or a payload" : null;
            case WebSocketEventType.Failed:
                return Array.IndexOf(FailureCodes, e.Code) < 0 || e.ReasonIsNull || e.Payload.Length != 0
                    ? $"{e}: a failure must carry 1002, 1007 or 1009 and a description"
                    : null;
            default:
                return $"unexpected event type {e.Type}";
        }
    }

    /// <summary>(f) The output is well-formed control frames; after a close or failure it ends with the one close frame carrying the code.</summary>
    private static void CheckFinalOutput(EngineRun run, WebSocketRole role)
    {
        List<OwedFrame> frames = OutputFrames.Decode(run.Output, role);
        int closes = frames.Count(f => f.Opcode == 8);
        FuzzEvent? last = run.Events.Count > 0 ? run.Events[^1] : null;
        bool ended = last?.Type is WebSocketEventType.Close or WebSocketEventType.Failed;
        if (!ended)
        {
            if (closes != 0)
            {
                throw Check.Fail($"a close frame is owed although no close or failure happened under chunking '{run.Chunking}': {OutputFrames.Describe(frames)}");
            }

            if (run.State != WebSocketProtocolState.Open)
            {
                throw Check.Fail($"state {run.State} without a close or failure under chunking '{run.Chunking}'");
            }

            return;
        }

        byte[] expected = last!.Type == WebSocketEventType.Failed || last.Code != 1005 ? OutputFrames.ClosePayload(last.Code) : [];
        if (closes != 1 || frames[^1].Opcode != 8 || !frames[^1].Payload.AsSpan().SequenceEqual(expected))
        {
            throw Check.Fail($"after {last} the pending output must end with exactly one close frame carrying [{HexText.Format(expected)}] under chunking '{run.Chunking}': {OutputFrames.Describe(frames)}");
        }

        if (run.State != WebSocketProtocolState.Closed)
        {
            throw Check.Fail($"state {run.State} after {last} and the flushed close under chunking '{run.Chunking}'");
        }
    }

    /// <summary>
    /// Compares two event sequences. In fragment mode a failure 1007 may cut the text at a
    /// chunking-dependent point: the partial (not ended) fragment right before it is compared only as a
    /// prefix (<paramref name="second"/>'s must be a prefix of <paramref name="first"/>'s when
    /// <paramref name="secondIsPrefix"/>, else either way).
    /// </summary>
    /// <remarks>
    /// With <paramref name="partialBefore1009"/> the same tolerance applies before a 1009: a compressed
    /// message is inflated, so how much of it is delivered before the limit is passed depends on the chunking too.
    /// </remarks>
    public static void CompareEvents(string firstName, List<FuzzEvent> first, string secondName, List<FuzzEvent> second, bool fragments, bool secondIsPrefix, bool partialBefore1009 = false)
    {
        List<FuzzEvent> a = WithoutPartial(first, fragments, partialBefore1009, out byte[]? firstPartial);
        List<FuzzEvent> b = WithoutPartial(second, fragments, partialBefore1009, out byte[]? secondPartial);
        bool same = a.Count == b.Count;
        for (int i = 0; same && i < a.Count; i++)
        {
            same = a[i].SameAs(b[i]);
        }

        if (same && fragments)
        {
            ReadOnlySpan<byte> p1 = firstPartial ?? [];
            ReadOnlySpan<byte> p2 = secondPartial ?? [];
            same = secondIsPrefix ? p1.StartsWith(p2) : p1.StartsWith(p2) || p2.StartsWith(p1);
        }

        if (!same)
        {
            throw Check.Fail($"events differ:\n    {firstName}: {FuzzEvent.Describe(first)}\n    {secondName}: {FuzzEvent.Describe(second)}");
        }
    }

    /// <summary>With fragments, a sequence ending in [Fragment(not ended), Failed 1007]: returns it without that fragment, and the fragment's payload.</summary>
    private static List<FuzzEvent> WithoutPartial(List<FuzzEvent> events, bool fragments, bool partialBefore1009, out byte[]? partial)
    {
        partial = null;
        int count = events.Count;
        if (fragments && count >= 2 && events[^1].Type == WebSocketEventType.Failed && (events[^1].Code == 1007 || (partialBefore1009 && events[^1].Code == 1009))
            && events[^2].Type == WebSocketEventType.Fragment && !events[^2].EndOfMessage)
        {
            partial = events[^2].Payload;
            var trimmed = new List<FuzzEvent>(events);
            trimmed.RemoveAt(count - 2);
            return trimmed;
        }

        return events;
    }

    /// <summary>Compares the owed output of two runs: byte-exact for a server, decoded frames for a client (random masking keys).</summary>
    public static void CompareOutput(WebSocketRole role, EngineRun first, EngineRun second)
    {
        if (role == WebSocketRole.Server)
        {
            if (!first.Output.AsSpan().SequenceEqual(second.Output))
            {
                throw Check.Fail($"pending output differs:\n    {first.Chunking}: {HexText.Format(first.Output)}\n    {second.Chunking}: {HexText.Format(second.Output)}");
            }

            return;
        }

        List<OwedFrame> a = OutputFrames.Decode(first.Output, role);
        List<OwedFrame> b = OutputFrames.Decode(second.Output, role);
        if (a.Count != b.Count || a.Zip(b).Any(p => !p.First.SameAs(p.Second)))
        {
            throw Check.Fail($"pending output (decoded) differs:\n    {first.Chunking}: {OutputFrames.Describe(a)}\n    {second.Chunking}: {OutputFrames.Describe(b)}");
        }
    }

    /// <summary>Compares a run's owed output with the expected frames (and, for a server, with their exact bytes).</summary>
    public static void CompareOutput(WebSocketRole role, EngineRun run, List<OwedFrame> expected, string expectedName)
    {
        List<OwedFrame> actual = OutputFrames.Decode(run.Output, role);
        bool same = actual.Count == expected.Count && actual.Zip(expected).All(p => p.First.SameAs(p.Second));
        if (same && role == WebSocketRole.Server)
        {
            same = run.Output.AsSpan().SequenceEqual(OutputFrames.EncodeUnmasked(expected));
        }

        if (!same)
        {
            throw Check.Fail($"pending output differs from {expectedName}:\n    {expectedName}: {OutputFrames.Describe(expected)}\n    engine ({run.Chunking}): {OutputFrames.Describe(actual)} = {HexText.Format(run.Output)}");
        }
    }

    public static string DescribeChunks(ReadOnlySpan<int> chunks)
    {
        var builder = new StringBuilder();
        foreach (int size in chunks)
        {
            builder.Append(builder.Length == 0 ? string.Empty : ",").Append(size.ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
