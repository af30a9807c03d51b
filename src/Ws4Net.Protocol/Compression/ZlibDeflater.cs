using System.Buffers;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// A raw-DEFLATE compressor (RFC 1951) with a chosen LZ77 window (9-15 bits), level and memLevel, on the zlib
/// backend chosen by <see cref="ZlibBackends"/>. Not thread-safe. Owns unmanaged memory: dispose it.
/// </summary>
internal sealed class ZlibDeflater : IDisposable
{
    private readonly IZlibStream _stream;

    public ZlibDeflater(int level, int windowBits, int memoryLevel)
        : this(ZlibBackends.Required, level, windowBits, memoryLevel)
    {
    }

    public ZlibDeflater(IZlibBackend backend, int level, int windowBits, int memoryLevel)
    {
        Backend = backend;
        Level = level;
        WindowBits = windowBits;
        MemoryLevel = memoryLevel;
        _stream = backend.CreateDeflater(level, windowBits, memoryLevel);
    }

    /// <summary>Gets the zlib this state lives in.</summary>
    public IZlibBackend Backend { get; }

    public int Level { get; }

    public int WindowBits { get; }

    public int MemoryLevel { get; }

    /// <summary>Compresses all of <paramref name="input"/> into <paramref name="output"/>, ending with the given flush.</summary>
    public void Compress(ReadOnlySpan<byte> input, IBufferWriter<byte> output, int flush)
    {
        while (true)
        {
            // Deflate output is at most a little over the input size; ask for that much at once.
            Span<byte> destination = output.GetSpan(Math.Clamp(input.Length + 64, 256, 1 << 20));
            int rc = _stream.Process(input, destination, flush, out int consumed, out int produced);
            output.Advance(produced);
            input = input[consumed..];
            if (rc != ZlibNative.Ok && rc != ZlibNative.BufferError)
            {
                throw new InvalidOperationException($"zlib deflate failed ({rc}).");
            }

            if (input.IsEmpty && produced < destination.Length)
            {
                break;
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
