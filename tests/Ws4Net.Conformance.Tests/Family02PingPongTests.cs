using System.Globalization;
using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 2 (pings and pongs, RFC 6455 §5.5.2-§5.5.3): pings of 0 to 125 bytes answered by
/// identical pongs, in order; a 126-byte or fragmented ping fails the connection with 1002;
/// unsolicited pongs are ignored.
/// </summary>
[Trait("Family", "2")]
public sealed class Family02PingPongTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    public static TheoryData<Role, int> PingSizes => CaseRunner.Cross(new[] { 0, 1, 10, 124, 125 });

    public static TheoryData<Role, string> PingChunkings => CaseRunner.Cross(new[] { "one-write", "byte-by-byte", "random" });

    [Theory]
    [MemberData(nameof(PingSizes))]
    public Task Ping_IsAnsweredWithAnIdenticalPong(Role role, int size)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = Payloads.Binary(size, seed: size);
            await peer.SendFrameAsync(Op.Ping, payload);
            await peer.ExpectPongAsync(payload);
            await peer.EchoProbeAsync();
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(PingChunkings))]
    public Task Ping125_InAnyChunking_IsAnsweredWithAnIdenticalPong(Role role, string chunking)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = Payloads.Binary(125, seed: 125);
            await peer.SendAsync(peer.Frame(Op.Ping, payload), chunking switch
            {
                "one-write" => Chunking.Whole,
                "byte-by-byte" => Chunking.ByteByByte,
                _ => Chunking.Random(seed: 2, max: 9),
            });
            await peer.ExpectPongAsync(payload);
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingWithTextPayload_IsAnsweredWithAnIdenticalPong(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = FrameBuilder.Utf8("Hello, pong — ✓");
            await peer.SendFrameAsync(Op.Ping, payload);
            await peer.ExpectPongAsync(payload);
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingOf126Bytes_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendFrameAsync(Op.Ping, Payloads.Binary(126));
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingOf126Bytes_AfterAValidPing_FailsWith1002AfterThePong(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] ok = Payloads.Binary(125);
            await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Ping, ok), peer.Frame(Op.Ping, Payloads.Binary(126))));
            await peer.ExpectPongAsync(ok);
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PongOf126Bytes_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            // Every control frame, an unsolicited pong included, is limited to 125 bytes (RFC 6455 §5.5).
            await peer.SendFrameAsync(Op.Pong, Payloads.Binary(126));
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task UnsolicitedPong_IsIgnored(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendFrameAsync(Op.Pong, FrameBuilder.Utf8("unsolicited"));
            await peer.ExpectNothingAsync(why: " after an unsolicited pong");
            await peer.EchoProbeAsync();
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task UnsolicitedPongs_EmptyAnd125Bytes_AreIgnored_ThenAPingIsAnswered(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] ping = FrameBuilder.Utf8("after the pongs");
            await peer.SendAsync(FrameBuilder.Concat(
                peer.Frame(Op.Pong, []),
                peer.Frame(Op.Pong, Payloads.Binary(125)),
                peer.Frame(Op.Ping, ping)));
            await peer.ExpectPongAsync(ping);
            await peer.EchoProbeAsync();
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FragmentedPing_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendFrameAsync(Op.Ping, FrameBuilder.Utf8("frag"), fin: false);
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FragmentedPing_FollowedByAContinuation_FailsWith1002_WithoutAPong(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendAsync(FrameBuilder.Concat(
                peer.Frame(Op.Ping, FrameBuilder.Utf8("frag"), fin: false),
                peer.Frame(Op.Continuation, FrameBuilder.Utf8("ment"))));
            await peer.ExpectFailAsync(1002);
        });

    public static TheoryData<Role, string> TenPingDeliveries => CaseRunner.Cross(new[] { "one-write", "byte-by-byte" });

    [Theory]
    [MemberData(nameof(TenPingDeliveries))]
    public Task TenPingsInARow_AreAllAnsweredInOrder(Role role, string delivery)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[][] payloads = Enumerable.Range(0, 10).Select(i => FrameBuilder.Utf8("ping #" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
            await peer.SendAsync(
                FrameBuilder.Concat(payloads.Select(p => peer.Frame(Op.Ping, p)).ToArray()),
                delivery == "one-write" ? Chunking.Whole : Chunking.ByteByByte);
            foreach (byte[] payload in payloads)
            {
                await peer.ExpectPongAsync(payload);
            }

            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingsInterleavedWithMessages_AreAnsweredInStreamOrder(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] binary = Payloads.Binary(70_000);
            await peer.SendAsync(
                FrameBuilder.Concat(
                    peer.TextFrame("one"),
                    peer.Frame(Op.Ping, FrameBuilder.Utf8("p1")),
                    peer.Frame(Op.Binary, binary),
                    peer.Frame(Op.Ping, FrameBuilder.Utf8("p2")),
                    peer.TextFrame("two")),
                Chunking.Random(seed: 5, max: 700));
            await peer.ExpectTextAsync("one");
            await peer.ExpectPongAsync(FrameBuilder.Utf8("p1"));
            await peer.ExpectMessageAsync(Op.Binary, binary);
            await peer.ExpectPongAsync(FrameBuilder.Utf8("p2"));
            await peer.ExpectTextAsync("two");
            await peer.CloseHandshakeAsync();
        });
}
