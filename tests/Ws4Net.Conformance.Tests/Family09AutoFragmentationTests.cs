using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Auto-fragmentation on send (RFC 6455 §5.4): with <c>WebSocketProtocolOptions.MaxSendFrameSize</c>
/// set, a message our endpoint sends leaves as frames of at most that size, FIN only on the last, the
/// first with the message's opcode and the rest continuations, and it reassembles to the original.
/// Control frames are never fragmented. Server role: a separate <c>WebSocketServer</c> whose /echo runs
/// <c>EchoHandler</c> with the option; client role: our client with the option.
/// </summary>
[Trait("Family", "9")]
public sealed class Family09AutoFragmentationTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private static readonly CaseSettings s_frames1000 = new(MaxSendFrameSize: 1000);

    public static TheoryData<Role, string, int> SizeCases
    {
        get
        {
            var data = new TheoryData<Role, string, int>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (string type in new[] { "text", "binary" })
                {
                    foreach (int size in new[] { 0, 1, 999, 1000, 1001, 10_000, 10_001, 65_536, 1_000_000 })
                    {
                        data.Add(role, type, size);
                    }
                }
            }

            return data;
        }
    }

    private static void AssertFragmentedAs(IReadOnlyList<RawFrame> frames, int opcode, int size, int maxFrame)
    {
        int expectedFrames = Math.Max(1, (size + maxFrame - 1) / maxFrame);
        Assert.True(expectedFrames == frames.Count, $"a {size}-byte message with MaxSendFrameSize {maxFrame} must leave as {expectedFrames} frame(s), got {frames.Count}");
        for (int i = 0; i < frames.Count; i++)
        {
            RawFrame frame = frames[i];
            Assert.True((i == 0 ? opcode : Op.Continuation) == frame.Opcode, $"frame {i}: wrong opcode ({frame})");
            Assert.True((i == frames.Count - 1) == frame.Fin, $"frame {i}: FIN must be set on the last frame only ({frame})");
            int expectedLength = i < frames.Count - 1 ? maxFrame : size - (maxFrame * (frames.Count - 1));
            Assert.True(expectedLength == frame.Payload.Length, $"frame {i}: expected {expectedLength} payload bytes ({frame})");
        }
    }

    [Theory]
    [MemberData(nameof(SizeCases))]
    public Task Message_LeavesInFramesOfAtMostMaxSendFrameSize(Role role, string type, int size)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                int opcode = type == "text" ? Op.Text : Op.Binary;
                byte[] payload = Payloads.For(opcode, size, seed: size);
                await peer.SendFrameAsync(opcode, payload);
                IReadOnlyList<RawFrame> frames = await peer.ExpectMessageAsync(opcode, payload);
                AssertFragmentedAs(frames, opcode, size, 1000);
                await peer.CloseHandshakeAsync();
            },
            s_frames1000);

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task TenKilobyteMessage_ArrivesAsTenFrames(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                byte[] payload = Payloads.Text(10_000, seed: 10);
                await peer.SendFrameAsync(Op.Text, payload);
                IReadOnlyList<RawFrame> frames = await peer.ExpectMessageAsync(Op.Text, payload);
                Assert.Equal(10, frames.Count);
                Assert.Equal(Op.Text, frames[0].Opcode);
                Assert.All(frames.Skip(1), f => Assert.Equal(Op.Continuation, f.Opcode));
                Assert.All(frames.Take(9), f => Assert.False(f.Fin));
                Assert.True(frames[9].Fin);
                await peer.CloseHandshakeAsync();
            },
            s_frames1000);

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FragmentedInboundMessage_IsRefragmentedBySize(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                byte[] payload = Payloads.Binary(10_000, seed: 3);
                await peer.SendAsync(Family05FragmentationTests.Fragments(peer, Op.Binary, payload, 3000));
                IReadOnlyList<RawFrame> frames = await peer.ExpectMessageAsync(Op.Binary, payload);
                AssertFragmentedAs(frames, Op.Binary, 10_000, 1000);
                await peer.CloseHandshakeAsync();
            },
            s_frames1000);

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task SeveralMessages_EachAutoFragmented_InOrder(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                byte[] a = Payloads.Text(2500, seed: 1);
                byte[] b = Payloads.Binary(1500, seed: 2);
                byte[] c = Payloads.Text(10, seed: 3);
                await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Text, a), peer.Frame(Op.Binary, b), peer.Frame(Op.Text, c)));
                AssertFragmentedAs(await peer.ExpectMessageAsync(Op.Text, a), Op.Text, 2500, 1000);
                AssertFragmentedAs(await peer.ExpectMessageAsync(Op.Binary, b), Op.Binary, 1500, 1000);
                AssertFragmentedAs(await peer.ExpectMessageAsync(Op.Text, c), Op.Text, 10, 1000);
                await peer.CloseHandshakeAsync();
            },
            s_frames1000);

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task ControlFrames_AreNeverFragmented_EvenWithASmallMaxSendFrameSize(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                byte[] ping = Payloads.Binary(125, seed: 9);
                await peer.SendFrameAsync(Op.Ping, ping);
                await peer.ExpectPongAsync(ping);
                byte[] payload = Payloads.Binary(1000, seed: 9);
                await peer.SendFrameAsync(Op.Binary, payload);
                AssertFragmentedAs(await peer.ExpectMessageAsync(Op.Binary, payload), Op.Binary, 1000, 125);
                await peer.CloseHandshakeAsync(4000, new byte[100]);
            },
            new CaseSettings(MaxSendFrameSize: 125));

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingDuringAnAutoFragmentedEcho_IsAnsweredWithOneWholePong(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                byte[] payload = Payloads.Binary(5000, seed: 5);
                byte[] ping = Payloads.Binary(100, seed: 6);
                await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Binary, payload), peer.Frame(Op.Ping, ping)));
                AssertFragmentedAs(await peer.ExpectMessageAsync(Op.Binary, payload), Op.Binary, 5000, 1000);
                await peer.ExpectPongAsync(ping);
                await peer.CloseHandshakeAsync();
            },
            s_frames1000);
}
