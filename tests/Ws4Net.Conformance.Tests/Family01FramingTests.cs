using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>
/// Autobahn family 1 (framing): text and binary payloads at every length-encoding boundary
/// (0, 125, 126, 127, 128, 65535, 65536 and 16 MiB), delivered in one write, byte by byte and in
/// seeded random chunkings, must come back identical with the same opcode; plus framing errors
/// every receiver must catch (wrong mask bit for the role, a 64-bit length with the top bit set).
/// </summary>
[Trait("Family", "1")]
public sealed class Family01FramingTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private const int SixteenMiB = 16 * 1024 * 1024;

    private static readonly int[] s_sizes = [0, 125, 126, 127, 128, 65535, 65536, SixteenMiB];
    private static readonly string[] s_chunkings = ["one-write", "byte-by-byte", "random-1", "random-2", "random-3"];

    public static TheoryData<Role, string, int, string> EchoCases
    {
        get
        {
            var data = new TheoryData<Role, string, int, string>();
            foreach (Role role in CaseRunner.AllRoles)
            {
                foreach (string type in new[] { "text", "binary" })
                {
                    foreach (int size in s_sizes)
                    {
                        foreach (string chunking in s_chunkings)
                        {
                            data.Add(role, type, size, chunking);
                        }
                    }
                }
            }

            return data;
        }
    }

    private static Chunking ChunkingFor(string name, int frameLength) => name switch
    {
        "one-write" => Chunking.Whole,
        // Byte by byte for small frames; from 65535 bytes on, 1..7-byte writes for the first 64 bytes (the
        // header and the start of the payload), then 64 KiB writes, to stay fast.
        "byte-by-byte" => frameLength < 65535 ? Chunking.ByteByByte : Chunking.SmallHead(seed: frameLength),
        _ => Chunking.Random(seed: name[^1] * 7919 + frameLength, max: frameLength switch
        {
            < 1024 => 16,
            < 1024 * 1024 => 4096,
            _ => 512 * 1024,
        }),
    };

    [Theory]
    [MemberData(nameof(EchoCases))]
    public Task Message_IsEchoedIdentically_WithItsOpcode(Role role, string type, int size, string chunking)
        => CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                int opcode = type == "text" ? Op.Text : Op.Binary;
                byte[] payload = Payloads.For(opcode, size);
                byte[] frame = peer.Frame(opcode, payload);
                await peer.SendAsync(frame, ChunkingFor(chunking, frame.Length));
                await peer.ExpectMessageAsync(opcode, payload, TimeSpan.FromSeconds(30));
                await peer.CloseHandshakeAsync();
            },
            timeout: TimeSpan.FromSeconds(90));

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task SeveralMessagesInOneWrite_AreEchoedInOrder(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            (int Opcode, byte[] Payload)[] messages =
            [
                (Op.Text, Payloads.Text(0)), (Op.Binary, Payloads.Binary(1)), (Op.Text, Payloads.Text(125)),
                (Op.Binary, Payloads.Binary(126)), (Op.Text, Payloads.Text(65535)), (Op.Binary, Payloads.Binary(65536)),
                (Op.Text, Payloads.Text(3)),
            ];
            await peer.SendAsync(FrameBuilder.Concat(messages.Select(m => peer.Frame(m.Opcode, m.Payload)).ToArray()));
            foreach ((int opcode, byte[] payload) in messages)
            {
                await peer.ExpectMessageAsync(opcode, payload);
            }

            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FramesInTheSameWriteAsTheHandshake_AreEchoed(Role role)
    {
        byte[] binary = Payloads.Binary(1000);
        var settings = new CaseSettings(EarlyMessages: [(Op.Text, FrameBuilder.Utf8("early bird")), (Op.Binary, binary)]);
        return CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                await peer.ExpectTextAsync("early bird");
                await peer.ExpectMessageAsync(Op.Binary, binary);
                await peer.CloseHandshakeAsync();
            },
            settings);
    }

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task FrameWithTheWrongMaskBitForItsSender_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            // A client must mask every frame and a server must not mask any (RFC 6455 §5.1).
            await peer.SendAsync(peer.Frame(Op.Text, FrameBuilder.Utf8("mask bit is wrong"), masked: !peer.MasksOutgoing));
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task SixtyFourBitLengthWithTheTopBitSet_FailsWith1002(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            // RFC 6455 §5.2: "the most significant bit MUST be 0".
            byte[] frame = FrameBuilder.Build(Op.Binary, [], maskKey: peer.MasksOutgoing ? peer.NextMaskKey() : null, declaredLength: 0x8000_0000_0000_0010UL);
            await peer.SendAsync(frame);
            await peer.ExpectFailAsync(1002);
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task ManyMessagesOfEveryLengthEncoding_OneAfterAnother_AreEchoed(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            int[] sizes = [0, 1, 124, 125, 126, 127, 128, 1000, 65534, 65535, 65536, 65537, 100_000];
            foreach (int size in sizes)
            {
                foreach (int opcode in new[] { Op.Text, Op.Binary })
                {
                    byte[] payload = Payloads.For(opcode, size, seed: size);
                    await peer.SendFrameAsync(opcode, payload);
                    await peer.ExpectMessageAsync(opcode, payload);
                }
            }

            await peer.CloseHandshakeAsync();
        });

    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task LargeMessageInTheSameWriteAsTheHandshake_IsEchoed(Role role)
    {
        // More than the handshake reader's first buffer: the frame continues past the bytes read with the head.
        byte[] binary = Payloads.Binary(70_000, seed: 70);
        var settings = new CaseSettings(EarlyMessages: [(Op.Binary, binary), (Op.Text, FrameBuilder.Utf8("after"))]);
        return CaseRunner.RunAsync(
            role,
            fixture,
            async peer =>
            {
                await peer.ExpectMessageAsync(Op.Binary, binary);
                await peer.ExpectTextAsync("after");
                await peer.CloseHandshakeAsync();
            },
            settings);
    }

    /// <summary>
    /// RFC 6455 §5.1, §5.3: a server never masks; a client masks every frame, each with a fresh key
    /// from a strong source (so keys vary; a constant or all-zero key would defeat the purpose).
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseRunner.Roles), MemberType = typeof(CaseRunner))]
    public Task EchoedFrames_AreMaskedAsTheSendersRoleRequires(Role role)
        => CaseRunner.RunAsync(role, fixture, async peer =>
        {
            var keys = new HashSet<uint>();
            for (int i = 0; i < 200; i++)
            {
                byte[] payload = Payloads.Binary(i % 7, seed: i);
                await peer.SendFrameAsync(Op.Binary, payload);
                RawFrame frame = (await peer.ExpectMessageAsync(Op.Binary, payload))[0];
                if (frame.Masked)
                {
                    keys.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.MaskKey));
                }
            }

            await peer.SendFrameAsync(Op.Ping, FrameBuilder.Utf8("mask"));
            await peer.ExpectPongAsync(FrameBuilder.Utf8("mask"));
            if (role == Role.Client)
            {
                Assert.True(keys.Count >= 190, $"our client reused masking keys: {keys.Count} distinct keys in 200 frames");
                Assert.DoesNotContain(0u, keys);
            }
            else
            {
                Assert.Empty(keys);
            }

            await peer.CloseHandshakeAsync();
        });
}
