using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 5 (fragmentation, RFC 6455 §5.4): messages in fragments of 1 byte up to 64 KiB are
/// reassembled and echoed; control frames may be interleaved between fragments and are answered at
/// once (the pong precedes the echo of the message); a continuation without a message to continue,
/// a new data frame inside a fragmented message, and a fragmented control frame fail with 1002.
/// </summary>
[Trait("Family", "5")]
public sealed class Family05FragmentationTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private const int MessageLength = 64 * 1024 + 17;

    public static TheoryData<Role, string, int> FragmentSizes
    {
        get
        {
            var data = new TheoryData<Role, string, int>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (string type in new[] { "text", "binary" })
                {
                    foreach (int size in new[] { 1, 2, 3, 7, 64, 125, 126, 1000, 4096, 16384, 65535, 65536 })
                    {
                        data.Add(role, type, size);
                    }
                }
            }

            return data;
        }
    }

    /// <summary>Frames of a message cut into fragments of <paramref name="fragmentSize"/> bytes (the last may be shorter).</summary>
    internal static byte[] Fragments(RawPeer peer, int opcode, byte[] payload, int fragmentSize)
    {
        var frames = new List<byte[]>();
        int pos = 0;
        do
        {
            int size = Math.Min(fragmentSize, payload.Length - pos);
            frames.Add(peer.Frame(pos == 0 ? opcode : Op.Continuation, payload.AsSpan(pos, size), fin: pos + size == payload.Length));
            pos += size;
        }
        while (pos < payload.Length);
        return FrameBuilder.Concat(frames.ToArray());
    }

    [Theory]
    [MemberData(nameof(FragmentSizes))]
    public Task FragmentedMessage_IsReassembledAndEchoed(Role role, string type, int fragmentSize)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            int opcode = type == "text" ? Op.Text : Op.Binary;
            byte[] payload = Payloads.For(opcode, MessageLength, seed: fragmentSize);
            byte[] stream = Fragments(peer, opcode, payload, fragmentSize);
            await peer.SendAsync(stream, fragmentSize >= 1000 ? Chunking.Random(seed: fragmentSize, max: 3000) : Chunking.Whole);
            await peer.ExpectMessageAsync(opcode, payload, TimeSpan.FromSeconds(20));
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FragmentsEachInTheirOwnWrite_AreReassembled(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            string[] parts = ["Frag", "men", "ted ", "mes", "sage ✓"];
            for (int i = 0; i < parts.Length; i++)
            {
                await peer.SendFrameAsync(i == 0 ? Op.Text : Op.Continuation, FrameBuilder.Utf8(parts[i]), fin: i == parts.Length - 1);
                if (i < parts.Length - 1)
                {
                    await peer.ExpectNothingAsync(TimeSpan.FromMilliseconds(30), " before the last fragment");
                }
            }

            await peer.ExpectTextAsync(string.Concat(parts));
            await peer.CloseHandshakeAsync();
        });

    public static TheoryData<Role, string> EmptyFragmentCases => CaseRunner.Cross(new[] { "text-all-empty", "binary-empty-around-data", "text-empty-last" });

    [Theory]
    [MemberData(nameof(EmptyFragmentCases))]
    public Task EmptyFragments_AreAllowed(Role role, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] abc = FrameBuilder.Utf8("abc");
            (int Opcode, byte[] Payload, bool Fin)[] frames = variant switch
            {
                "text-all-empty" => [(Op.Text, [], false), (Op.Continuation, [], false), (Op.Continuation, [], true)],
                "binary-empty-around-data" => [(Op.Binary, [], false), (Op.Continuation, abc, false), (Op.Continuation, [], true)],
                _ => [(Op.Text, abc, false), (Op.Continuation, [], true)],
            };
            await peer.SendAsync(FrameBuilder.Concat(frames.Select(f => peer.Frame(f.Opcode, f.Payload, f.Fin)).ToArray()));
            await peer.ExpectMessageAsync(frames[0].Opcode, variant == "text-all-empty" ? [] : abc);
            await peer.CloseHandshakeAsync();
        });

    public static TheoryData<Role, string> InterleavedPingCases => CaseRunner.Cross(new[] { "one-write", "byte-by-byte", "wait-for-each-pong" });

    [Theory]
    [MemberData(nameof(InterleavedPingCases))]
    public Task PingsBetweenFragments_AreAnsweredBeforeTheMessageIsEchoed(Role role, string delivery)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] p1 = FrameBuilder.Utf8("ping between fragments 1");
            byte[] p2 = FrameBuilder.Utf8("ping between fragments 2");
            byte[] part1 = FrameBuilder.Concat(peer.Frame(Op.Text, FrameBuilder.Utf8("Hello, "), fin: false), peer.Frame(Op.Ping, p1));
            byte[] part2 = FrameBuilder.Concat(peer.Frame(Op.Continuation, FrameBuilder.Utf8("fragmented "), fin: false), peer.Frame(Op.Ping, p2));
            byte[] part3 = peer.Frame(Op.Continuation, FrameBuilder.Utf8("world"));
            if (delivery == "wait-for-each-pong")
            {
                // The message is still incomplete: the pong must come now, not after the message.
                await peer.SendAsync(part1);
                await peer.ExpectPongAsync(p1);
                await peer.SendAsync(part2);
                await peer.ExpectPongAsync(p2);
                await peer.SendAsync(part3);
            }
            else
            {
                await peer.SendAsync(FrameBuilder.Concat(part1, part2, part3), delivery == "one-write" ? Chunking.Whole : Chunking.ByteByByte);
                await peer.ExpectPongAsync(p1);
                await peer.ExpectPongAsync(p2);
            }

            await peer.ExpectTextAsync("Hello, fragmented world");
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PingBetweenLargeFragments_IsAnsweredBeforeTheEcho(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = Payloads.Binary(3 * 65536);
            byte[] ping = Payloads.Binary(125, seed: 3);
            await peer.SendAsync(FrameBuilder.Concat(
                peer.Frame(Op.Binary, payload.AsSpan(0, 65536), fin: false),
                peer.Frame(Op.Ping, ping),
                peer.Frame(Op.Continuation, payload.AsSpan(65536, 65536), fin: false)));
            await peer.ExpectPongAsync(ping);
            await peer.SendAsync(peer.Frame(Op.Continuation, payload.AsSpan(131072)));
            await peer.ExpectMessageAsync(Op.Binary, payload);
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task PongBetweenFragments_IsIgnored(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendAsync(FrameBuilder.Concat(
                peer.Frame(Op.Text, FrameBuilder.Utf8("pong "), fin: false),
                peer.Frame(Op.Pong, FrameBuilder.Utf8("unsolicited")),
                peer.Frame(Op.Continuation, FrameBuilder.Utf8("ignored"))));
            await peer.ExpectTextAsync("pong ignored");
            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseBetweenFragments_IsEchoed_AndTheUnfinishedMessageDropped(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Text, FrameBuilder.Utf8("never "), fin: false), peer.CloseFrame(1000)));
            await peer.ExpectCloseAsync(1000);
            await peer.FinishCloseHandshakeAsync(1000);
        });

    public static TheoryData<Role, string> ContinuationWithoutStartCases => CaseRunner.Cross(new[]
    {
        "fin-1-alone", "fin-0-alone", "empty-alone", "after-complete-message", "in-one-read-after-complete-message", "fin-0-then-fin-1",
        "fin-0-between-two-messages-in-one-read", "before-a-fragmented-message",
    });

    [Theory]
    [MemberData(nameof(ContinuationWithoutStartCases))]
    public Task ContinuationWithoutAMessageInProgress_FailsWith1002(Role role, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = FrameBuilder.Utf8("continuation");
            switch (variant)
            {
                case "fin-1-alone":
                    await peer.SendFrameAsync(Op.Continuation, payload);
                    break;
                case "fin-0-alone":
                    await peer.SendFrameAsync(Op.Continuation, payload, fin: false);
                    break;
                case "empty-alone":
                    await peer.SendFrameAsync(Op.Continuation, []);
                    break;
                case "after-complete-message":
                    await peer.EchoProbeAsync("complete");
                    await peer.SendFrameAsync(Op.Continuation, payload);
                    break;
                case "in-one-read-after-complete-message":
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.Frame(Op.Text, FrameBuilder.Utf8("comp"), fin: false),
                        peer.Frame(Op.Continuation, FrameBuilder.Utf8("lete")),
                        peer.Frame(Op.Continuation, payload)));
                    await peer.ExpectTextAsync("complete");
                    break;
                case "fin-0-between-two-messages-in-one-read":
                    // A message in two fragments, a continuation with nothing to continue, then a message:
                    // the first is echoed, the last never is.
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.Frame(Op.Text, FrameBuilder.Utf8("frag"), fin: false),
                        peer.Frame(Op.Continuation, FrameBuilder.Utf8("ment")),
                        peer.Frame(Op.Continuation, payload, fin: false),
                        peer.TextFrame("never echoed")));
                    await peer.ExpectTextAsync("fragment");
                    break;
                case "before-a-fragmented-message":
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.Frame(Op.Continuation, payload, fin: false),
                        peer.Frame(Op.Text, FrameBuilder.Utf8("frag"), fin: false),
                        peer.Frame(Op.Continuation, FrameBuilder.Utf8("ment"))));
                    break;
                default:
                    await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Continuation, payload, fin: false), peer.Frame(Op.Continuation, payload)));
                    break;
            }

            await peer.ExpectFailAsync(1002);
        });

    public static TheoryData<Role, string> NewStartCases => CaseRunner.Cross(new[] { "text-in-text", "binary-in-text", "text-in-binary", "binary-in-binary", "text-fin-0-in-text" });

    [Theory]
    [MemberData(nameof(NewStartCases))]
    public Task NewDataFrameInsideAFragmentedMessage_FailsWith1002(Role role, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            string[] kinds = variant.Split("-in-");
            int inner = kinds[0].StartsWith("text", StringComparison.Ordinal) ? Op.Text : Op.Binary;
            int outer = kinds[1] == "text" ? Op.Text : Op.Binary;
            await peer.SendFrameAsync(outer, FrameBuilder.Utf8("started"), fin: false);
            await peer.ExpectNothingAsync(TimeSpan.FromMilliseconds(30), " while the message is incomplete");
            await peer.SendFrameAsync(inner, FrameBuilder.Utf8("new start"), fin: !variant.Contains("fin-0", StringComparison.Ordinal));
            await peer.ExpectFailAsync(1002);
        });

    public static TheoryData<Role, string> FragmentedControlCases => CaseRunner.Cross(new[] { "ping", "pong", "close", "ping-inside-a-fragmented-message", "empty-ping" });

    [Theory]
    [MemberData(nameof(FragmentedControlCases))]
    public Task FragmentedControlFrame_FailsWith1002(Role role, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            switch (variant)
            {
                case "ping":
                    await peer.SendFrameAsync(Op.Ping, FrameBuilder.Utf8("fragmented ping"), fin: false);
                    break;
                case "empty-ping":
                    await peer.SendFrameAsync(Op.Ping, [], fin: false);
                    break;
                case "pong":
                    await peer.SendFrameAsync(Op.Pong, FrameBuilder.Utf8("fragmented pong"), fin: false);
                    break;
                case "close":
                    await peer.SendFrameAsync(Op.Close, FrameBuilder.ClosePayload(1000), fin: false);
                    break;
                default:
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.Frame(Op.Text, FrameBuilder.Utf8("message "), fin: false),
                        peer.Frame(Op.Ping, FrameBuilder.Utf8("fragmented ping"), fin: false),
                        peer.Frame(Op.Continuation, FrameBuilder.Utf8("end"))));
                    break;
            }

            await peer.ExpectFailAsync(1002);
        });
}
