using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>Replays one fuzz input through every check of its fuzzer, from the target string a failure report prints.</summary>
internal static class FuzzReplay
{
    /// <summary>
    /// Targets: <c>frames:{server|client}/{profile}/{chunk seed}</c>,
    /// <c>zframes:{server|client}/{profile}/{agreement}/{chunk seed}</c> (compressed streams, receiver role),
    /// <c>zsend:{server|client}/{agreement}/{max send frame}/{profile}/{chunk seed}</c> (compressed send side, sender role), <c>utf8:{chunk seed}</c>,
    /// <c>http:request:{limits}:{options}:{seed}</c>, <c>http:response:{limits}:{seed}</c>, <c>extensions</c>
    /// (input: UTF-16LE of the header values joined with U+FFFF), <c>deflate-negotiation</c> (see <see cref="CoverageFuzzTargets"/>).
    /// </summary>
    public static void Run(string target, byte[] input)
    {
        if (target.StartsWith("frames:", StringComparison.Ordinal))
        {
            FrameChecks.CheckInput(target, input);
        }
        else if (target.StartsWith(CompressedFrameChecks.TargetPrefix, StringComparison.Ordinal))
        {
            CompressedFrameChecks.CheckInput(target, input);
        }
        else if (target.StartsWith(CompressedSendChecks.TargetPrefix, StringComparison.Ordinal))
        {
            CompressedSendChecks.CheckWire(target, input);
        }
        else if (target.StartsWith("utf8:", StringComparison.Ordinal))
        {
            Utf8Checks.CheckInput(target, input);
        }
        else if (target.StartsWith("http:", StringComparison.Ordinal))
        {
            HttpChecks.CheckInput(target, input);
        }
        else if (target == "extensions")
        {
            HttpChecks.CheckExtensionHeader(input);
        }
        else if (target == CoverageFuzzTargets.DeflateNegotiationTarget)
        {
            CoverageFuzzTargets.CheckDeflateNegotiation(input);
        }
        else
        {
            throw new ArgumentException($"Unknown fuzz target '{target}'.", nameof(target));
        }
    }
}

/// <summary>
/// Replays the input of a failure report:
/// <c>WS4NET_FUZZ_REPRO_TARGET='frames:server/msg64k/123' WS4NET_FUZZ_REPRO_HEX=8180... dotnet test
/// tests/Ws4Net.Protocol.Tests -c Release --filter "FullyQualifiedName~FuzzReproduceTests"</c>
/// (the hex may also be <c>@path</c> of a file holding it). Passes trivially when the variables are not set.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzReproduceTests(ITestOutputHelper output)
{
    [Fact]
    public void Reproduce()
    {
        string? target = FuzzSettings.ReproTarget;
        byte[]? input = FuzzSettings.ReproInput;
        if (target is null || input is null)
        {
            output.WriteLine($"Nothing to replay: set {FuzzSettings.ReproTargetVariable} and {FuzzSettings.ReproHexVariable}.");
            return;
        }

        output.WriteLine($"Replaying {input.Length} byte(s) against '{target}'.");
        FuzzReplay.Run(target, input);
    }
}

