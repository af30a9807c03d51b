using System.Text;

namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>Deterministic test payloads.</summary>
internal static class Payloads
{
    /// <summary>The sizes at the edges of the 7-bit, 16-bit and 64-bit payload length encodings (RFC 6455 §5.2), and 1 MiB.</summary>
    public static readonly int[] EdgeSizes = [0, 125, 126, 65535, 65536, 1024 * 1024];

    // 1-, 2-, 3- and 4-byte UTF-8 sequences.
    private static readonly string[] s_pieces = ["a", "Z", "7", " ", "ß", "ж", "€", "中", "✓", "😀", "𝄞"];

    /// <summary>A string whose UTF-8 encoding is exactly <paramref name="byteLength"/> bytes, mixing multi-byte characters.</summary>
    public static string Text(int byteLength)
    {
        var builder = new StringBuilder(byteLength);
        int used = 0;
        int k = 0;
        while (used < byteLength)
        {
            string piece = s_pieces[k++ % s_pieces.Length];
            int size = Encoding.UTF8.GetByteCount(piece);
            if (used + size > byteLength)
            {
                piece = ".";
                size = 1;
            }

            builder.Append(piece);
            used += size;
        }

        string text = builder.ToString();
        if (Encoding.UTF8.GetByteCount(text) != byteLength)
        {
            throw new InvalidOperationException($"Text generator produced {Encoding.UTF8.GetByteCount(text)} bytes instead of {byteLength}.");
        }

        return text;
    }

    /// <summary>Pseudo-random bytes, the same for the same length and seed.</summary>
    public static byte[] Binary(int length, int seed = 0)
    {
        var bytes = new byte[length];
        new Random(length * 31 + seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Describes where two byte sequences first differ (for assertion messages).</summary>
    public static string Difference(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        int common = expected.CommonPrefixLength(actual);
        return $"expected {expected.Length} bytes, got {actual.Length}; first difference at byte {common}";
    }
}
