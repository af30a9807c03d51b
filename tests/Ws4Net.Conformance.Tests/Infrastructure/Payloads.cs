using System.Collections.Concurrent;
using System.Text;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>Deterministic payloads: random bytes, and valid UTF-8 of an exact byte length mixing 1- to 4-byte characters.</summary>
public static class Payloads
{
    private const int TextTileLength = 1 << 20;
    private static readonly Lazy<(byte[] Bytes, int[] Boundaries)> s_textTile = new(BuildTextTile);
    private static readonly ConcurrentDictionary<(int Opcode, int Length, int Seed), byte[]> s_cache = new();

    /// <summary>A payload for <paramref name="opcode"/> (text: valid UTF-8; binary: random bytes). Cached and shared: do not modify.</summary>
    public static byte[] For(int opcode, int length, int seed = 7)
        => length >= 1 << 20
            ? s_cache.GetOrAdd((opcode, length, seed), static k => Create(k.Opcode, k.Length, k.Seed))
            : Create(opcode, length, seed);

    private static byte[] Create(int opcode, int length, int seed) => opcode == Op.Text ? Text(length, seed) : Binary(length, seed);

    public static byte[] Binary(int length, int seed = 7)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Valid UTF-8 of exactly <paramref name="length"/> bytes, with multi-byte characters throughout.</summary>
    public static byte[] Text(int length, int seed = 7)
    {
        (byte[] tile, int[] boundaries) = s_textTile.Value;
        byte[] data = new byte[length];
        int offset = (int)((uint)seed * 7919u % (uint)(boundaries.Length / 2));
        int start = boundaries[offset];
        int pos = 0;
        while (pos < length)
        {
            int want = length - pos;
            int available = tile.Length - start;
            if (available <= want)
            {
                tile.AsSpan(start).CopyTo(data.AsSpan(pos));
                pos += available;
                start = 0;
                continue;
            }

            // Copy whole characters only, then pad with ASCII.
            int end = start + want;
            int index = Array.BinarySearch(boundaries, end);
            int cut = index >= 0 ? end : boundaries[~index - 1];
            tile.AsSpan(start, cut - start).CopyTo(data.AsSpan(pos));
            pos += cut - start;
            while (pos < length)
            {
                data[pos++] = (byte)('a' + (pos % 26));
            }
        }

        return data;
    }

    private static (byte[] Bytes, int[] Boundaries) BuildTextTile()
    {
        var random = new Random(20240611);
        var bytes = new List<byte>(TextTileLength + 4);
        var boundaries = new List<int>(TextTileLength / 2);
        Span<byte> encoded = stackalloc byte[4];
        while (bytes.Count < TextTileLength)
        {
            int codePoint = random.Next(10) switch
            {
                < 4 => random.Next(0x20, 0x7F),
                < 6 => random.Next(0x80, 0x800),
                < 8 => random.Next(0x800, 0x10000),
                _ => random.Next(0x10000, 0x110000),
            };
            if (codePoint is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            boundaries.Add(bytes.Count);
            int n = new Rune(codePoint).EncodeToUtf8(encoded);
            for (int i = 0; i < n; i++)
            {
                bytes.Add(encoded[i]);
            }
        }

        return (bytes.ToArray(), boundaries.ToArray());
    }
}
