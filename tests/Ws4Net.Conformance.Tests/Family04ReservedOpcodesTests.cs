using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 4 (reserved opcodes, RFC 6455 §5.2): non-control opcodes 3-7 and control opcodes
/// 11-15 fail the connection with 1002, on their own and after valid frames (which are echoed first;
/// nothing after the bad frame is processed).
/// </summary>
[Trait("Family", "4")]
public sealed class Family04ReservedOpcodesTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private static readonly int[] s_reserved = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15];

    public static TheoryData<Role, int, string> Cases
    {
        get
        {
            var data = new TheoryData<Role, int, string>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (int opcode in s_reserved)
                {
                    foreach (string variant in new[] { "alone-empty", "alone-with-payload", "after-valid-echo", "in-one-read-with-valid-frames", "fin-0" })
                    {
                        data.Add(role, opcode, variant);
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public Task ReservedOpcode_FailsWith1002(Role role, int opcode, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = FrameBuilder.Utf8("reserved opcode payload");
            switch (variant)
            {
                case "alone-empty":
                    await peer.SendFrameAsync(opcode, []);
                    break;
                case "alone-with-payload":
                    await peer.SendFrameAsync(opcode, payload);
                    break;
                case "fin-0":
                    await peer.SendFrameAsync(opcode, payload, fin: false);
                    break;
                case "after-valid-echo":
                    await peer.EchoProbeAsync("valid first");
                    await peer.SendFrameAsync(opcode, payload);
                    break;
                default:
                    byte[] pingPayload = FrameBuilder.Utf8("answered");
                    await peer.SendAsync(FrameBuilder.Concat(
                        peer.TextFrame("valid first"),
                        peer.Frame(Op.Ping, pingPayload),
                        peer.Frame(opcode, payload),
                        peer.TextFrame("never echoed"),
                        peer.Frame(Op.Ping, FrameBuilder.Utf8("never answered"))));
                    await peer.ExpectTextAsync("valid first");
                    await peer.ExpectPongAsync(pingPayload);
                    break;
            }

            await peer.ExpectFailAsync(1002);
        });
}
