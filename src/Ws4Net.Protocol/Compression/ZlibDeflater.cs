using System.Buffers;
using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// A raw-DEFLATE compressor (RFC 1951) over the runtime's zlib, with a chosen LZ77 window
/// (9-15 bits), level and memLevel. Not thread-safe. Owns unmanaged memory: dispose it.
/// </summary>
internal sealed unsafe class ZlibDeflater : IDisposable
{
    private ZlibNative.ZStream* _stream;

    public ZlibDeflater(int level, int windowBits, int memoryLevel)
    {
        Level = level;
        WindowBits = windowBits;
        MemoryLevel = memoryLevel;
        _stream = (ZlibNative.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZlibNative.ZStream));
        int rc = ZlibNative.DeflateInit2(_stream, level, ZlibNative.Deflated, -windowBits, memoryLevel, ZlibNative.DefaultStrategy);
        if (rc != ZlibNative.Ok)
        {
            NativeMemory.Free(_stream);
            _stream = null;
            throw new InvalidOperationException($"zlib deflateInit2 failed ({rc}) for level {level}, window bits {windowBits}, memLevel {memoryLevel}.");
        }
    }

    public int Level { get; }

    public int WindowBits { get; }

    public int MemoryLevel { get; }

    /// <summary>Compresses all of <paramref name="input"/> into <paramref name="output"/>, ending with the given flush.</summary>
    public void Compress(ReadOnlySpan<byte> input, IBufferWriter<byte> output, int flush)
    {
        ObjectDisposedException.ThrowIf(_stream is null, this);
        fixed (byte* inPtr = input)
        {
            _stream->NextIn = inPtr;
            _stream->AvailIn = (uint)input.Length;
            while (true)
            {
                // Deflate output is at most a little over the input size; ask for that much at once.
                Span<byte> destination = output.GetSpan(Math.Clamp((int)_stream->AvailIn + 64, 256, 1 << 20));
                fixed (byte* outPtr = destination)
                {
                    _stream->NextOut = outPtr;
                    _stream->AvailOut = (uint)destination.Length;
                    int rc = ZlibNative.Deflate(_stream, flush);
                    int produced = destination.Length - (int)_stream->AvailOut;
                    output.Advance(produced);
                    if (rc != ZlibNative.Ok && rc != ZlibNative.BufferError)
                    {
                        throw new InvalidOperationException($"zlib deflate failed ({rc}).");
                    }

                    if (_stream->AvailIn == 0 && _stream->AvailOut != 0)
                    {
                        break;
                    }
                }
            }

            _stream->NextIn = null;
            _stream->NextOut = null;
        }
    }

    public void Dispose()
    {
        if (_stream is not null)
        {
            ZlibNative.DeflateEnd(_stream);
            NativeMemory.Free(_stream);
            _stream = null;
        }
    }
}
