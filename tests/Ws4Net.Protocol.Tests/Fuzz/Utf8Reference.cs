using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Reference answers about UTF-8 computed only with the BCL (<see cref="Utf8"/>, <see cref="Rune"/>),
/// independently of <c>Utf8Validator</c>.
/// </summary>
internal static class Utf8Reference
{
    [ThreadStatic]
    private static char[]? t_chars;

    /// <summary>
    /// The index of the first byte after which the bytes can no longer be a prefix of valid UTF-8
    /// (the "first invalid byte"), or -1 when they are valid UTF-8 or a valid prefix of it (a truncated
    /// last code point).
    /// </summary>
    public static int FirstInvalidIndex(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return -1;
        }

        char[] chars = t_chars is { } cached && cached.Length >= bytes.Length ? cached : (t_chars = new char[Math.Max(bytes.Length, 256) * 2]);
        OperationStatus status = Utf8.ToUtf16(bytes, chars, out int read, out _, replaceInvalidSequences: false, isFinalBlock: false);
        if (status != OperationStatus.InvalidData)
        {
            return -1;   // only a truncated last code point
        }

        // An ill-formed sequence starts at 'read'; find the byte that made it ill-formed.
        for (int k = 1; k <= 4 && read + k <= bytes.Length; k++)
        {
            OperationStatus runeStatus = Rune.DecodeFromUtf8(bytes.Slice(read, k), out _, out _);
            if (runeStatus == OperationStatus.InvalidData)
            {
                return read + k - 1;
            }

            if (runeStatus == OperationStatus.Done)
            {
                break;
            }
        }

        throw new InvalidOperationException($"Utf8Reference: inconsistent BCL answers for {HexText.Format(bytes)} at {read}.");
    }

    /// <summary>The same answer by brute force over growing prefixes (quadratic; for cross-checking small inputs).</summary>
    public static int FirstInvalidIndexBruteForce(ReadOnlySpan<byte> bytes)
    {
        char[] chars = new char[Math.Max(bytes.Length, 1) * 2];
        for (int n = 1; n <= bytes.Length; n++)
        {
            if (Utf8.ToUtf16(bytes[..n], chars, out _, out _, replaceInvalidSequences: false, isFinalBlock: false) == OperationStatus.InvalidData)
            {
                return n - 1;
            }
        }

        return -1;
    }

    private static readonly int[] BoundaryCodePoints =
    [
        0x00, 0x09, 0x41, 0x7F, 0x80, 0xFF, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFD, 0xFFFE, 0xFFFF,
        0x10000, 0x1F600, 0x3FFFF, 0x40000, 0xFFFFF, 0x100000, 0x10FFFF,
    ];

    /// <summary>Appends exactly <paramref name="byteLength"/> bytes of valid UTF-8 with a mix of 1- to 4-byte code points.</summary>
    public static void AppendValidText(FuzzRng rng, ByteBuf buffer, int byteLength)
    {
        Span<byte> encoded = stackalloc byte[4];
        int left = byteLength;
        while (left > 0)
        {
            int codePoint = rng.Next(100) switch
            {
                < 50 => rng.Next(0x20, 0x7F),
                < 60 => rng.Next(0x00, 0x80),
                < 72 => rng.Next(0x80, 0x800),
                < 84 => RandomThreeByte(rng),
                < 94 => rng.Next(0x10000, 0x110000),
                _ => BoundaryCodePoints[rng.Next(BoundaryCodePoints.Length)],
            };
            int length = new Rune(codePoint).EncodeToUtf8(encoded);
            if (length > left)
            {
                codePoint = rng.Next(0x20, 0x7F);
                length = new Rune(codePoint).EncodeToUtf8(encoded);
            }

            buffer.Append(encoded[..length]);
            left -= length;
        }
    }

    private static int RandomThreeByte(FuzzRng rng)
    {
        int codePoint = rng.Next(0x800, 0x10000);
        return codePoint is >= 0xD800 and <= 0xDFFF ? codePoint - 0x800 : codePoint;
    }

    /// <summary>Byte sequences that are ill-formed UTF-8 (or become so in context).</summary>
    public static readonly byte[][] InvalidSnippets =
    [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xE1, 0x41], [0xF1, 0x80, 0x41],
        [0xCE, 0xBA, 0xE1, 0xBD], [0xC3, 0x28], [0xED, 0x9F, 0xBF, 0xED, 0xA0],
    ];
}
