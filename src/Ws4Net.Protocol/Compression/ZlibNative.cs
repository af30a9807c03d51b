using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// zlib constants, and the P/Invoke declarations for the zlib that ships with the .NET runtime
/// (<c>libSystem.IO.Compression.Native</c>, the same exports the BCL's own deflate uses). The
/// functions take the runtime's <c>PAL_ZStream</c>, not zlib's <c>z_stream</c>. These exports are private
/// to the runtime: only <see cref="RuntimeZlibBackend"/> calls them, after <see cref="ZlibBackends"/> probed them.
/// </summary>
internal static partial class ZlibNative
{
    private const string Library = "libSystem.IO.Compression.Native";

    public const int Deflated = 8;          // Z_DEFLATED
    public const int DefaultStrategy = 0;   // Z_DEFAULT_STRATEGY

    public const int NoFlush = 0;           // Z_NO_FLUSH
    public const int SyncFlush = 2;         // Z_SYNC_FLUSH
    public const int FullFlush = 3;         // Z_FULL_FLUSH

    public const int Ok = 0;                // Z_OK
    public const int StreamEnd = 1;         // Z_STREAM_END
    public const int NeedDictionary = 2;    // Z_NEED_DICT
    public const int BufferError = -5;      // Z_BUF_ERROR: no progress possible (not fatal)

    /// <summary>The runtime's PAL_ZStream: the zlib state lives behind <see cref="InternalState"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct ZStream
    {
        public byte* NextIn;
        public byte* NextOut;
        public IntPtr Message;
        public IntPtr InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    [LibraryImport(Library, EntryPoint = "CompressionNative_DeflateInit2_")]
    public static unsafe partial int DeflateInit2(ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy);

    [LibraryImport(Library, EntryPoint = "CompressionNative_Deflate")]
    public static unsafe partial int Deflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "CompressionNative_DeflateEnd")]
    public static unsafe partial int DeflateEnd(ZStream* stream);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateInit2_")]
    public static unsafe partial int InflateInit2(ZStream* stream, int windowBits);

    [LibraryImport(Library, EntryPoint = "CompressionNative_Inflate")]
    public static unsafe partial int Inflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateReset2_")]
    public static unsafe partial int InflateReset2(ZStream* stream, int windowBits);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateEnd")]
    public static unsafe partial int InflateEnd(ZStream* stream);
}
