using System.Numerics;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// A log-linear latency histogram (the HdrHistogram layout, written for this tool): values below 128 are
/// counted exactly, larger ones in 128 sub-buckets per power of two (relative error below 0.8 %). Values
/// are in <see cref="System.Diagnostics.Stopwatch"/> ticks; recording never allocates. Not thread-safe:
/// one instance per connection, merged at the end with <see cref="Merge"/>.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int MaxValueBits = 40;   // 2^40 ticks: about 18 minutes at 1 ns per tick
    private const long MaxTrackable = (1L << MaxValueBits) - 1;

    private readonly long[] _counts = new long[(MaxValueBits - SubBucketBits + 1) * SubBucketCount];

    /// <summary>Gets the number of recorded values.</summary>
    public long Count { get; private set; }

    /// <summary>Gets the largest recorded value, in ticks (exact, not bucketed); 0 when empty.</summary>
    public long Max { get; private set; }

    /// <summary>Gets the sum of the recorded values, in ticks.</summary>
    public long Sum { get; private set; }

    /// <summary>Records one value.</summary>
    /// <param name="ticks">The value in ticks; negative values count as 0, huge ones are clamped.</param>
    public void Record(long ticks)
    {
        ticks = Math.Clamp(ticks, 0, MaxTrackable);
        _counts[IndexOf(ticks)]++;
        Count++;
        Sum += ticks;
        if (ticks > Max)
        {
            Max = ticks;
        }
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    /// <param name="other">The histogram to add; not changed.</param>
    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Gets the value at quantile <paramref name="quantile"/>, as the upper bound of its bucket (never above <see cref="Max"/>).</summary>
    /// <param name="quantile">Between 0 and 1 (0.99 for p99).</param>
    /// <returns>The value in ticks, or 0 when the histogram is empty.</returns>
    public long ValueAtQuantile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long target = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
            {
                return Math.Min(UpperBoundOf(i), Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }

        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int shift = msb - SubBucketBits;
        long mantissa = value >> shift;   // in [128, 256)
        return ((shift + 1) * SubBucketCount) + (int)(mantissa - SubBucketCount);
    }

    internal static long UpperBoundOf(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        int shift = (index / SubBucketCount) - 1;
        long mantissa = (index % SubBucketCount) + SubBucketCount;
        return ((mantissa + 1) << shift) - 1;
    }
}
