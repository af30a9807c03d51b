namespace Ws4Net.Protocol.Compression;

/// <summary>
/// One zlib implementation the permessage-deflate codec can run on (see <see cref="ZlibBackends"/>). The
/// streams it creates speak raw DEFLATE (RFC 1951, no zlib header) with the given LZ77 window. Implementations
/// are thread-safe; each stream is used by one thread at a time.
/// </summary>
internal interface IZlibBackend
{
    /// <summary>Gets the short name used by <see cref="ZlibBackends.EnvironmentVariable"/> and in diagnostics ("runtime", "system").</summary>
    string Name { get; }

    /// <summary>Creates a raw-DEFLATE compressor (zlib <c>deflateInit2</c> with negative window bits).</summary>
    /// <param name="level">zlib level 0-9.</param>
    /// <param name="windowBits">LZ77 window, 9-15 bits.</param>
    /// <param name="memoryLevel">zlib memLevel 1-9.</param>
    /// <returns>The stream; dispose it.</returns>
    /// <exception cref="InvalidOperationException">zlib refused the parameters.</exception>
    IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel);

    /// <summary>Creates a raw-DEFLATE decompressor (zlib <c>inflateInit2</c> with negative window bits).</summary>
    /// <param name="windowBits">LZ77 window, 8-15 bits.</param>
    /// <returns>The stream; dispose it.</returns>
    /// <exception cref="InvalidOperationException">zlib refused the parameters.</exception>
    IZlibStream CreateInflater(int windowBits);
}

/// <summary>One zlib stream state (unmanaged memory): a compressor or a decompressor. Not thread-safe.</summary>
internal interface IZlibStream : IDisposable
{
    /// <summary>
    /// Runs one <c>deflate()</c> or <c>inflate()</c> call from <paramref name="input"/> into <paramref name="output"/>.
    /// </summary>
    /// <param name="input">Bytes to consume.</param>
    /// <param name="output">Room for the produced bytes.</param>
    /// <param name="flush">A zlib flush value (<see cref="ZlibNative.NoFlush"/>, <see cref="ZlibNative.SyncFlush"/>, <see cref="ZlibNative.FullFlush"/>).</param>
    /// <param name="consumed">Bytes of <paramref name="input"/> consumed.</param>
    /// <param name="written">Bytes of <paramref name="output"/> produced.</param>
    /// <returns>zlib's return code (<see cref="ZlibNative.Ok"/>, <see cref="ZlibNative.StreamEnd"/>, <see cref="ZlibNative.BufferError"/>, or an error).</returns>
    int Process(ReadOnlySpan<byte> input, Span<byte> output, int flush, out int consumed, out int written);

    /// <summary>Resets a decompressor to a new stream (zlib <c>inflateReset2</c>).</summary>
    /// <param name="windowBits">LZ77 window, 8-15 bits.</param>
    void ResetInflate(int windowBits);
}
