namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// The test's own reference for UTF-8 (RFC 3629), written independently of the library: it decodes
/// code points explicitly and, for an unfinished sequence, asks whether the range of code points it
/// could still become meets the valid range for its length. That gives the fail-fast point: the
/// shortest prefix that no continuation can make valid.
/// </summary>
public static class Utf8Reference
{
    /// <summary>Whether the bytes are complete, valid UTF-8.</summary>
    public static bool IsValid(ReadOnlySpan<byte> bytes) => Scan(bytes, out bool complete) && complete;

    /// <summary>Whether some continuation could make these bytes valid UTF-8 (false as soon as they are doomed).</summary>
    public static bool IsViablePrefix(ReadOnlySpan<byte> bytes) => Scan(bytes, out _);

    /// <summary>The length of the shortest doomed prefix, or -1 when every prefix is viable.</summary>
    public static int FirstDoomedPrefixLength(ReadOnlySpan<byte> bytes)
    {
        for (int n = 1; n <= bytes.Length; n++)
        {
            if (!IsViablePrefix(bytes[..n]))
            {
                return n;
            }
        }

        return -1;
    }

    private static bool Scan(ReadOnlySpan<byte> bytes, out bool complete)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            byte lead = bytes[i];
            int length;
            int value;
            if (lead < 0x80)
            {
                i++;
                continue;
            }
            else if ((lead & 0xE0) == 0xC0)
            {
                length = 2;
                value = lead & 0x1F;
            }
            else if ((lead & 0xF0) == 0xE0)
            {
                length = 3;
                value = lead & 0x0F;
            }
            else if ((lead & 0xF8) == 0xF0)
            {
                length = 4;
                value = lead & 0x07;
            }
            else
            {
                complete = false;
                return false;   // a continuation byte without a lead, or F8-FF (5-/6-byte forms, FE, FF)
            }

            int seen = 1;
            while (seen < length && i + seen < bytes.Length)
            {
                byte next = bytes[i + seen];
                if ((next & 0xC0) != 0x80)
                {
                    complete = false;
                    return false;   // the sequence is cut short by a non-continuation byte
                }

                value = (value << 6) | (next & 0x3F);
                seen++;
            }

            int missingBits = 6 * (length - seen);
            long lowest = (long)value << missingBits;
            long highest = lowest | ((1L << missingBits) - 1);
            if (!RangeMeetsValid(length, lowest, highest))
            {
                complete = false;
                return false;
            }

            if (seen < length)
            {
                complete = false;
                return true;   // an unfinished sequence at the end that may still become valid
            }

            i += length;
        }

        complete = true;
        return true;
    }

    /// <summary>Whether [lowest, highest] contains a scalar value that needs exactly <paramref name="length"/> bytes.</summary>
    private static bool RangeMeetsValid(int length, long lowest, long highest)
    {
        (long min, long max) = length switch
        {
            2 => (0x80L, 0x7FFL),
            3 => (0x800L, 0xFFFFL),
            _ => (0x10000L, 0x10FFFFL),
        };
        long from = Math.Max(lowest, min);
        long to = Math.Min(highest, max);
        if (from > to)
        {
            return false;   // overlong, or beyond U+10FFFF
        }

        // Surrogates U+D800..U+DFFF are not scalar values: is anything left outside them?
        return from < 0xD800 || to > 0xDFFF;
    }
}
