using System.IO.Compression;
using Ws4Net.Protocol.Compression;
using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The compressed-stream fuzz loops (permessage-deflate), shared by the test classes below (one class
/// each, so that xUnit runs them in parallel). See docs/fuzzing.md.
/// </summary>
internal static class CompressedFuzzing
{
    /// <summary>Inputs per receive-side test when WS4NET_FUZZ_ITERATIONS is not set.</summary>
    public const int DefaultIterations = 1200;

    /// <summary>Send scenarios per send-side test when WS4NET_FUZZ_ITERATIONS is not set.</summary>
    public const int DefaultSendIterations = 500;

    /// <summary>Valid compressed streams: the engine and the reference decoder must both match the generator's intent exactly.</summary>
    public static long RunValid(ITestOutputHelper output, WebSocketRole role, ulong seed, string testFilter)
    {
        long count = FuzzRunner.Run(output, "zframes-valid-" + Name(role), testFilter, seed, DefaultIterations, (rng, context) =>
        {
            FrameProfile profile = CompressedProfiles.Pick(rng);
            PerMessageDeflateParameters agreement = CompressedAgreements.Random(rng, role, peerMayUseEight: true);
            CompressedStream stream = CompressedStreamGenerator.Generate(rng, role, profile, agreement);
            byte[] input = stream.Bytes.ToArray();
            string target = CompressedFrameChecks.Target(role, profile, agreement, rng.NextSeed());
            context.Set(target, input, () => "valid stream; " + stream.Describe());
            CompressedFrameChecks.CheckInput(target, input, new CompressedIntent { Stream = stream, FirstDifference = input.Length, IsWholeStream = true });
        });
        output.WriteLine(CompressedFrameChecks.Statistics);
        return count;
    }

    /// <summary>Mutated compressed streams: every property, the reference decoder, and the intent before the first mutated byte.</summary>
    public static long RunMutated(ITestOutputHelper output, WebSocketRole role, ulong seed, string testFilter)
    {
        long count = FuzzRunner.Run(output, "zframes-mutated-" + Name(role), testFilter, seed, DefaultIterations, (rng, context) =>
        {
            FrameProfile profile = CompressedProfiles.Pick(rng);
            PerMessageDeflateParameters agreement = CompressedAgreements.Random(rng, role, peerMayUseEight: true);
            CompressedStream stream = CompressedStreamGenerator.Generate(rng, role, profile, agreement);
            byte[] input = CompressedStreamMutator.Mutate(rng, stream, role, profile, out string mutations);
            byte[] original = stream.Bytes.ToArray();
            int first = input.AsSpan().CommonPrefixLength(original);
            string target = CompressedFrameChecks.Target(role, profile, agreement, rng.NextSeed());
            context.Set(target, input, () => $"mutations: {mutations} first mutated byte: {first}; generated: {stream.Describe()}");
            CompressedFrameChecks.CheckInput(target, input, new CompressedIntent { Stream = stream, FirstDifference = first });
        });
        output.WriteLine(CompressedFrameChecks.Statistics);
        return count;
    }

    public static long RunSend(ITestOutputHelper output, WebSocketRole sender, ulong seed, string testFilter)
    {
        long count = FuzzRunner.Run(output, "zsend-" + Name(sender), testFilter, seed, DefaultSendIterations, (rng, context) => CompressedSendChecks.RunIteration(rng, context, sender));
        output.WriteLine(CompressedSendChecks.Statistics);
        output.WriteLine(CompressedFrameChecks.Statistics);
        return count;
    }

    private static string Name(WebSocketRole role) => role == WebSocketRole.Server ? "server" : "client";
}

/// <summary>Valid compressed streams sent to a server (masked), differential against the generator.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedStreamFuzzValidServerTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunValid(output, WebSocketRole.Server, 0x5EED_2001, nameof(CompressedStreamFuzzValidServerTests));
}

/// <summary>Valid compressed streams sent to a client (unmasked), differential against the generator.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedStreamFuzzValidClientTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunValid(output, WebSocketRole.Client, 0x5EED_2002, nameof(CompressedStreamFuzzValidClientTests));
}

/// <summary>Mutated compressed streams sent to a server.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedStreamFuzzMutatedServerTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunMutated(output, WebSocketRole.Server, 0x5EED_2003, nameof(CompressedStreamFuzzMutatedServerTests));
}

/// <summary>Mutated compressed streams sent to a client.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedStreamFuzzMutatedClientTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunMutated(output, WebSocketRole.Client, 0x5EED_2004, nameof(CompressedStreamFuzzMutatedClientTests));
}

/// <summary>Random writes on a compressing server engine, checked on the wire and by a receiving client engine.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedSendFuzzServerTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunSend(output, WebSocketRole.Server, 0x5EED_2005, nameof(CompressedSendFuzzServerTests));
}