/// <summary>Sanity checks of the fuzz harness itself: known vectors give the known answers, and the comparisons do catch differences.</summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzHarnessSelfTests
{
    [Theory]
    [InlineData("frames:client/msg64k/1", "810548656C6C6F", "Message(Text")]                                         // RFC 6455 §5.7 unmasked "Hello"
    [InlineData("frames:server/msg64k/2", "818537FA213D7F9F4D5158", "Message(Text")]                                 // §5.7 masked "Hello"
    [InlineData("frames:client/msg64k/3", "010348656C80027C6F", "Message(Text")]                                     // §5.7 fragmented "Hel" + "lo"
    [InlineData("frames:server/msg64k/4", "898537FA213D7F9F4D5158", "Ping(5 B")]                                     // §5.7 masked ping
    [InlineData("frames:client/msg1k-frame200/5", "827E0100", "Failed(1009)")]                                       // 256-byte frame over MaxFrameSize 200
    [InlineData("frames:client/msg64k/6", "81027FFF", "Failed(1007)")]                                               // invalid UTF-8 in a text frame
    [InlineData("frames:client/frag64k/7", "8802E803", "Failed(1002)")]                                              // close code 0xE803 = 59395 is not valid on the wire
    [InlineData("frames:client/frag64k/8", "880403E8FF41", "Failed(1007)")]                                          // close 1000 with a reason that is not UTF-8
    [InlineData("frames:server/msg64k/9", "8100", "Failed(1002)")]                                                   // unmasked frame from a client
    public void KnownVectors_ReferenceDecoderAndEngineAgree(string target, string hex, string expectedStart)
    {
        byte[] input = HexText.Parse(hex);
        FrameChecks.ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out _);
        ModelResult model = ReferenceDecoder.Decode(input, role, profile);
        Assert.StartsWith(expectedStart, FuzzEvent.Describe(model.Events), StringComparison.Ordinal);

        FuzzReplay.Run(target, input);
    }

    [Fact]
    public void CompareEvents_DetectsADifference()
    {
        List<FuzzEvent> a = [FuzzEvent.Message(WebSocketMessageKind.Text, [0x41])];
        List<FuzzEvent> b = [FuzzEvent.Message(WebSocketMessageKind.Text, [0x42])];
        Assert.Throws<FuzzCheckException>(() => EngineHarness.CompareEvents("a", a, "b", b, fragments: false, secondIsPrefix: false));
        EngineHarness.CompareEvents("a", a, "a again", [FuzzEvent.Message(WebSocketMessageKind.Text, [0x41])], fragments: false, secondIsPrefix: false);
    }

    [Fact]
    public void CompareEvents_FragmentModeToleratesOnlyAPrefixBeforeA1007()
    {
        List<FuzzEvent> model = [FuzzEvent.Fragment(WebSocketMessageKind.Text, [0x41, 0x42], false), FuzzEvent.Failed(1007)];
        EngineHarness.CompareEvents("model", model, "engine", [FuzzEvent.Failed(1007)], fragments: true, secondIsPrefix: true);
        EngineHarness.CompareEvents("model", model, "engine", [FuzzEvent.Fragment(WebSocketMessageKind.Text, [0x41], false), FuzzEvent.Failed(1007)], fragments: true, secondIsPrefix: true);
        Assert.Throws<FuzzCheckException>(() => EngineHarness.CompareEvents("model", model, "engine", [FuzzEvent.Fragment(WebSocketMessageKind.Text, [0x42], false), FuzzEvent.Failed(1007)], fragments: true, secondIsPrefix: true));
    }

    [Theory]
    [InlineData("", -1)]
    [InlineData("41", -1)]
    [InlineData("E282", -1)]          // truncated, still a valid prefix
    [InlineData("E0 80", 1)]          // overlong: the second byte is the first that cannot be valid
    [InlineData("ED A0 80", 1)]       // surrogate
    [InlineData("F4 90 80 80", 1)]    // above U+10FFFF
    [InlineData("41 80", 1)]
    [InlineData("C3 A9 FF", 2)]
    [InlineData("F0 9F 98 41", 3)]
    public void Utf8Reference_FirstInvalidIndex(string hex, int expected)
    {
        byte[] bytes = HexText.Parse(hex);
        Assert.Equal(expected, Utf8Reference.FirstInvalidIndex(bytes));
        Assert.Equal(expected, Utf8Reference.FirstInvalidIndexBruteForce(bytes));
    }

    [Theory]
    [InlineData("permessage-deflate", true)]
    [InlineData("permessage-deflate; client_max_window_bits", true)]
    [InlineData(" , foo ; a = \"1\\0\" ,, bar ,", true)]
    [InlineData("foo; a=\"1 0\"", false)]   // quoted value that is not a token once unescaped
    [InlineData(",", false)]
    [InlineData("", false)]
    [InlineData("foo;", false)]
    [InlineData("foo bar", false)]
    [InlineData("f\u00E9", false)]
    public void ExtensionGrammar_KnownValues(string value, bool valid)
    {
        Assert.Equal(valid, HttpReference.ParseExtensions([value]) is not null);
        HttpChecks.CheckExtensionHeader(System.Text.Encoding.Unicode.GetBytes(value));
    }
}
