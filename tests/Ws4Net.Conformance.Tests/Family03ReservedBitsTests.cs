using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 3 (reserved bits, RFC 6455 §5.2): with no extension negotiated, a frame with RSV1,
/// RSV2 or RSV3 set (alone or combined) fails the connection with 1002: on its own, after a valid
/// message (which is echoed first), and when it arrives in the same read as valid frames (the ones
/// before it are processed, nothing after it is).
/// </summary>
[Trait("Family", "3")]
public sealed class Family03ReservedBitsTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    public static TheoryData<Role, int, string> RsvCases
    {
        get
        {
            var data = new TheoryData<Role, int, string>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                for (int rsv = 1; rsv <= 7; rsv++)
                {
                    foreach (string variant in new[] { "alone", "after-valid-echo", "in-one-read-with-valid-frames" })
                    {
                        data.Add(role, rsv, variant);
                    }
                }
            }

            return data;
        }
    }

    /// <param name="rsv">RSV1..RSV3 as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3.</param>
    [Theory]
    [MemberData(nameof(RsvCases))]
    public Task TextFrameWithReservedBits_FailsWith1002(Role role, int rsv, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] bad = peer.Frame(Op.Text, FrameBuilder.Utf8("reserved bits"), rsv: rsv);
            switch (variant)
            {
                case "alone":
                    await peer.SendAsync(bad);
                    break;
                case "after-valid-echo":
                    await peer.EchoProbeAsync("valid first");
                    await peer.SendAsync(bad);
                    break;
                default:
                    // Valid frame, bad frame, then a message and a ping that must be neither echoed nor answered.
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.TextFrame("valid first"), bad, peer.TextFrame("never echoed"), peer.Frame(Op.Ping, FrameBuilder.Utf8("never answered"))));
                    await peer.ExpectTextAsync("valid first");
                    break;
            }

            await peer.ExpectFailAsync(1002);
        });

    public static TheoryData<Role, string> OtherFrameKinds => CaseRunner.Cross(new[]
    {
        "binary-rsv1", "binary-rsv2", "binary-rsv3", "ping-rsv1", "ping-rsv3", "pong-rsv2", "close-rsv1", "close-rsv3",
        "continuation-rsv1", "continuation-rsv2", "empty-text-rsv1", "binary-rsv1-byte-by-byte",
    });

    [Theory]
    [MemberData(nameof(OtherFrameKinds))]
    public Task OtherFramesWithReservedBits_FailWith1002(Role role, string kind)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            int rsv = kind.Contains("rsv1", StringComparison.Ordinal) ? 4 : kind.Contains("rsv2", StringComparison.Ordinal) ? 2 : 1;
            byte[] payload = FrameBuilder.Utf8("payload");
            switch (kind.Split('-')[0])
            {
                case "binary":
                    // Sent byte by byte, the endpoint may fail the connection after the first byte, so
                    // the rest of the frame may meet a closed socket.
                    await peer.SendAsync(
                        peer.Frame(Op.Binary, Payloads.Binary(200), rsv: rsv),
                        kind.EndsWith("byte-by-byte", StringComparison.Ordinal) ? Chunking.ByteByByte : Chunking.Whole,
                        mayBeClosed: true);
                    break;
                case "ping":
                    await peer.SendFrameAsync(Op.Ping, payload, rsv: rsv);
                    break;
                case "pong":
                    await peer.SendFrameAsync(Op.Pong, payload, rsv: rsv);
                    break;
                case "close":
                    // A close frame with reserved bits is a protocol error, not a close to echo.
                    await peer.SendFrameAsync(Op.Close, FrameBuilder.ClosePayload(1000), rsv: rsv);
                    break;
                case "continuation":
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.Frame(Op.Text, payload, fin: false),
                        peer.Frame(Op.Continuation, payload, rsv: rsv)));
                    break;
                default:
                    await peer.SendFrameAsync(Op.Text, [], rsv: rsv);
                    break;
            }

            await peer.ExpectFailAsync(1002);
        });
}
