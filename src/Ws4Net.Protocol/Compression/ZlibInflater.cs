using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// A raw-DEFLATE decompressor (RFC 1951) over the runtime's zlib. Not thread-safe. Owns unmanaged
/// memory: dispose it.
/// </summary>
internal sealed unsafe class ZlibInflater : IDisposable
{
    private ZlibNative.ZStream* _stream;

    public ZlibInflater(int windowBits)
    {
        WindowBits = windowBits;
        _stream = (ZlibNative.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZlibNative.ZStream));
        int rc = ZlibNative.InflateInit2(_stream, -windowBits);
        if (rc != ZlibNative.Ok)
        {
            NativeMemory.Free(_stream);
            _stream = null;
            throw new InvalidOperationException($"zlib inflateInit2 failed ({rc}) for window bits {windowBits}.");
        }
    }

    public int WindowBits { get; }

    /// <summary>Gets whether the last call reached the end of a DEFLATE stream (a block with BFINAL set).</summary>
    public bool StreamEnded { get; private set; }

    /// <summary>Forgets the LZ77 window and any partial block: the next input starts a new stream.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_stream is null, this);
        ZlibNative.InflateReset2(_stream, -WindowBits);
        StreamEnded = false;
    }

    /// <summary>
    /// Inflates from <paramref name="input"/> into <paramref name="output"/> as far as both allow.
    /// Returns false when the data is not valid DEFLATE.
    /// </summary>
    public bool Inflate(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        ObjectDisposedException.ThrowIf(_stream is null, this);
        consumed = 0;
        written = 0;
        if (StreamEnded)
        {
            // Bytes after a final block are not DEFLATE data; only the sync-flush tail may follow.
            return true;
        }

        fixed (byte* inPtr = input)
        fixed (byte* outPtr = output)
        {
            _stream->NextIn = inPtr;
            _stream->AvailIn = (uint)input.Length;
            _stream->NextOut = outPtr;
            _stream->AvailOut = (uint)output.Length;
            int rc = ZlibNative.Inflate(_stream, ZlibNative.SyncFlush);
            consumed = input.Length - (int)_stream->AvailIn;
            written = output.Length - (int)_stream->AvailOut;
            _stream->NextIn = null;
            _stream->NextOut = null;
            switch (rc)
            {
                case ZlibNative.Ok:
                case ZlibNative.BufferError:
                    return true;
                case ZlibNative.StreamEnd:
                    StreamEnded = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    public void Dispose()
    {
        if (_stream is not null)
        {
            ZlibNative.InflateEnd(_stream);
            NativeMemory.Free(_stream);
            _stream = null;
        }
    }
}