/// <summary>Random writes on a compressing client engine, checked on the wire and by a receiving server engine.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedSendFuzzClientTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => CompressedFuzzing.RunSend(output, WebSocketRole.Client, 0x5EED_2006, nameof(CompressedSendFuzzClientTests));
}

/// <summary>
/// The independent DEFLATE decoder against zlib (DeflateStream, 15-bit window): valid streams from every
/// source, damaged by bit flips, byte changes, truncation and random bytes; both must reject the same
/// inputs, and before an error the reference must have produced at least what DeflateStream returned.
/// This is what makes the compressed reference decoder trustworthy as an oracle.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DeflateReferenceFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 4000;

    [Fact]
    public void Fuzz()
    {
        var outcomes = new FuzzCounters();
        FuzzRunner.Run(output, "deflate-reference", nameof(DeflateReferenceFuzzTests), 0x5EED_2007, DefaultIterations, (rng, context) =>
        {
            byte[] data = CompressedContent.Make(rng, rng.NextBool(), CompressedContent.Length(rng, 70_000), 32768);
            byte[] deflated = rng.Next(3) switch
            {
                0 => new ReferenceDeflater(15).CompressMessage(rng, data, final: rng.NextBool()),
                1 => BclDeflate(data, rng.Chance(50) ? CompressionLevel.Optimal : CompressionLevel.Fastest),
                _ => rng.Bytes(rng.Next(0, 64)),
            };
            byte[] input = Damage(rng, deflated);
            context.Set("deflate", input);
            outcomes.Add(DeflateSelfChecks.Compare(input));
        });
        output.WriteLine("outcomes: " + outcomes);
    }

    private static byte[] Damage(FuzzRng rng, byte[] bytes)
    {
        var list = new List<byte>(bytes);
        int count = rng.Next(0, 4);
        for (int i = 0; i < count && list.Count > 0; i++)
        {
            int at = rng.Next(list.Count);
            switch (rng.Next(4))
            {
                case 0:
                    list[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1:
                    list[at] = rng.NextByte();
                    break;
                case 2:
                    list.RemoveRange(at, list.Count - at);
                    break;
                default:
                    list.Insert(at, rng.NextByte());
                    break;
            }
        }

        return [.. list];
    }

    private static byte[] BclDeflate(byte[] data, CompressionLevel level)
    {
        using var buffer = new MemoryStream();
        using var deflate = new DeflateStream(buffer, level, leaveOpen: true);
        deflate.Write(data);
        deflate.Flush();
        return buffer.ToArray();
    }
}

internal static class DeflateSelfChecks
{
    /// <summary>Decodes <paramref name="input"/> with both decoders; returns the outcome name, or fails when they disagree.</summary>
    public static string Compare(byte[] input)
    {
        var reference = new ReferenceInflater(15);
        reference.Append(input);
        var produced = new ByteBuf(input.Length * 4);
        InflateStop stop = reference.Run(produced, long.MaxValue, out _);

        using var source = new MemoryStream(input);
        using var inflate = new DeflateStream(source, CompressionMode.Decompress);
        using var bcl = new MemoryStream();
        string? zlibError = null;
        byte[] buffer = new byte[4096];
        try
        {
            int n;
            while ((n = inflate.Read(buffer)) > 0)
            {
                bcl.Write(buffer, 0, n);
            }
        }
        catch (InvalidDataException ex)
        {
            zlibError = ex.Message;
        }

        bool referenceError = stop == InflateStop.Error;
        if (referenceError != (zlibError is not null))
        {
            throw Check.Fail($"the reference decoder {(referenceError ? "rejects (" + reference.Error + ")" : "accepts")} but zlib {(zlibError is null ? "accepts" : "rejects (" + zlibError + ")")}: {HexText.Format(input)}");
        }

        ReadOnlySpan<byte> ours = produced.ReadOnlySpan;
        ReadOnlySpan<byte> theirs = bcl.GetBuffer().AsSpan(0, (int)bcl.Length);
        bool same = referenceError ? ours.StartsWith(theirs) : ours.SequenceEqual(theirs);
        if (!same)
        {
            throw Check.Fail($"the reference decoder produced {ours.Length} bytes, zlib {theirs.Length} (first difference at {ours.CommonPrefixLength(theirs)}): {HexText.Format(input)}");
        }

        return referenceError ? "error: " + reference.Error : stop == InflateStop.Ended ? "ended" : "open";
    }
}

