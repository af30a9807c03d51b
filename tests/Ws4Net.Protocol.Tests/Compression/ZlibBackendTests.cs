using System.Buffers;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// The zlib backends behind permessage-deflate (docs/compression.md): the runtime's private
/// libSystem.IO.Compression.Native exports and the system zlib. The compression vectors run through every
/// backend that works here (the whole compression suite also runs once more with WS4NET_ZLIB=system from
/// eng/test.sh); the selection falls back when a backend is missing or broken; with no zlib at all,
/// compression is not negotiated.
/// </summary>
public sealed class ZlibBackendTests
{
    public static TheoryData<string> Backends => new() { "runtime", "system" };

    private static IZlibBackend Load(string name)
    {
        IZlibBackend? backend = ZlibBackends.LoadAll().SingleOrDefault(b => b.Name == name);
        Assert.True(backend is not null, $"the {name} zlib backend does not work on this machine (the system one needs libz.so.1, Debian package zlib1g)");
        return backend;
    }

    [Fact]
    public void Both_backends_work_here_and_the_automatic_choice_follows_the_environment()
    {
        Assert.Equal(["runtime", "system"], ZlibBackends.LoadAll().Select(b => b.Name));
        string? forced = Environment.GetEnvironmentVariable(ZlibBackends.EnvironmentVariable);
        Assert.Equal(string.IsNullOrEmpty(forced) ? "runtime" : forced, ZlibBackends.Current?.Name);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Compresses_Hello_to_the_rfc_7692_bytes_with_and_without_context_takeover(string name)
    {
        var backend = new CountingBackend(Load(name));
        using (ZlibBackends.Use(backend))
        {
            using var shared = new WebSocketProtocol(WebSocketRole.Server, null, new PerMessageDeflateParameters(false, false, null, null, threshold: 0));
            var output = new ArrayBufferWriter<byte>();
            shared.WriteText(output, "Hello");
            Assert.Equal("C107F248CDC9C90700", Convert.ToHexString(output.WrittenSpan));    // §7.2.3.1
            output.Clear();
            shared.WriteText(output, "Hello");
            Assert.Equal("C105F200110000", Convert.ToHexString(output.WrittenSpan));        // §7.2.3.2

            using var alone = new WebSocketProtocol(WebSocketRole.Server, null, new PerMessageDeflateParameters(true, true, null, null, threshold: 0));
            output.Clear();
            alone.WriteText(output, "Hello");
            alone.WriteText(output, "Hello");
            Assert.Equal("C107F248CDC9C90700C107F248CDC9C90700", Convert.ToHexString(output.WrittenSpan));
        }

        Assert.True(backend.Deflaters >= 2, $"{name}: {backend.Deflaters} compressors created");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Inflates_the_rfc_7692_example_frames_in_any_chunking(string name)
    {
        string[] frames =
        [
            "c107f248cdc9c90700",                 // §7.2.3.1
            "4103f248cd8004c9c90700",             // §7.2.3.1 fragmented
            "c10b000500faff48656c6c6f00",         // §7.2.3.3 stored block
            "c108f348cdc9c9070000",               // §7.2.3.4 BFINAL set
            "c10df24805000000ffffcac9c90700",     // §7.2.3.5 two blocks
            "c107f248cdc9c90700c105f200110000",   // §7.2.3.2 the second message refers to the first
        ];
        var backend = new CountingBackend(Load(name));
        using (ZlibBackends.Use(backend))
        {
            foreach (string hex in frames)
            {
                byte[] wire = Convert.FromHexString(hex);
                foreach (int chunk in new[] { wire.Length, 1, 3 })
                {
                    using var protocol = new WebSocketProtocol(WebSocketRole.Client, null, new PerMessageDeflateParameters(false, false, null, null, threshold: 0));
                    List<WebSocketEvent> events = Receive(protocol, wire, chunk, out List<string> texts);
                    Assert.All(events, e => Assert.Equal(WebSocketEventType.Message, e.Type));
                    Assert.All(texts, text => Assert.Equal("Hello", text));
                    Assert.Equal(hex.Length > 30 && hex.StartsWith("c107", StringComparison.Ordinal) ? 2 : 1, texts.Count);
                }
            }
        }

        Assert.True(backend.Inflaters > 0);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Messages_round_trip_for_every_window_and_takeover_and_the_bcl_inflates_them(string name)
    {
        using (ZlibBackends.Use(Load(name)))
        {
            foreach (int bits in new[] { 9, 12, 15 })
            {
                foreach (bool noTakeover in new[] { false, true })
                {
                    PerMessageDeflateParameters agreement = DeflateKit.Agreement(noTakeover, noTakeover, bits, bits);
                    using var client = new WebSocketProtocol(WebSocketRole.Client, new WebSocketProtocolOptions { MaxMessageSize = 1 << 20 }, agreement);
                    using var server = new WebSocketProtocol(WebSocketRole.Server, new WebSocketProtocolOptions { MaxMessageSize = 1 << 20 }, agreement);
                    var sentPayloads = new List<byte[]>();
                    var wirePayloads = new List<byte[]>();
                    foreach (int length in new[] { 0, 16, 1000, 70_000, 200_000 })
                    {
                        byte[] message = DeflateKit.CompressibleText(length, length + bits);
                        sentPayloads.Add(message);
                        var wire = new ArrayBufferWriter<byte>();
                        server.WriteMessage(wire, WebSocketMessageKind.Text, message);
                        wirePayloads.Add(PayloadOf(wire.WrittenSpan));
                        List<WebSocketEvent> events = Receive(client, wire.WrittenSpan.ToArray(), 4096, out List<string> texts);
                        Assert.Equal(WebSocketEventType.Message, Assert.Single(events).Type);
                        Assert.Equal(Encoding.UTF8.GetString(message), Assert.Single(texts));
                    }

                    if (!noTakeover)
                    {
                        // An independent inflater (the BCL's DeflateStream) reads the same stream of messages.
                        List<byte[]> inflated = DeflateKit.BclInflateMessages(wirePayloads, sentPayloads.Select(p => p.Length));
                        Assert.Equal(sentPayloads, inflated);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Invalid_deflate_fails_with_1007_and_a_bomb_stops_at_the_message_limit_with_1009(string name)
    {
        using (ZlibBackends.Use(Load(name)))
        {
            var agreement = new PerMessageDeflateParameters(false, false, null, null, threshold: 0);
            using (var protocol = new WebSocketProtocol(WebSocketRole.Client, null, agreement))
            {
                byte[] garbage = DeflateKit.Frame(WebSocketRole.Client, 0x2, [0xFF, 0xFF, 0xFF, 0xFF, 0x00], rsv: 4);
                WebSocketEvent failed = Assert.Single(Receive(protocol, garbage, garbage.Length, out _));
                Assert.Equal(WebSocketEventType.Failed, failed.Type);
                Assert.Equal(WebSocketCloseCode.InvalidPayloadData, failed.CloseCode);
            }

            using (var protocol = new WebSocketProtocol(WebSocketRole.Client, new WebSocketProtocolOptions { MaxMessageSize = 64 * 1024 }, agreement))
            {
                byte[] bomb = DeflateKit.Frame(WebSocketRole.Client, 0x2, DeflateKit.Bomb(16L << 20), rsv: 4);
                WebSocketEvent failed = Assert.Single(Receive(protocol, bomb, 8192, out _));
                Assert.Equal(WebSocketEventType.Failed, failed.Type);
                Assert.Equal(WebSocketCloseCode.MessageTooBig, failed.CloseCode);
            }
        }
    }

    [Fact]
    public void Selection_prefers_the_forced_backend_then_falls_back_past_missing_or_broken_ones()
    {
        IZlibBackend runtime = Load("runtime");
        IZlibBackend system = Load("system");
        Func<IZlibBackend?> missing = () => throw new DllNotFoundException("libSystem.IO.Compression.Native");
        Func<IZlibBackend?> renamedExports = () => throw new EntryPointNotFoundException("CompressionNative_DeflateInit2_");
        Func<IZlibBackend?> broken = () => new BrokenBackend(runtime);

        Assert.Same(runtime, ZlibBackends.Select(null, () => runtime, () => system));
        Assert.Same(system, ZlibBackends.Select("system", () => runtime, () => system));
        Assert.Same(runtime, ZlibBackends.Select("RUNTIME", () => system, () => runtime));
        Assert.Same(system, ZlibBackends.Select(null, missing, () => system));               // a runtime without the private library
        Assert.Same(system, ZlibBackends.Select("runtime", renamedExports, () => system));   // a runtime update renamed the exports
        Assert.Same(system, ZlibBackends.Select(null, broken, () => system));                // exports that no longer round-trip
        Assert.Same(runtime, ZlibBackends.Select("no-such-backend", () => runtime, () => system));
        Assert.Null(ZlibBackends.Select("none", () => runtime, () => system));
        Assert.Null(ZlibBackends.Select(null, missing, () => null));
    }

    [Fact]
    public void Without_any_zlib_the_extension_is_declined_by_servers_and_not_offered_by_clients()
    {
        IReadOnlyList<WebSocketExtensionOffer> offers = DeflateKit.Parse("permessage-deflate; client_max_window_bits");
        Assert.True(PerMessageDeflateNegotiation.TryAccept(offers, new PerMessageDeflateOptions(), out _));

        using (ZlibBackends.UseNone())
        {
            Assert.False(ZlibBackends.IsAvailable);
            Assert.False(PerMessageDeflateNegotiation.TryAccept(offers, new PerMessageDeflateOptions(), out PerMessageDeflateParameters? agreed));
            Assert.Null(agreed);

            var handshake = new ClientHandshake(new Uri("ws://example.test/chat"), new ClientHandshakeOptions { PerMessageDeflate = new PerMessageDeflateOptions() });
            var request = new ArrayBufferWriter<byte>();
            handshake.WriteRequest(request);
            Assert.DoesNotContain("permessage-deflate", Encoding.ASCII.GetString(request.WrittenSpan), StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>The payload of one unmasked server frame with a 7/16/64-bit length.</summary>
    private static byte[] PayloadOf(ReadOnlySpan<byte> frame)
    {
        int length = frame[1] & 0x7F;
        int header = length == 126 ? 4 : length == 127 ? 10 : 2;
        return frame[header..].ToArray();
    }

    private static List<WebSocketEvent> Receive(WebSocketProtocol protocol, byte[] wire, int chunk, out List<string> texts)
    {
        var events = new List<WebSocketEvent>();
        texts = [];
        for (int offset = 0; offset < wire.Length; offset += chunk)
        {
            Memory<byte> input = wire.AsSpan(offset, Math.Min(chunk, wire.Length - offset)).ToArray();
            while (true)
            {
                bool produced = protocol.TryReadEvent(input, out int consumed, out WebSocketEvent e);
                input = input[consumed..];
                if (!produced)
                {
                    break;
                }

                events.Add(e);
                if (e.Type == WebSocketEventType.Message)
                {
                    texts.Add(Encoding.UTF8.GetString(e.Payload.Span));
                }

                if (e.Type == WebSocketEventType.Failed)
                {
                    return events;
                }
            }
        }

        return events;
    }

    /// <summary>Counts the zlib states created through it, so a test sees that its vectors went through the backend.</summary>
    private sealed class CountingBackend(IZlibBackend inner) : IZlibBackend
    {
        public int Deflaters;
        public int Inflaters;

        public string Name => inner.Name;

        public IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel)
        {
            Interlocked.Increment(ref Deflaters);
            return inner.CreateDeflater(level, windowBits, memoryLevel);
        }

        public IZlibStream CreateInflater(int windowBits)
        {
            Interlocked.Increment(ref Inflaters);
            return inner.CreateInflater(windowBits);
        }
    }

    /// <summary>A backend whose compressor produces garbage: what private exports with a changed contract might do.</summary>
    private sealed class BrokenBackend(IZlibBackend inner) : IZlibBackend
    {
        public string Name => "runtime";

        public IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel) => new Garbage(inner.CreateDeflater(level, windowBits, memoryLevel));

        public IZlibStream CreateInflater(int windowBits) => inner.CreateInflater(windowBits);

        private sealed class Garbage(IZlibStream inner) : IZlibStream
        {
            public int Process(ReadOnlySpan<byte> input, Span<byte> output, int flush, out int consumed, out int written)
            {
                int rc = inner.Process(input, output, flush, out consumed, out written);
                output[..written].Fill(0xFF);
                return rc;
            }

            public void ResetInflate(int windowBits) => inner.ResetInflate(windowBits);

            public void Dispose() => inner.Dispose();
        }
    }
}
