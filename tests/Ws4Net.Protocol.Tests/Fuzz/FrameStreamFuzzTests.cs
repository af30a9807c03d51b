using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The frame-stream fuzz loops, shared by the four test classes below (one class each, so that xUnit
/// runs them in parallel). See docs/fuzzing.md.
/// </summary>
internal static class FrameFuzzing
{
    /// <summary>Inputs per test when WS4NET_FUZZ_ITERATIONS is not set (keeps the Fuzz folder within the CI budget).</summary>
    public const int DefaultIterations = 6000;

    /// <summary>Valid generated streams: engine and reference decoder must both match the generator's intent exactly.</summary>
    public static long RunValid(ITestOutputHelper output, WebSocketRole role, ulong seed, string testFilter)
    {
        long count = FuzzRunner.Run(output, "frames-valid-" + Name(role), testFilter, seed, DefaultIterations, (rng, context) =>
        {
            FrameProfile profile = FrameProfile.Pick(rng);
            GeneratedStream stream = FrameStreamGenerator.Generate(rng, role, profile);
            byte[] input = stream.ToBytes();
            string target = FrameChecks.Target(role, profile, rng.NextSeed());
            context.Set(target, input, () => "valid stream; intended: " + FuzzEvent.Describe(stream.Intended.Events));
            FrameChecks.CheckInput(target, input, stream.Intended);
        });
        output.WriteLine(FrameChecks.Statistics);
        return count;
    }

    /// <summary>Mutated streams: the engine must satisfy every property and match the reference decoder.</summary>
    public static long RunMutated(ITestOutputHelper output, WebSocketRole role, ulong seed, string testFilter)
    {
        long count = FuzzRunner.Run(output, "frames-mutated-" + Name(role), testFilter, seed, DefaultIterations, (rng, context) =>
        {
            FrameProfile profile = FrameProfile.Pick(rng);
            GeneratedStream stream = FrameStreamGenerator.Generate(rng, role, profile);
            byte[] input = FrameMutator.Mutate(rng, stream, () => FrameStreamGenerator.Generate(rng, role, profile), role, profile, out string mutations);
            string target = FrameChecks.Target(role, profile, rng.NextSeed());
            context.Set(target, input, () => "mutations: " + mutations);
            FrameChecks.CheckInput(target, input);
        });
        output.WriteLine(FrameChecks.Statistics);
        return count;
    }

    private static string Name(WebSocketRole role) => role == WebSocketRole.Server ? "server" : "client";
}

/// <summary>Valid frame streams sent to a server (masked), differential against the generator.</summary>
[Trait("Category", "Fuzz")]
public sealed class FrameFuzzValidServerTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => FrameFuzzing.RunValid(output, WebSocketRole.Server, 0x5EED_0001, nameof(FrameFuzzValidServerTests));
}

/// <summary>Valid frame streams sent to a client (unmasked), differential against the generator.</summary>
[Trait("Category", "Fuzz")]
public sealed class FrameFuzzValidClientTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => FrameFuzzing.RunValid(output, WebSocketRole.Client, 0x5EED_0002, nameof(FrameFuzzValidClientTests));
}

/// <summary>Mutated frame streams sent to a server.</summary>
[Trait("Category", "Fuzz")]
public sealed class FrameFuzzMutatedServerTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => FrameFuzzing.RunMutated(output, WebSocketRole.Server, 0x5EED_0003, nameof(FrameFuzzMutatedServerTests));
}

/// <summary>Mutated frame streams sent to a client.</summary>
[Trait("Category", "Fuzz")]
public sealed class FrameFuzzMutatedClientTests(ITestOutputHelper output)
{
    [Fact]
    public void Fuzz() => FrameFuzzing.RunMutated(output, WebSocketRole.Client, 0x5EED_0004, nameof(FrameFuzzMutatedClientTests));
}
