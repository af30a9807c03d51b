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