/// <summary>Sanity checks of the compressed-stream harness: known RFC 7692 vectors, the encoder, the decoder, the normalization.</summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedFuzzHarnessSelfTests
{
    [Theory]
    [InlineData("zframes:client/z64k/s-c-/1", "C107F248CDC9C90700", "Message(Text, 5 B [48656C6C6F]")]                                   // RFC 7692 §7.2.3.1
    [InlineData("zframes:client/z64k/s-c-/2", "4103F248CD80 04C9C90700", "Message(Text, 5 B [48656C6C6F]")]                                // §7.2.3.1, fragmented
    [InlineData("zframes:client/z64k/s-c-/3", "C107F248CDC9C90700 C105F200110000", "Message(Text, 5 B [48656C6C6F], eom=True) | Message(Text, 5 B [48656C6C6F]")] // §7.2.3.2
    [InlineData("zframes:client/z64k/S-c-/4", "C107F248CDC9C90700 C105F200110000", "Message(Text, 5 B [48656C6C6F], eom=True) | Failed(1007)")] // no takeover: no shared window
    [InlineData("zframes:client/z64k/s-c-/5", "C10B0005 00FAFF48656C6C6F00", "Message(Text, 5 B [48656C6C6F]")]                          // §7.2.3.3, stored block
    [InlineData("zframes:client/z64k/s-c-/6", "C107F348CDC9C90700 C107F248CDC9C90700", "Message(Text, 5 B [48656C6C6F], eom=True) | Message(Text, 5 B [48656C6C6F]")] // §7.2.3.5, BFINAL: the next message starts a new stream
    [InlineData("zframes:client/z64k/s-c-/7", "C10DF248050000 00FFFFCAC9C90700", "Message(Text, 5 B [48656C6C6F]")]                      // §7.2.3.4, two blocks
    [InlineData("zframes:server/z64k/s-c-/8", "C18700000000F248CDC9C90700", "Message(Text, 5 B [48656C6C6F]")]                           // masked, all-zero key
    [InlineData("zframes:client/z64k/s-c-/9", "C100", "Message(Text, 0 B [], eom=True)")]                                                  // no payload: an empty message
    [InlineData("zframes:client/z64k/s-c-/10", "C1020300", "Message(Text, 0 B [], eom=True)")]                                             // an empty final block
    [InlineData("zframes:client/z64k/s-c-/11", "8107F248CDC9C90700", "Failed(1007)")]                                                      // RSV1 off: raw DEFLATE is not UTF-8
    [InlineData("zframes:client/z64k/s-c-/12", "4103F248CD C004C9C90700", "Failed(1002)")]                                                 // RSV1 on a continuation
    [InlineData("zframes:client/z4k-frame1k/s-c-/13", "C10B 621805A360148C82510000", "Failed(1009)")]                                     // inflates past the frame limit
    public void KnownVectors_ReferenceDecoderAndEngineAgree(string target, string hex, string expectedStart)
    {
        byte[] input = HexText.Parse(hex);
        CompressedFrameChecks.ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out PerMessageDeflateParameters agreement, out _);
        CompressedModel model = CompressedReferenceDecoder.Decode(input, role, profile, agreement);
        Assert.StartsWith(expectedStart, FuzzEvent.Describe(model.Result.Events), StringComparison.Ordinal);
        FuzzReplay.Run(target, input);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(15)]
    public void ReferenceDeflater_output_is_valid_for_zlib_and_the_reference_inflater_within_the_window(int bits)
    {
        var rng = new FuzzRng(42, bits);
        var deflater = new ReferenceDeflater(bits);
        var inflater = new ReferenceInflater(Math.Max(9, bits));
        var messages = new List<byte[]>();
        using var wire = new MemoryStream();
        for (int i = 0; i < 40; i++)
        {
            byte[] data = CompressedContent.Make(rng, rng.NextBool(), rng.Next(0, 3000), 1 << bits);
            byte[] payload = deflater.CompressMessage(rng, data, final: false);
            messages.Add(data);
            wire.Write(payload);
            wire.Write([0x00, 0x00, 0xFF, 0xFF]);
            inflater.Append(payload);
            inflater.Append([0x00, 0x00, 0xFF, 0xFF]);
            var output = new ByteBuf();
            Assert.Equal(InflateStop.NeedInput, inflater.Run(output, long.MaxValue, out _));
            Assert.Equal(data, output.ToArray());
        }

        wire.Position = 0;
        using var inflate = new DeflateStream(wire, CompressionMode.Decompress);
        foreach (byte[] message in messages)
        {
            byte[] read = new byte[message.Length];
            inflate.ReadExactly(read);
            Assert.Equal(message, read);
        }
    }

    [Theory]
    [InlineData("0700")]                                   // reserved block type
    [InlineData("000500000048656C6C6F")]                   // stored LEN != ~NLEN
    [InlineData("F200110000")]                             // distance before the start
    [InlineData("04FFFFFFFFFFFFFF")]                       // 32 distance codes
    [InlineData("F248CDC9C90700000000FFFF07")]             // valid block then a reserved one
    [InlineData("FFFFFFFFFFFFFFFFFFFF")]
    [InlineData("F248CDC9C90700")]
    [InlineData("05" + "0000000000000000000000000000000000000000000000000000000000000000000000")] // dynamic block, empty code-length code: zlib reads 258 one-bit zero lengths, then: no end-of-block
    public void ReferenceInflater_agrees_with_zlib_on_known_inputs(string hex) => DeflateSelfChecks.Compare(HexText.Parse(hex));

    [Fact]
    public void Normalize_moves_controls_before_the_merged_message()
    {
        List<FuzzEvent> events =
        [
            FuzzEvent.Fragment(WebSocketMessageKind.Text, [0x41], false),
            FuzzEvent.Ping([1]),
            FuzzEvent.Fragment(WebSocketMessageKind.Text, [0x42], true),
            FuzzEvent.Pong([2]),
        ];
        List<FuzzEvent> normalized = CompressedEvents.Normalize(events, fragments: true);
        Assert.Equal("Ping(1 B [01]) | Fragment(Text, 2 B [4142], eom=True) | Pong(1 B [02])", FuzzEvent.Describe(normalized));
    }

    [Fact]
    public void Agreement_names_round_trip()
    {
        var rng = new FuzzRng(7);
        for (int i = 0; i < 200; i++)
        {
            PerMessageDeflateParameters agreement = CompressedAgreements.Random(rng, i % 2 == 0 ? WebSocketRole.Server : WebSocketRole.Client, peerMayUseEight: true);
            string name = CompressedAgreements.Name(agreement);
            Assert.Equal(name, CompressedAgreements.Name(CompressedAgreements.Parse(name)));
        }
    }
}

