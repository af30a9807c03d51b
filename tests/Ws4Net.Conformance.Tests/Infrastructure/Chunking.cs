namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>How a byte stream is cut into separate socket writes.</summary>
public abstract class Chunking
{
    /// <summary>Everything in one write.</summary>
    public static Chunking Whole { get; } = new WholeChunking();

    /// <summary>One byte per write (for small frames).</summary>
    public static Chunking ByteByByte { get; } = new SmallHeadChunking(1, 1, int.MaxValue, 0);

    /// <summary>Writes of 1..7 bytes (seeded) for the first <paramref name="head"/> bytes, then <paramref name="large"/>-byte writes.</summary>
    public static Chunking SmallHead(int seed, int head = 64, int large = 64 * 1024) => new SmallHeadChunking(1, 7, head, large, seed);

    /// <summary>Writes of a random (seeded) size in [1, <paramref name="max"/>].</summary>
    public static Chunking Random(int seed, int max) => new RandomChunking(seed, max);

    /// <summary>Sizes of the successive writes for a stream of <paramref name="total"/> bytes.</summary>
    public abstract IEnumerable<int> Split(int total);

    /// <summary>Whether the writer should pause briefly after the first few writes, so the receiver sees partial headers.</summary>
    public virtual bool PauseEarly => true;

    private sealed class WholeChunking : Chunking
    {
        public override bool PauseEarly => false;

        public override IEnumerable<int> Split(int total)
        {
            yield return total;
        }

        public override string ToString() => "one write";
    }

    private sealed class SmallHeadChunking(int min, int max, int head, int large, int seed = 0) : Chunking
    {
        public override IEnumerable<int> Split(int total)
        {
            var random = new Random(seed);
            int pos = 0;
            while (pos < total)
            {
                int size = pos < head ? random.Next(min, max + 1) : large;
                size = Math.Min(size, total - pos);
                pos += size;
                yield return size;
            }
        }

        public override string ToString() => max == 1 && head == int.MaxValue ? "byte by byte" : $"{min}..{max}-byte writes for {head} bytes, then {large}";
    }

    private sealed class RandomChunking(int seed, int max) : Chunking
    {
        public override IEnumerable<int> Split(int total)
        {
            var random = new Random(seed);
            int pos = 0;
            while (pos < total)
            {
                int size = Math.Min(random.Next(1, max + 1), total - pos);
                pos += size;
                yield return size;
            }
        }

        public override string ToString() => $"random writes of 1..{max} bytes (seed {seed})";
    }
}
