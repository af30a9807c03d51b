namespace Ws4Net.Protocol.Compression;

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
