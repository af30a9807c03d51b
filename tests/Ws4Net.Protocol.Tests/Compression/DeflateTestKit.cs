using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Protocol.Tests.Core;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Helpers for the permessage-deflate tests: agreements, an independent DEFLATE implementation (the
/// BCL's <see cref="DeflateStream"/>, raw, whose <see cref="Stream.Flush"/> is a zlib sync flush) to
/// check the engine against, and a compression bomb made without materializing its inflated size.
/// </summary>
internal static class DeflateKit
{
    /// <summary>The four octets a sync flush ends with (RFC 7692 §7.2.1).</summary>
    public static readonly byte[] SyncTail = [0x00, 0x00, 0xFF, 0xFF];

    private static readonly Lazy<byte[]> s_gibibyteBomb = new(() => Bomb(1L << 30), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>1 GiB of zeros, raw-deflated by the runtime's zlib (BFINAL block at the end): about 1 MB.</summary>
    public static byte[] GibibyteBomb => s_gibibyteBomb.Value;

    /// <summary>An agreement with explicit windows; threshold 0 so that every message is compressed.</summary>
    public static PerMessageDeflateParameters Agreement(bool serverNoContextTakeover, bool clientNoContextTakeover, int? serverBits = null, int? clientBits = null, int threshold = 0)
        => new(serverNoContextTakeover, clientNoContextTakeover, serverBits, clientBits, threshold: threshold);

    public static IReadOnlyList<WebSocketExtensionOffer> Parse(string header) => WebSocketExtensionOffer.ParseHeader([header]);

    /// <summary>
    /// Deflates <paramref name="data"/> as one permessage-deflate message with the BCL (raw DEFLATE,
    /// sync flush, tail removed): what any conforming peer could send.
    /// </summary>
    public static byte[] BclCompress(ReadOnlySpan<byte> data, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, level, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();   // Z_SYNC_FLUSH: ends with 00 00 FF FF
            byte[] flushed = buffer.ToArray();
            Assert.True(flushed.AsSpan().EndsWith(SyncTail), "DeflateStream.Flush did not end with a sync-flush marker");
            return flushed[..^4];
        }
    }

    /// <summary>Inflates the payloads of consecutive compressed messages with ONE BCL inflater (context takeover), each message's length known.</summary>
    public static List<byte[]> BclInflateMessages(IEnumerable<byte[]> payloads, IEnumerable<int> lengths)
    {
        using var wire = new MemoryStream();
        foreach (byte[] payload in payloads)
        {
            wire.Write(payload);
            wire.Write(SyncTail);
        }

        wire.Position = 0;
        using var inflate = new DeflateStream(wire, CompressionMode.Decompress);
        var result = new List<byte[]>();
        foreach (int length in lengths)
        {
            byte[] message = new byte[length];
            inflate.ReadExactly(message);
            result.Add(message);
        }

        return result;
    }

    /// <summary>Inflates one message payload (tail appended) with a fresh BCL inflater.</summary>
    public static byte[] BclInflate(ReadOnlySpan<byte> payload, int expectedLength)
        => BclInflateMessages([payload.ToArray()], [expectedLength])[0];

    /// <summary>Raw-deflates <paramref name="zeros"/> zero bytes at zlib's default level, fed 1 MiB at a time (the inflated size is never materialized); ends with a BFINAL block.</summary>
    public static byte[] Bomb(long zeros)
    {
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            byte[] block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.Length)
            {
                deflate.Write(block, 0, (int)Math.Min(block.Length, left));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A frame towards <paramref name="receiver"/> (masked towards a server) with the given RSV bits (4 = RSV1).</summary>
    public static byte[] Frame(WebSocketRole receiver, int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0)
        => Frames.To(receiver, opcode, payload, fin, rsv);

    /// <summary>Text of exactly <paramref name="length"/> ASCII bytes that compresses well (words from a small vocabulary).</summary>
    public static byte[] CompressibleText(int length, int seed)
    {
        string[] words = ["deflate ", "window ", "context ", "takeover ", "frame ", "message ", "Ws4Net ", "zlib ", "\n", "é ", "€ ", "😀 "];
        var random = new Random(seed);
        var bytes = new List<byte>(length + 8);
        while (bytes.Count < length)
        {
            byte[] word = System.Text.Encoding.UTF8.GetBytes(words[random.Next(words.Length)]);
            if (bytes.Count + word.Length > length)
            {
                while (bytes.Count < length)
                {
                    bytes.Add((byte)'.');
                }

                break;
            }

            bytes.AddRange(word);
        }

        return [.. bytes];
    }

    /// <summary>Random bytes (incompressible: DEFLATE stores them).</summary>
    public static byte[] RandomBytes(int length, int seed) => Frames.Pattern(length, seed);

    /// <summary>Valid UTF-8 of exactly <paramref name="length"/> bytes, random code points of every size (poorly compressible text).</summary>
    public static byte[] RandomText(int length, int seed)
    {
        var random = new Random(seed);
        var bytes = new List<byte>(length + 4);
        Span<byte> utf8 = stackalloc byte[4];
        while (bytes.Count < length)
        {
            int room = length - bytes.Count;
            int codePoint = random.Next(4) switch
            {
                0 => random.Next(0x20, 0x7F),
                1 => random.Next(0x80, 0x800),
                2 => random.Next(0x800, 0xD800),
                _ => random.Next(0x10000, 0x110000),
            };
            var rune = new System.Text.Rune(codePoint);
            int size = rune.EncodeToUtf8(utf8);
            if (size > room)
            {
                bytes.Add((byte)'x');
                continue;
            }

            bytes.AddRange(utf8[..size].ToArray());
        }

        return [.. bytes];
    }

    /// <summary>An unmasked header for a frame whose payload is <paramref name="length"/> bytes (server to client).</summary>
    public static byte[] ServerFrameHeader(int opcode, long length, bool fin = true, int rsv = 0) => Frames.HeaderTo(WebSocketRole.Client, opcode, length, fin, rsv);

    public static ushort CloseCodeOf(byte[] closeFramePayload) => BinaryPrimitives.ReadUInt16BigEndian(closeFramePayload);
}

/// <summary>
/// Feeds bytes to an engine with permessage-deflate as a driver does (continue with input[consumed..],
/// flush owed output after every call) and records the events. The engine is created by the caller.
/// </summary>
internal sealed class DeflateReceiver : IDisposable
{
    public DeflateReceiver(WebSocketRole role, PerMessageDeflateParameters? agreement, WebSocketProtocolOptions? options = null)
    {
        Protocol = new WebSocketProtocol(role, options, agreement);
    }

    public WebSocketProtocol Protocol { get; }

    public List<RecordedEvent> Events { get; } = [];

    public ArrayBufferWriter<byte> Owed { get; } = new();

    /// <summary>Gets whether a Failed event was seen.</summary>
    public RecordedEvent? Failure => Events.FirstOrDefault(e => e.Type == WebSocketEventType.Failed);

    public void Feed(Memory<byte> input)
    {
        while (true)
        {
            bool got = Protocol.TryReadEvent(input, out int consumed, out WebSocketEvent e);
            RecordedEvent? recorded = got ? RecordedEvent.From(e) : null;
            Protocol.WritePendingOutput(Owed);
            Assert.InRange(consumed, 0, input.Length);
            input = input[consumed..];
            if (!got)
            {
                Assert.True(input.IsEmpty, $"TryReadEvent returned false with {input.Length} byte(s) unconsumed");
                return;
            }

            Events.Add(recorded!);
        }
    }

    /// <summary>Feeds a copy of <paramref name="wire"/> cut by <paramref name="chunks"/>.</summary>
    public void FeedChunked(ReadOnlySpan<byte> wire, IEnumerable<int> chunks)
    {
        byte[] copy = wire.ToArray();
        int pos = 0;
        foreach (int size in chunks)
        {
            Feed(copy.AsMemory(pos, size));
            pos += size;
        }

        Assert.Equal(copy.Length, pos);
    }

    public void FeedCopy(ReadOnlySpan<byte> wire) => Feed(wire.ToArray());

    /// <summary>The close code of the single close frame the engine owes (after a failure).</summary>
    public int OwedCloseCode()
    {
        WireFrame frame = Assert.Single(WireFrame.ParseAll(Owed.WrittenSpan));
        Assert.Equal(Frames.CloseOp, frame.Opcode);
        return DeflateKit.CloseCodeOf(frame.Payload);
    }

    public void Dispose() => Protocol.Dispose();
}
