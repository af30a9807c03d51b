using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// The operating system's zlib (<c>libz.so.1</c> on Linux, <c>libz.1.dylib</c> on macOS, <c>zlib1.dll</c> when one is
/// on the search path on Windows), loaded with <see cref="NativeLibrary"/> and called through its public, stable
/// ABI (<c>deflateInit2_</c>, <c>inflateInit2_</c>, ...). The fallback when the runtime's private exports are gone.
/// </summary>
internal sealed unsafe class SystemZlibBackend : IZlibBackend
{
    private static readonly string[] s_libraryNames = OperatingSystem.IsWindows()
        ? ["zlib1.dll", "zlib.dll"]
        : OperatingSystem.IsMacOS() || OperatingSystem.IsIOS()
            ? ["libz.1.dylib", "libz.dylib"]
            : ["libz.so.1", "libz.so"];

    private readonly byte* _version;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int, int, int, int, int, byte*, int, int> _deflateInit2;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int, int> _deflate;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int> _deflateEnd;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int, byte*, int, int> _inflateInit2;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int, int> _inflate;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int, int> _inflateReset2;
    private readonly delegate* unmanaged[Cdecl]<ZStream*, int> _inflateEnd;

    private SystemZlibBackend(nint library)
    {
        _deflateInit2 = (delegate* unmanaged[Cdecl]<ZStream*, int, int, int, int, int, byte*, int, int>)NativeLibrary.GetExport(library, "deflateInit2_");
        _deflate = (delegate* unmanaged[Cdecl]<ZStream*, int, int>)NativeLibrary.GetExport(library, "deflate");
        _deflateEnd = (delegate* unmanaged[Cdecl]<ZStream*, int>)NativeLibrary.GetExport(library, "deflateEnd");
        _inflateInit2 = (delegate* unmanaged[Cdecl]<ZStream*, int, byte*, int, int>)NativeLibrary.GetExport(library, "inflateInit2_");
        _inflate = (delegate* unmanaged[Cdecl]<ZStream*, int, int>)NativeLibrary.GetExport(library, "inflate");
        _inflateReset2 = (delegate* unmanaged[Cdecl]<ZStream*, int, int>)NativeLibrary.GetExport(library, "inflateReset2");
        _inflateEnd = (delegate* unmanaged[Cdecl]<ZStream*, int>)NativeLibrary.GetExport(library, "inflateEnd");
        var zlibVersion = (delegate* unmanaged[Cdecl]<byte*>)NativeLibrary.GetExport(library, "zlibVersion");
        _version = zlibVersion();
        Version = Marshal.PtrToStringUTF8((nint)_version) ?? "?";
    }

    public string Name => "system";

    /// <summary>Gets the loaded zlib's version string (zlib <c>zlibVersion()</c>).</summary>
    public string Version { get; }

    /// <summary>Loads the system zlib, or returns <see langword="null"/> when there is none (or it lacks an export).</summary>
    /// <returns>The backend, or <see langword="null"/>.</returns>
    public static SystemZlibBackend? TryLoad()
    {
        foreach (string name in s_libraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(SystemZlibBackend).Assembly, null, out nint library))
            {
                continue;
            }

            try
            {
                return new SystemZlibBackend(library);
            }
            catch (EntryPointNotFoundException)
            {
                NativeLibrary.Free(library);
            }
        }

        return null;
    }

    public IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel) => Stream.Create(this, deflate: true, level, windowBits, memoryLevel);

    public IZlibStream CreateInflater(int windowBits) => Stream.Create(this, deflate: false, 0, windowBits, 0);

    /// <summary>zlib's <c>z_stream</c> (zlib.h); <c>uLong</c> is the C <c>long</c>, hence <see cref="CULong"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public nint Message;
        public nint State;
        public nint ZAlloc;
        public nint ZFree;
        public nint Opaque;
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    private sealed class Stream : IZlibStream
    {
        private readonly SystemZlibBackend _zlib;
        private readonly bool _deflate;
        private ZStream* _stream;

        private Stream(SystemZlibBackend zlib, bool deflate, ZStream* stream)
        {
            _zlib = zlib;
            _deflate = deflate;
            _stream = stream;
        }

        public static Stream Create(SystemZlibBackend zlib, bool deflate, int level, int windowBits, int memoryLevel)
        {
            var stream = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            int rc = deflate
                ? zlib._deflateInit2(stream, level, ZlibNative.Deflated, -windowBits, memoryLevel, ZlibNative.DefaultStrategy, zlib._version, sizeof(ZStream))
                : zlib._inflateInit2(stream, -windowBits, zlib._version, sizeof(ZStream));
            if (rc != ZlibNative.Ok)
            {
                NativeMemory.Free(stream);
                throw new InvalidOperationException(deflate
                    ? $"zlib deflateInit2 failed ({rc}) for level {level}, window bits {windowBits}, memLevel {memoryLevel}."
                    : $"zlib inflateInit2 failed ({rc}) for window bits {windowBits}.");
            }

            return new Stream(zlib, deflate, stream);
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
                int rc = _deflate ? _zlib._deflate(_stream, flush) : _zlib._inflate(_stream, flush);
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
            _zlib._inflateReset2(_stream, -windowBits);
        }

        public void Dispose()
        {
            if (_stream is not null)
            {
                _ = _deflate ? _zlib._deflateEnd(_stream) : _zlib._inflateEnd(_stream);
                NativeMemory.Free(_stream);
                _stream = null;
            }
        }
    }
}
