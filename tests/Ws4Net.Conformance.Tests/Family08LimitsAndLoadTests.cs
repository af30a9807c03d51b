using System.Diagnostics;
using System.Globalization;
using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 9 ("limits/performance"), numbered 8 here: large text and binary messages (64 KiB
/// to 16 MiB) in one frame and in 64 KiB and 1 MiB fragments, 4 MiB in 65,536 fragments of 64 bytes,
/// and 1,000,000 small messages pipelined in one stream (written while the echoes are read) that
/// must all come back intact and in order. The configured limit (16 MiB) is enforced with 1009.
/// </summary>
[Trait("Family", "8")]
public sealed class Family08LimitsAndLoadTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private const int KiB = 1024;
    private const int MiB = 1024 * 1024;

    public static TheoryData<Role, string, int, int> LargeMessageCases
    {
        get
        {
            var data = new TheoryData<Role, string, int, int>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (string type in new[] { "text", "binary" })
                {
                    foreach (int size in new[] { 64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB })
                    {
                        // Fragment size 0 = one frame; fragments no smaller than the message would be one frame again.
                        foreach (int fragment in new[] { 0, 64 * KiB, MiB })
                        {
                            if (fragment == 0 || fragment < size)
                            {
                                data.Add(role, type, size, fragment);
                            }
                        }
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(LargeMessageCases))]
    public Task LargeMessage_IsEchoedIntact(Role role, string type, int size, int fragmentSize)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                int opcode = type == "text" ? Op.Text : Op.Binary;
                byte[] payload = Payloads.For(opcode, size);
                byte[] stream = fragmentSize == 0 ? peer.Frame(opcode, payload) : Family05FragmentationTests.Fragments(peer, opcode, payload, fragmentSize);
                await peer.SendAsync(stream, Chunking.Random(seed: size ^ fragmentSize, max: 256 * KiB));
                await peer.ExpectMessageAsync(opcode, payload, TimeSpan.FromSeconds(60));
                await peer.CloseHandshakeAsync();
            },
            timeout: Timeouts.Load);

    public static TheoryData<Role, string> TinyFragmentCases => CaseRunner.Cross(new[] { "text", "binary" });

    [Theory]
    [MemberData(nameof(TinyFragmentCases))]
    public Task FourMiB_In65536FragmentsOf64Bytes_IsEchoedIntact(Role role, string type)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                int opcode = type == "text" ? Op.Text : Op.Binary;
                byte[] payload = Payloads.For(opcode, 4 * MiB);
                byte[] stream = Family05FragmentationTests.Fragments(peer, opcode, payload, 64);
                await peer.SendAsync(stream, Chunking.Random(seed: 64, max: 128 * KiB));
                await peer.ExpectMessageAsync(opcode, payload, TimeSpan.FromSeconds(60));
                await peer.CloseHandshakeAsync();
            },
            timeout: Timeouts.Load);

    /// <summary>
    /// 1,000,000 messages of 16 bytes (alternately text and binary, each carrying its index) written as
    /// one pipelined stream while a concurrent reader checks every echo, in order.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task OneMillionSmallMessages_Pipelined_AreAllEchoedInOrder(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                const int count = 1_000_000;
                const int batch = 4096;
                var clock = Stopwatch.StartNew();

                async Task WriteAllAsync()
                {
                    byte[] key = peer.MasksOutgoing ? peer.NextMaskKey() : [];
                    int frameLength = 2 + key.Length + 16;
                    byte[] buffer = new byte[batch * frameLength];
                    for (int first = 0; first < count; first += batch)
                    {
                        int n = Math.Min(batch, count - first);
                        for (int i = 0; i < n; i++)
                        {
                            EncodeSmall(buffer.AsSpan(i * frameLength, frameLength), first + i, key);
                        }

                        await peer.SendAsync(buffer[..(n * frameLength)]);
                    }
                }

                async Task ReadAllAsync()
                {
                    byte[] expected = new byte[16];
                    for (int i = 0; i < count; i++)
                    {
                        RawFrame frame = await peer.ReadFrameAsync(Timeouts.Frame);
                        SmallPayload(i, expected);
                        int opcode = i % 2 == 0 ? Op.Binary : Op.Text;
                        if (frame.Opcode != opcode || !frame.Fin || !frame.Payload.AsSpan().SequenceEqual(expected))
                        {
                            Assert.Fail($"echo #{i.ToString(CultureInfo.InvariantCulture)}: expected {Op.Name(opcode)} {Hex.Of(expected)}, got {frame}");
                        }
                    }
                }

                Task writer = Task.Run(WriteAllAsync);
                Task reader = Task.Run(ReadAllAsync);
                Task first = await Task.WhenAny(writer, reader).WaitAsync(Timeouts.Load);
                await first;   // surface a failure of either side at once
                await Task.WhenAll(writer, reader).WaitAsync(Timeouts.Load);
                await peer.CloseHandshakeAsync();
                Console.WriteLine($"1,000,000 pipelined messages against our {role.ToString().ToLowerInvariant()}: {clock.Elapsed.TotalSeconds:0.0} s");
            },
            timeout: Timeouts.Load);

    internal static void SmallPayload(int index, Span<byte> payload)
    {
        // 16 ASCII bytes (valid as text too): the zero-padded index.
        index.TryFormat(payload, out _, "D16", CultureInfo.InvariantCulture);
    }

    private static void EncodeSmall(Span<byte> frame, int index, ReadOnlySpan<byte> key)
    {
        frame[0] = (byte)(0x80 | (index % 2 == 0 ? Op.Binary : Op.Text));
        frame[1] = (byte)((key.IsEmpty ? 0 : 0x80) | 16);
        int pos = 2;
        if (!key.IsEmpty)
        {
            key.CopyTo(frame[2..]);
            pos = 6;
        }

        Span<byte> payload = frame.Slice(pos, 16);
        SmallPayload(index, payload);
        if (!key.IsEmpty)
        {
            FrameBuilder.Mask(payload, key, 0);
        }
    }

    public static TheoryData<Role, string, int> RoundTripCases
    {
        get
        {
            var data = new TheoryData<Role, string, int>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (string type in new[] { "text", "binary" })
                {
                    foreach (int size in new[] { 0, 16, 256, 4 * KiB, 64 * KiB })
                    {
                        data.Add(role, type, size);
                    }
                }
            }

            return data;
        }
    }

    /// <summary>1,000 messages sent one at a time, each waiting for its echo (latency, not throughput).</summary>
    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public Task OneThousandRoundTrips_AreAllEchoed(Role role, string type, int size)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                int opcode = type == "text" ? Op.Text : Op.Binary;
                byte[] payload = Payloads.For(opcode, size, seed: size);
                for (int i = 0; i < 1000; i++)
                {
                    await peer.SendFrameAsync(opcode, payload);
                    await peer.ExpectMessageAsync(opcode, payload);
                }

                await peer.CloseHandshakeAsync();
            },
            timeout: Timeouts.Load);

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FrameLargerThanTheLimit_FailsWith1009_BeforeItsPayload(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            // The header alone announces 16 MiB + 1: no payload is sent.
            byte[] header = FrameBuilder.Build(Op.Binary, [], maskKey: peer.MasksOutgoing ? peer.NextMaskKey() : null, declaredLength: 16UL * MiB + 1);
            await peer.SendAsync(header);
            await peer.ExpectFailAsync(1009);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FragmentedMessageGrowingPastTheLimit_FailsWith1009(Role role)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                await peer.SendFrameAsync(Op.Binary, Payloads.Binary(MiB), fin: false);
                await peer.ExpectNothingAsync(TimeSpan.FromMilliseconds(50), " while the message is within the limit");
                byte[] header = FrameBuilder.Build(Op.Continuation, [], maskKey: peer.MasksOutgoing ? peer.NextMaskKey() : null, declaredLength: 15UL * MiB + 1);
                await peer.SendAsync(header);
                await peer.ExpectFailAsync(1009);
            },
            timeout: Timeouts.Load);
}
