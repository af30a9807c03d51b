using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// zlib through the .NET runtime's <c>libSystem.IO.Compression.Native</c> (the exports the BCL's own
/// <c>DeflateStream</c> uses). Fast and always shipped with the runtime, but those exports are private to
/// the runtime and may change in any update: <see cref="ZlibBackends"/> probes it before use and falls back
/// to <see cref="SystemZlibBackend"/>.
/// </summary>
internal sealed class RuntimeZlibBackend : IZlibBackend
{
    public static readonly RuntimeZlibBackend Instance = new();

    private RuntimeZlibBackend()
    {
    }

    public string Name => "runtime";

    public IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel) => Stream.Create(deflate: true, level, windowBits, memoryLevel);

    public IZlibStream CreateInflater(int windowBits) => Stream.Create(deflate: false, 0, windowBits, 0);

    private sealed unsafe class Stream : IZlibStream
    {
        private readonly bool _deflate;
        private ZlibNative.ZStream* _stream;

        private Stream(bool deflate, ZlibNative.ZStream* stream)
        {
            _deflate = deflate;
            _stream = stream;
        }

        public static Stream Create(bool deflate, int level, int windowBits, int memoryLevel)
        {
            var stream = (ZlibNative.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZlibNative.ZStream));
            int rc;
            try
            {
                rc = deflate
                    ? ZlibNative.DeflateInit2(stream, level, ZlibNative.Deflated, -windowBits, memoryLevel, ZlibNative.DefaultStrategy)
                    : ZlibNative.InflateInit2(stream, -windowBits);
            }
            catch
            {
                NativeMemory.Free(stream);
                throw;
            }

            if (rc != ZlibNative.Ok)
            {
                NativeMemory.Free(stream);
                throw new InvalidOperationException(deflate
                    ? $"zlib deflateInit2 failed ({rc}) for level {level}, window bits {windowBits}, memLevel {memoryLevel}."
                    : $"zlib inflateInit2 failed ({rc}) for window bits {windowBits}.");
            }

            return new Stream(deflate, stream);
        }

        public int Process(ReadOnlySpan<byte> input, Span<byte> output, int flush, out int consumed, out int written)
        {
            ObjectDisposedException.ThrowIf(_stream is null, this);
            fixed (byte* inPtr = input)
            fixed (byte* outPtr = output)
            {
                _stream->NextIn = inPtr;
                _stream->AvailIn = (uint)input.Length;
                _stream->NextOut = outPtr;
                _stream->AvailOut = (uint)output.Length;
                int rc = _deflate ? ZlibNative.Deflate(_stream, flush) : ZlibNative.Inflate(_stream, flush);
                consumed = input.Length - (int)_stream->AvailIn;
                written = output.Length - (int)_stream->AvailOut;
                _stream->NextIn = null;
                _stream->NextOut = null;
                return rc;
            }
        }

        public void ResetInflate(int windowBits)
        {
            ObjectDisposedException.ThrowIf(_stream is null, this);
            ZlibNative.InflateReset2(_stream, -windowBits);
        }

        public void Dispose()
        {
            if (_stream is not null)
            {
                _ = _deflate ? ZlibNative.DeflateEnd(_stream) : ZlibNative.InflateEnd(_stream);
                NativeMemory.Free(_stream);
                _stream = null;
            }
        }
    }
}
