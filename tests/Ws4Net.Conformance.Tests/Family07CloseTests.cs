using System.Diagnostics;
using System.Text;
using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 7 (closing, RFC 6455 §5.5.1, §7): valid close codes are echoed, invalid ones and
/// malformed close payloads fail with 1002 (1007 for a reason that is not UTF-8); nothing after a
/// close frame is processed; the echo is prompt; and the server closes TCP first (§7.1.1) while a
/// client waits for it to.
/// </summary>
[Trait("Family", "7")]
public sealed class Family07CloseTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    public static TheoryData<Role, int> ValidCodes => CaseRunner.Cross(new[] { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 });

    public static TheoryData<Role, int> InvalidCodes => CaseRunner.Cross(new[] { 0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535 });

    [Theory]
    [MemberData(nameof(ValidCodes))]
    public Task ValidCloseCode_IsEchoed(Role role, int code)
        => CaseRunner.RunAsync(role, fixture, peer => peer.CloseHandshakeAsync(code, Encoding.UTF8.GetBytes("a reason")));

    [Theory]
    [MemberData(nameof(InvalidCodes))]
    public Task InvalidCloseCode_FailsWith1002(Role role, int code)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendCloseAsync(code);
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task EmptyClose_IsAnsweredWithAnEmptyClose(Role role)
        => CaseRunner.RunAsync(role, fixture, peer => peer.CloseHandshakeAsync(code: null));

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseWithAOneBytePayload_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendFrameAsync(Op.Close, [0x03]);
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseWithA123ByteReason_IsEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, peer => peer.CloseHandshakeAsync(1000, Encoding.ASCII.GetBytes(new string('r', 123))));

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseWithAMultiByteUtf8Reason_IsEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, peer => peer.CloseHandshakeAsync(1000, Encoding.UTF8.GetBytes("Tschüß — 再见 😀")));

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseWithA124ByteReason_IsAnOversizedControlFrame_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendCloseAsync(1000, Encoding.ASCII.GetBytes(new string('r', 124)));
            await peer.ExpectFailAsync(1002);
        });

    public static TheoryData<Role, string> InvalidReasons => CaseRunner.Cross(new[] { "CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80 65 64", "FF", "C0 AF", "F4 90 80 80", "41 E2 82" });

    [Theory]
    [MemberData(nameof(InvalidReasons))]
    public Task CloseWithAnInvalidUtf8Reason_FailsWith1007(Role role, string reasonHex)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendCloseAsync(1000, Hex.Parse(reasonHex));
            await peer.ExpectFailAsync(1007);
        });

    public static TheoryData<Role, string> AfterCloseCases => CaseRunner.Cross(new[] { "text", "ping", "binary-fragment", "second-close", "invalid-frame" });

    [Theory]
    [MemberData(nameof(AfterCloseCases))]
    public Task FramesAfterTheClose_AreIgnored(Role role, string after)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] trailing = after switch
            {
                "text" => peer.TextFrame("after close"),
                "ping" => peer.Frame(Op.Ping, Encoding.UTF8.GetBytes("after close")),
                "binary-fragment" => peer.Frame(Op.Binary, Payloads.Binary(100), fin: false),
                "second-close" => peer.CloseFrame(3000),
                _ => peer.Frame(5, [], rsv: 7),
            };
            // Close and the trailing frame in one write: only the close is answered.
            await peer.SendAsync(FrameBuilder.Concat(peer.CloseFrame(1000), trailing));
            await peer.ExpectCloseAsync(1000);
            if (role == Role.Client)
            {
                await peer.ExpectNothingAsync(why: " after the close echo");
            }

            await peer.FinishCloseHandshakeAsync(1000);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task MessageSentAfterTheCloseInALaterWrite_IsNotEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendCloseAsync(1000);
            await peer.ExpectCloseAsync(1000);
            if (role == Role.Client)
            {
                // Our client waits for the server (us) to close TCP: it is still there to receive this.
                await peer.SendTextAsync("after close");
                await peer.ExpectNothingAsync(why: " after the close echo");
            }

            await peer.FinishCloseHandshakeAsync(1000);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseAfterMessages_EchoesTheMessagesThenTheClose(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendAsync(FrameBuilder.Concat(peer.TextFrame("one"), peer.Frame(Op.Binary, Payloads.Binary(70_000)), peer.CloseFrame(1001)));
            await peer.ExpectTextAsync("one");
            await peer.ExpectMessageAsync(Op.Binary, Payloads.Binary(70_000));
            await peer.ExpectCloseAsync(1001);
            await peer.FinishCloseHandshakeAsync(1001);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseEcho_ArrivesWithinTheCloseTimeout(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            var clock = Stopwatch.StartNew();
            await peer.SendCloseAsync(1000);
            await peer.ExpectCloseAsync(1000, Timeouts.CloseTimeout);
            Assert.True(clock.Elapsed < Timeouts.CloseTimeout, $"the close echo took {clock.Elapsed.TotalMilliseconds:0} ms");
            await peer.FinishCloseHandshakeAsync(1000);
        });

    /// <summary>
    /// RFC 6455 §7.1.1: after the close handshake the server closes TCP first. Against our server the raw
    /// client keeps its socket open and must see EOF; against our client the raw server keeps its socket
    /// open and our client must NOT close first, but close once the server does.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task AfterTheCloseHandshake_TheServerClosesTcpFirst(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendCloseAsync(1000);
            await peer.ExpectCloseAsync(1000);
            if (role.IsServer())
            {
                await peer.ExpectTcpClosedAsync(Timeouts.CloseTimeout);
                Assert.False(peer.SawReset, "our server reset TCP instead of closing it (FIN) after a clean close handshake");
            }
            else
            {
                await peer.ExpectNothingAsync(TimeSpan.FromMilliseconds(500), " (the client must wait for the server to close TCP)");
                peer.ShutdownSend();
                await peer.ExpectTcpClosedAsync(Timeouts.CloseTimeout);
                Assert.False(peer.SawReset, "our client reset TCP instead of closing it after the server did");
            }

            Assert.Equal(Ws4Net.Protocol.WebSocketCloseCode.NormalClosure, (await peer.UnderTestStatusAsync()).Code);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task CloseSentByteByByte_IsEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            await peer.SendAsync(peer.CloseFrame(4321, Encoding.UTF8.GetBytes("slowly")), Chunking.ByteByByte);
            await peer.ExpectCloseAsync(4321);
            await peer.FinishCloseHandshakeAsync(4321);
        });

    /// <summary>
    /// When the other side never ends TCP after the close handshake, the endpoint under test does, within
    /// its close timeout (5 s): our server at once (it closes first anyway), our client after waiting.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task AfterTheCloseEcho_IfThePeerNeverEndsTcp_TheEndpointDoesWithinTheCloseTimeout(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            var clock = Stopwatch.StartNew();
            await peer.SendCloseAsync(1000);
            await peer.ExpectCloseAsync(1000);
            await peer.ExpectTcpClosedAsync(Timeouts.CloseTimeout + TimeSpan.FromSeconds(3));
            Assert.True(clock.Elapsed < Timeouts.CloseTimeout + TimeSpan.FromSeconds(3), $"TCP ended after {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(Ws4Net.Protocol.WebSocketCloseCode.NormalClosure, (await peer.UnderTestStatusAsync()).Code);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task LargeMessage_ThenClose_ThenPing_InOneWrite_EchoesTheMessageAndTheCloseOnly(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = Payloads.Text(256 * 1024, seed: 256);
            await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Text, payload), peer.CloseFrame(1000), peer.Frame(Op.Ping, FrameBuilder.Utf8("too late"))));
            await peer.ExpectMessageAsync(Op.Text, payload);
            await peer.ExpectCloseAsync(1000);
            await peer.FinishCloseHandshakeAsync(1000);
        });
}
