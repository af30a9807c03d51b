using System.Text;
using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 6 (UTF-8 handling, RFC 6455 §5.6, §8.1, RFC 3629): every class of valid and
/// invalid sequence, whole and split at every byte position across two fragments. Text with invalid
/// UTF-8 fails the connection with 1007, and FAILS FAST: as soon as the bytes received can no longer
/// be the start of valid UTF-8 (an invalid byte, or a doomed prefix such as F4 90), the close arrives
/// while the rest of the message is still withheld.
/// </summary>
[Trait("Family", "6")]
public sealed class Family06Utf8Tests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private static readonly (string Name, byte[] Bytes)[] s_valid =
    [
        ("empty", []),
        ("ascii", Hex.Parse("48 65 6C 6C 6F")),
        ("ascii-nul-and-del", Hex.Parse("00 41 7F")),
        ("2-byte-lowest-U+0080", Hex.Parse("C2 80")),
        ("2-byte-highest-U+07FF", Hex.Parse("DF BF")),
        ("3-byte-lowest-U+0800", Hex.Parse("E0 A0 80")),
        ("3-byte-U+D7FF-below-surrogates", Hex.Parse("ED 9F BF")),
        ("3-byte-U+E000-above-surrogates", Hex.Parse("EE 80 80")),
        ("U+FDD0-noncharacter", Hex.Parse("EF B7 90")),
        ("U+FEFF-byte-order-mark", Hex.Parse("EF BB BF")),
        ("U+FFFD", Hex.Parse("EF BF BD")),
        ("U+FFFE", Hex.Parse("EF BF BE")),
        ("U+FFFF", Hex.Parse("EF BF BF")),
        ("4-byte-lowest-U+10000", Hex.Parse("F0 90 80 80")),
        ("4-byte-U+FFFFF", Hex.Parse("F3 BF BF BF")),
        ("4-byte-U+100000", Hex.Parse("F4 80 80 80")),
        ("4-byte-highest-U+10FFFF", Hex.Parse("F4 8F BF BF")),
        ("mixed-text", Encoding.UTF8.GetBytes("Grüße, 世界! ✓ 𝄞 ÿ ΩΣ ☃ 😀 end")),
        ("all-lengths-back-to-back", Hex.Parse("41 C3 A9 E2 82 AC F0 9F 98 80 F4 8F BF BF EF BF BF DF BF")),
    ];

    private static readonly (string Name, byte[] Bytes)[] s_invalid =
    [
        // Overlong forms of every length.
        ("overlong-2-byte-U+0000", Hex.Parse("C0 80")),
        ("overlong-2-byte-slash", Hex.Parse("C0 AF")),
        ("overlong-2-byte-U+007F", Hex.Parse("C1 BF")),
        ("overlong-3-byte-U+0000", Hex.Parse("E0 80 80")),
        ("overlong-3-byte-slash", Hex.Parse("E0 80 AF")),
        ("overlong-3-byte-U+07FF", Hex.Parse("E0 9F BF")),
        ("overlong-4-byte-U+0000", Hex.Parse("F0 80 80 80")),
        ("overlong-4-byte-slash", Hex.Parse("F0 80 80 AF")),
        ("overlong-4-byte-U+FFFF", Hex.Parse("F0 8F BF BF")),
        ("overlong-5-byte-slash", Hex.Parse("F8 80 80 80 AF")),
        ("overlong-6-byte-slash", Hex.Parse("FC 80 80 80 80 AF")),

        // UTF-16 surrogates, single and paired (CESU-8).
        ("surrogate-U+D800", Hex.Parse("ED A0 80")),
        ("surrogate-U+DB7F", Hex.Parse("ED AD BF")),
        ("surrogate-U+DB80", Hex.Parse("ED AE 80")),
        ("surrogate-U+DBFF", Hex.Parse("ED AF BF")),
        ("surrogate-U+DC00", Hex.Parse("ED B0 80")),
        ("surrogate-U+DF80", Hex.Parse("ED BE 80")),
        ("surrogate-U+DFFF", Hex.Parse("ED BF BF")),
        ("surrogate-pair-U+D800-U+DC00", Hex.Parse("ED A0 80 ED B0 80")),
        ("surrogate-pair-U+DBFF-U+DFFF", Hex.Parse("ED AF BF ED BF BF")),
        ("surrogate-after-text", Encoding.UTF8.GetBytes("Grüße").Concat(Hex.Parse("ED A0 80")).Concat(Encoding.UTF8.GetBytes("!")).ToArray()),

        // Beyond U+10FFFF.
        ("beyond-U+110000", Hex.Parse("F4 90 80 80")),
        ("beyond-U+13FFFF", Hex.Parse("F4 BF BF BF")),
        ("beyond-F5-lead", Hex.Parse("F5 80 80 80")),
        ("beyond-U+1FFFFF", Hex.Parse("F7 BF BF BF")),
        ("text-then-F4-90", Hex.Parse("41 42 43 F4 90")),

        // 5- and 6-byte forms (no longer UTF-8).
        ("5-byte-U+200000", Hex.Parse("F8 88 80 80 80")),
        ("5-byte-U+3FFFFFF", Hex.Parse("FB BF BF BF BF")),
        ("6-byte-U+4000000", Hex.Parse("FC 84 80 80 80 80")),
        ("6-byte-U+7FFFFFFF", Hex.Parse("FD BF BF BF BF BF")),

        // Truncated sequences: at the end of the message, and followed by something else.
        ("truncated-2-of-2-at-end", Hex.Parse("41 C2")),
        ("truncated-DF-at-end", Hex.Parse("DF")),
        ("truncated-2-of-3-at-end", Hex.Parse("E0 A0")),
        ("truncated-1-of-3-at-end", Hex.Parse("E1")),
        ("truncated-2-of-3-EF-BF-at-end", Hex.Parse("EF BF")),
        ("truncated-3-of-4-at-end", Hex.Parse("F0 90 80")),
        ("truncated-3-of-4-U+10FFFF-at-end", Hex.Parse("F4 8F BF")),
        ("truncated-2-then-ascii", Hex.Parse("C2 41")),
        ("truncated-3-then-ascii", Hex.Parse("E1 80 41")),
        ("truncated-4-then-ascii", Hex.Parse("F0 90 80 41")),
        ("truncated-3-then-2-byte", Hex.Parse("E0 A0 C2 80")),
        ("all-truncated-in-a-row", Hex.Parse("C2 E0 A0 F0 90 80 41")),

        // Continuation bytes without a lead byte.
        ("lone-continuation-80", Hex.Parse("80")),
        ("lone-continuation-BF", Hex.Parse("BF")),
        ("continuations-80-BF-80-BF", Hex.Parse("80 BF 80 BF")),
        ("continuation-between-ascii", Hex.Parse("41 80 42")),
        ("extra-continuation-after-2-byte", Hex.Parse("C2 80 80")),
        ("extra-continuation-after-4-byte", Hex.Parse("F0 9F 98 80 80")),

        // Bytes that never appear in UTF-8.
        ("byte-FE", Hex.Parse("FE")),
        ("byte-FF", Hex.Parse("FF")),
        ("bytes-FE-FE-FF-FF", Hex.Parse("FE FE FF FF")),
        ("bom-then-FE", Hex.Parse("EF BB BF FE")),
    ];

    internal static readonly Dictionary<string, (byte[] Bytes, bool Valid)> s_all =
        s_valid.Select(v => (v.Name, (v.Bytes, true))).Concat(s_invalid.Select(v => (v.Name, (v.Bytes, false)))).ToDictionary(v => v.Name, v => v.Item2);

    public static TheoryData<Role, string> AllSequences => CaseRunner.Cross(s_all.Keys);

    public static TheoryData<Role, string> InvalidSequences => CaseRunner.Cross(s_invalid.Select(v => v.Name));

    [Theory]
    [MemberData(nameof(AllSequences))]
    public Task Sequence_InOneFrame_IsEchoedOrFailsWith1007(Role role, string name)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            (byte[] bytes, bool valid) = s_all[name];
            await peer.SendFrameAsync(Op.Text, bytes);
            if (valid)
            {
                await peer.ExpectMessageAsync(Op.Text, bytes);
                await peer.CloseHandshakeAsync();
            }
            else
            {
                await peer.ExpectFailAsync(1007);
            }
        });

    [Theory]
    [MemberData(nameof(AllSequences))]
    public Task Sequence_AsBinary_IsEchoedUnchecked(Role role, string name)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            // Binary messages carry arbitrary bytes: no UTF-8 check applies.
            byte[] bytes = s_all[name].Bytes;
            await peer.SendFrameAsync(Op.Binary, bytes);
            await peer.ExpectMessageAsync(Op.Binary, bytes);
            await peer.CloseHandshakeAsync();
        });

    /// <summary>
    /// Splits the sequence at every position k (0..n) into a text fragment with FIN=0 and a final
    /// continuation. When the first fragment is already doomed, the 1007 must arrive before the
    /// continuation is sent.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllSequences))]
    public async Task Sequence_SplitAtEveryPositionAcrossTwoFragments(Role role, string name)
    {
        (byte[] bytes, bool valid) = s_all[name];
        var failures = new List<string>();
        if (valid)
        {
            // One connection: every split is one echoed message.
            await CaseRunner.RunAsync(role, fixture, async peer =>
            {
                for (int k = 0; k <= bytes.Length; k++)
                {
                    await peer.SendAsync(FrameBuilder.Concat(peer.Frame(Op.Text, bytes.AsSpan(0, k), fin: false), peer.Frame(Op.Continuation, bytes.AsSpan(k))));
                    await peer.ExpectMessageAsync(Op.Text, bytes);
                }

                await peer.CloseHandshakeAsync();
            });
            return;
        }

        for (int k = 0; k <= bytes.Length; k++)
        {
            int split = k;
            try
            {
                await CaseRunner.RunAsync(role, fixture, peer => SendSplitInvalidAsync(peer, bytes, split), seed: split);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures.Add($"split at {split} ({Hex.Of(bytes.AsSpan(0, split))} | {Hex.Of(bytes.AsSpan(split))}): {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private static async Task SendSplitInvalidAsync(RawPeer peer, byte[] bytes, int split)
    {
        byte[] first = bytes[..split];
        await peer.SendFrameAsync(Op.Text, first, fin: false);
        if (!Utf8Reference.IsViablePrefix(first))
        {
            await ExpectFailFastAsync(peer, $"the first fragment ({Hex.Of(first)}) can never become valid UTF-8", peer.Frame(Op.Continuation, bytes.AsSpan(split)));
            return;
        }

        await peer.SendFrameAsync(Op.Continuation, bytes.AsSpan(split));
        await peer.ExpectFailAsync(1007);
    }

    /// <summary>
    /// Waits for the fail-fast 1007 without sending <paramref name="rest"/>. When it does not come, sends
    /// the rest to tell "late" (closes after the whole message) from "never".
    /// </summary>
    private static async Task ExpectFailFastAsync(RawPeer peer, string why, byte[] rest)
    {
        RawFrame? frame = null;
        try
        {
            frame = await peer.ReadFrameAsync(Timeouts.FailFast);
        }
        catch (TimeoutException)
        {
            string outcome;
            try
            {
                await peer.SendAsync(rest);
                RawFrame late = await peer.ReadFrameAsync(Timeouts.Frame);
                outcome = $"after the rest of the message was sent, {peer.UnderTestName} sent {late}";
            }
            catch (Exception ex) when (ex is TimeoutException or EndOfStreamException or IOException)
            {
                outcome = $"even after the rest was sent, nothing came ({ex.GetType().Name})";
            }

            Assert.Fail($"not fail-fast: {why}, yet no close 1007 arrived within {Timeouts.FailFast.TotalSeconds:0} s while the rest was withheld; {outcome}");
        }

        if (frame is not { Opcode: Op.Close, CloseCode: 1007 })
        {
            Assert.Fail($"expected a fail-fast close 1007 because {why}, got {frame}");
        }

        await peer.ExpectTcpClosedAsync();
        Assert.Equal(Ws4Net.Protocol.WebSocketCloseCode.InvalidPayloadData, (await peer.UnderTestStatusAsync()).Code);
    }

    /// <summary>
    /// Fail-fast inside ONE frame: the header announces the sequence plus 64 bytes of ASCII, but only the
    /// bytes up to the first doomed prefix are sent; the 1007 must arrive without the rest of the frame.
    /// </summary>
    [Theory]
    [MemberData(nameof(InvalidSequences))]
    public Task InvalidSequence_FailsFastInsideAPartiallySentFrame(Role role, string name)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] payload = FrameBuilder.Concat(Encoding.ASCII.GetBytes("prefix "), s_all[name].Bytes, Encoding.ASCII.GetBytes(new string('z', 64)));
            int doomed = Utf8Reference.FirstDoomedPrefixLength(payload);
            Assert.True(doomed > 0, "an invalid sequence followed by ASCII is doomed somewhere");
            byte[] frame = peer.Frame(Op.Text, payload);
            int headerLength = frame.Length - payload.Length;
            await peer.SendAsync(frame[..(headerLength + doomed)]);
            await ExpectFailFastAsync(peer, $"the first {doomed} payload bytes of the frame already doom it ({Hex.Of(payload.AsSpan(0, doomed))})", frame[(headerLength + doomed)..]);
        });

    public static TheoryData<Role, string> ExplicitFailFastCases => CaseRunner.Cross(new[]
    {
        "invalid-byte-in-first-fragment", "F4-90-ends-first-fragment", "ED-A0-ends-first-fragment", "E0-80-ends-first-fragment",
        "F0-8F-ends-first-fragment", "invalid-in-second-of-three-fragments", "invalid-in-large-first-fragment",
    });

    [Theory]
    [MemberData(nameof(ExplicitFailFastCases))]
    public Task InvalidFirstFragment_Fails1007BeforeTheRestIsSent(Role role, string variant)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] good = Encoding.UTF8.GetBytes("valid start ✓ ");
            byte[] rest = peer.Frame(Op.Continuation, Encoding.UTF8.GetBytes(" and the rest of the message"));
            switch (variant)
            {
                case "invalid-in-second-of-three-fragments":
                    await peer.SendFrameAsync(Op.Text, good, fin: false);
                    await peer.ExpectNothingAsync(TimeSpan.FromMilliseconds(30), " after a valid first fragment");
                    await peer.SendFrameAsync(Op.Continuation, FrameBuilder.Concat(good, Hex.Parse("C0 AF"), good), fin: false);
                    break;
                case "invalid-in-large-first-fragment":
                    byte[] large = Payloads.Text(200_000).ToArray();
                    large[100_000] = 0xFF;
                    await peer.SendFrameAsync(Op.Text, large, fin: false);
                    break;
                default:
                    string hex = variant switch
                    {
                        "invalid-byte-in-first-fragment" => "FE 41 42",
                        "F4-90-ends-first-fragment" => "F4 90",
                        "ED-A0-ends-first-fragment" => "ED A0",
                        "E0-80-ends-first-fragment" => "E0 80",
                        _ => "F0 8F",
                    };
                    await peer.SendFrameAsync(Op.Text, FrameBuilder.Concat(good, Hex.Parse(hex)), fin: false);
                    break;
            }

            await ExpectFailFastAsync(peer, $"the text so far is doomed ({variant})", rest);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task InvalidByteDeepInsideALargeTextFrame_FailsWith1007(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] large = Payloads.Text(1 << 20).ToArray();
            large[(1 << 20) - 5] = 0xC0;
            await peer.SendFrameAsync(Op.Text, large);
            await peer.ExpectFailAsync(1007);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task ValidTextSplitInsideEveryCodePoint_InOneByteFragments_IsEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            byte[] text = Encoding.UTF8.GetBytes("aé€😀􏿿￿﻿ zß水🀄");
            await peer.SendAsync(Family05FragmentationTests.Fragments(peer, Op.Text, text, 1), Chunking.ByteByByte);
            await peer.ExpectMessageAsync(Op.Text, text);
            await peer.CloseHandshakeAsync();
        });
}
