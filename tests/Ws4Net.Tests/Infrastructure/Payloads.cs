using System.Text;

namespace Ws4Net.Tests;

/// <summary>Deterministic test payloads.</summary>
internal static class Payloads
{
    private static readonly string[] s_pieces = ["a", "é", "€", "😀", "Z", "ж", "中", "🎉", " ", "\n"];

    /// <summary>Pseudo-random bytes, the same for the same seed.</summary>
    public static byte[] Binary(int length, int seed = 1)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A string mixing 1-, 2-, 3- and 4-byte UTF-8 sequences whose UTF-8 encoding is exactly <paramref name="byteLength"/> bytes.</summary>
    public static string Utf8Text(int byteLength, int seed = 1)
    {
        var builder = new StringBuilder(byteLength);
        int remaining = byteLength;
        int i = seed;
        while (remaining > 0)
        {
            string piece = s_pieces[i++ % s_pieces.Length];
            int size = Encoding.UTF8.GetByteCount(piece);
            if (size > remaining)
            {
                piece = "x";
                size = 1;
            }

            builder.Append(piece);
            remaining -= size;
        }

        string text = builder.ToString();
        if (Encoding.UTF8.GetByteCount(text) != byteLength)
        {
            throw new InvalidOperationException("Payload builder bug.");
        }

        return text;
    }
}