/// <summary>
/// Engine defects found by the compressed-stream fuzzers, as minimal inputs (docs/fuzzing.md,
/// "Findings"), kept as regression tests now that they are fixed. The fuzz loops fail on them too
/// (set <c>WS4NET_FUZZ_STRICT_KNOWN_DEFECTS=0</c> only to hunt past one while debugging).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class CompressedFuzzRegressionTests
{
    /// <summary>
    /// Window (server_max_window_bits=9, the client inflates with a 9-bit window): one text message whose
    /// fixed-Huffman block is 'a', two matches (258, distance 1), then a match (3, distance 513), end of
    /// block, sync flush. 513 is beyond the agreed 512-byte window but within the 517 bytes produced.
    /// zlib accepts such a distance when the bytes it reaches back to were produced in the same inflate
    /// call, and rejects it otherwise, so the engine delivers the 520-byte message when the frame arrives
    /// whole and fails with 1007 when it arrives byte by byte. Either answer is acceptable for a peer that
    /// breaks the agreement; depending on TCP segmentation is not.
    /// </summary>
    [Fact]
    public void A_distance_beyond_the_agreed_window_is_judged_the_same_under_every_chunking() =>
        CompressedFrameChecks.CheckInput("zframes:client/z64k/s9c-/1", HexText.Parse("C109 4A1C05A30098000000"), strict: true);

    /// <summary>
    /// UTF-8 before the limit (MaxFrameSize 1024, so at most 1024 inflated bytes per frame): one text
    /// message whose DEFLATE data is 0xFF (never valid UTF-8), 0x00, then 4 × 258 zeros. The first invalid
    /// byte comes before the limit is passed, so the answer is 1007 (invalid payload data), as it is when
    /// the frame arrives in small chunks; when it arrives whole the engine inflates the whole segment
    /// before it validates the text and answers 1009 (message too big) instead.
    /// </summary>
    /// <summary>
    /// Limit, then corrupt data (MaxFrameSize 1024): one binary message whose fixed-Huffman block inflates
    /// to exactly 1024 bytes, then one more literal (the first byte over the limit), end of block, then a
    /// block header of the reserved type 11. The limit is passed before the data turns corrupt, so the
    /// answer is 1009, as it is when the frame arrives byte by byte; when it arrives whole, the engine's
    /// one-byte probe at the limit writes that byte and zlib, in the same call, goes on to the reserved
    /// block type: the engine checks the inflate error first and answers 1007.
    /// </summary>
    [Fact]
    public void Passing_the_limit_before_corrupt_data_fails_with_1009_under_every_chunking() =>
        CompressedFrameChecks.CheckInput("zframes:client/z4k-frame1k/s-c-/1", HexText.Parse("C20B 621805A360148C58C00030"), strict: true);

    [Fact]
    public void Invalid_utf8_before_the_limit_fails_with_1007_under_every_chunking() =>
        CompressedFrameChecks.CheckInput("zframes:client/z4k-frame1k/s-c-/1", HexText.Parse("C10B FACF300A46C12818050000"), strict: true);
}
