namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// A small, fast, seedable pseudo-random generator (xoshiro256** seeded through SplitMix64) whose
/// sequence depends only on the seed and the stream number, never on the .NET version, so a failing
/// fuzz iteration is reproducible anywhere from (seed, iteration).
/// </summary>
internal sealed class FuzzRng
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates the generator of stream <paramref name="stream"/> (an iteration number) of <paramref name="seed"/>.</summary>
    public FuzzRng(ulong seed, long stream = 0)
    {
        ulong x = seed;
        ulong mixedStream = SplitMix(ref x) ^ (0xD1B54A32D192ED03UL * (ulong)(stream + 1));
        x = mixedStream;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>Derives a seed (for a nested, independently reproducible generator) from this one.</summary>
    public ulong NextSeed() => NextULong();

    public ulong NextULong()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A value in [0, <paramref name="maxExclusive"/>); 0 when the bound is 0 or less.</summary>
    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)(((NextULong() >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>A value in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) => maxExclusive <= min ? min : min + Next(maxExclusive - min);

    public bool NextBool() => (NextULong() >> 63) != 0;

    /// <summary>True with probability <paramref name="percent"/>/100.</summary>
    public bool Chance(int percent) => Next(100) < percent;

    public byte NextByte() => (byte)(NextULong() >> 56);

    public void NextBytes(Span<byte> destination)
    {
        int i = 0;
        while (i + 8 <= destination.Length)
        {
            BitConverter.TryWriteBytes(destination[i..], NextULong());
            i += 8;
        }

        if (i < destination.Length)
        {
            ulong last = NextULong();
            for (; i < destination.Length; i++)
            {
                destination[i] = (byte)last;
                last >>= 8;
            }
        }
    }

    public byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        NextBytes(bytes);
        return bytes;
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>
    /// A length skewed towards small values: mostly 0-16, often up to 125/300, sometimes up to
    /// <paramref name="max"/> (inclusive).
    /// </summary>
    public int SkewedLength(int max)
    {
        int pick = Next(100);
        int value = pick switch
        {
            < 6 => 0,
            < 40 => Next(1, 17),
            < 65 => Next(17, 126),
            < 78 => Next(126, 301),
            < 96 => Next(301, 4097),
            _ => Next(4097, Math.Max(4098, max + 1)),
        };
        return Math.Min(value, max);
    }

    /// <summary>Shuffles a list in place (Fisher-Yates).</summary>
    public void Shuffle<T>(IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong value, int count) => (value << count) | (value >> (64 - count));
}
