namespace Ws4Net.Protocol.Compression;

/// <summary>
/// A raw-DEFLATE decompressor (RFC 1951) on the zlib backend chosen by <see cref="ZlibBackends"/>. Not
/// thread-safe. Owns unmanaged memory: dispose it.
/// </summary>
internal sealed class ZlibInflater : IDisposable
{
    private readonly IZlibStream _stream;

    public ZlibInflater(int windowBits)
        : this(ZlibBackends.Required, windowBits)
    {
    }

    public ZlibInflater(IZlibBackend backend, int windowBits)
    {
        Backend = backend;
        WindowBits = windowBits;
        _stream = backend.CreateInflater(windowBits);
    }

    /// <summary>Gets the zlib this state lives in.</summary>
    public IZlibBackend Backend { get; }

    public int WindowBits { get; }

    /// <summary>Gets whether the last call reached the end of a DEFLATE stream (a block with BFINAL set).</summary>
    public bool StreamEnded { get; private set; }

    /// <summary>Forgets the LZ77 window and any partial block: the next input starts a new stream.</summary>
    public void Reset()
    {
        _stream.ResetInflate(WindowBits);
        StreamEnded = false;
    }

    /// <summary>
    /// Inflates from <paramref name="input"/> into <paramref name="output"/> as far as both allow.
    /// Returns false when the data is not valid DEFLATE.
    /// </summary>
    public bool Inflate(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        if (StreamEnded)
        {
            // Bytes after a final block are not DEFLATE data; only the sync-flush tail may follow.
            return true;
        }

        switch (_stream.Process(input, output, ZlibNative.SyncFlush, out consumed, out written))
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

    public void Dispose() => _stream.Dispose();
}
