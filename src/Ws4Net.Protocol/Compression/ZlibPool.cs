using System.Collections.Concurrent;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// Process-wide pools (per zlib backend) of zlib compressors and decompressors for directions without context takeover:
/// such a direction needs zlib state only while one message is being processed, so 10,000 idle
/// connections share a handful of states instead of holding 10,000. Thread-safe. Each pool keeps at
/// most <see cref="MaxPooledPerKey"/> idle states per configuration; extras are freed.
/// </summary>
internal static class ZlibPool
{
    public static readonly int MaxPooledPerKey = Math.Max(4, Environment.ProcessorCount * 4);

    private static readonly ConcurrentDictionary<(IZlibBackend Backend, int Level, int WindowBits, int MemoryLevel), ConcurrentBag<ZlibDeflater>> s_deflaters = new();
    private static readonly ConcurrentDictionary<(IZlibBackend Backend, int WindowBits), ConcurrentBag<ZlibInflater>> s_inflaters = new();

    public static ZlibDeflater RentDeflater(int level, int windowBits, int memoryLevel)
    {
        IZlibBackend backend = ZlibBackends.Required;
        ConcurrentBag<ZlibDeflater> bag = s_deflaters.GetOrAdd((backend, level, windowBits, memoryLevel), static _ => []);
        return bag.TryTake(out ZlibDeflater? deflater) ? deflater : new ZlibDeflater(backend, level, windowBits, memoryLevel);
    }

    /// <summary>Returns a deflater whose last message ended with a full flush (no reference to earlier data).</summary>
    public static void Return(ZlibDeflater deflater)
    {
        ConcurrentBag<ZlibDeflater> bag = s_deflaters.GetOrAdd((deflater.Backend, deflater.Level, deflater.WindowBits, deflater.MemoryLevel), static _ => []);
        if (bag.Count < MaxPooledPerKey)
        {
            bag.Add(deflater);
        }
        else
        {
            deflater.Dispose();
        }
    }

    public static ZlibInflater RentInflater(int windowBits)
    {
        IZlibBackend backend = ZlibBackends.Required;
        ConcurrentBag<ZlibInflater> bag = s_inflaters.GetOrAdd((backend, windowBits), static _ => []);
        return bag.TryTake(out ZlibInflater? inflater) ? inflater : new ZlibInflater(backend, windowBits);
    }

    public static void Return(ZlibInflater inflater)
    {
        inflater.Reset();
        ConcurrentBag<ZlibInflater> bag = s_inflaters.GetOrAdd((inflater.Backend, inflater.WindowBits), static _ => []);
        if (bag.Count < MaxPooledPerKey)
        {
            bag.Add(inflater);
        }
        else
        {
            inflater.Dispose();
        }
    }
}
