using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ws4Net.Protocol.Framing;

/// <summary>
/// XOR masking of frame payloads with a 32-bit masking key (RFC 6455 §5.3). The same operation masks
/// and unmasks. Vectorized with <see cref="Vector512"/> / <see cref="Vector256"/> / <see cref="Vector128"/> where the hardware
/// allows, then 8 bytes and finally 1 byte at a time. Stateless and thread-safe; allocates nothing.
/// </summary>
/// <remarks>
/// The masking key is given as the 4 bytes exactly as they appear on the wire. <c>offset</c> is the
/// index, within the frame payload, of the first byte of <c>data</c>: payload byte <c>i</c> is XORed
/// with key byte <c>i % 4</c>, so a payload processed in several chunks stays correct.
/// </remarks>
internal static class WebSocketMasking
{
    /// <summary>Masks or unmasks <paramref name="data"/> in place.</summary>
    /// <param name="data">Payload bytes, modified in place.</param>
    /// <param name="maskingKey">The 4-byte masking key as sent on the wire.</param>
    /// <param name="offset">Index of <paramref name="data"/>[0] within the frame payload (bytes, ≥ 0).</param>
    /// <exception cref="ArgumentException"><paramref name="maskingKey"/> is not 4 bytes long.</exception>
    public static void Apply(Span<byte> data, ReadOnlySpan<byte> maskingKey, long offset = 0)
    {
        uint key = RotatedKey(maskingKey, offset);
        ApplyCore(ref MemoryMarshal.GetReference(data), ref MemoryMarshal.GetReference(data), (nuint)data.Length, key);
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> while masking it (one pass).</summary>
    /// <param name="source">Plain payload bytes.</param>
    /// <param name="destination">Receives the masked bytes; at least as long as <paramref name="source"/>. May be the same memory.</param>
    /// <param name="maskingKey">The 4-byte masking key as sent on the wire.</param>
    /// <param name="offset">Index of <paramref name="source"/>[0] within the frame payload (bytes, ≥ 0).</param>
    /// <exception cref="ArgumentException">The key is not 4 bytes, or <paramref name="destination"/> is too short.</exception>
    public static void ApplyCopy(ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> maskingKey, long offset = 0)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination is shorter than source.", nameof(destination));
        }

        uint key = RotatedKey(maskingKey, offset);
        ApplyCore(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination), (nuint)source.Length, key);
    }

    /// <summary>Returns the key as a native-order uint whose memory layout is the key rotated by <paramref name="offset"/> % 4.</summary>
    private static uint RotatedKey(ReadOnlySpan<byte> maskingKey, long offset)
    {
        if (maskingKey.Length != 4)
        {
            throw new ArgumentException("A masking key is exactly 4 bytes.", nameof(maskingKey));
        }

        int shift = (int)(offset & 3);
        Span<byte> rotated = stackalloc byte[4];
        rotated[0] = maskingKey[shift & 3];
        rotated[1] = maskingKey[(shift + 1) & 3];
        rotated[2] = maskingKey[(shift + 2) & 3];
        rotated[3] = maskingKey[(shift + 3) & 3];
        return MemoryMarshal.Read<uint>(rotated);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyCore(ref byte src, ref byte dst, nuint length, uint key)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<byte>.Count)
        {
            Vector512<byte> k = Vector512.Create(key).AsByte();
            nuint last = length - (nuint)Vector512<byte>.Count;
            for (; i <= last; i += (nuint)Vector512<byte>.Count)
            {
                (Vector512.LoadUnsafe(ref src, i) ^ k).StoreUnsafe(ref dst, i);
            }
        }

        if (Vector256.IsHardwareAccelerated && length - i >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> k = Vector256.Create(key).AsByte();
            nuint last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
            {
                (Vector256.LoadUnsafe(ref src, i) ^ k).StoreUnsafe(ref dst, i);
            }
        }

        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> k = Vector128.Create(key).AsByte();
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
            {
                (Vector128.LoadUnsafe(ref src, i) ^ k).StoreUnsafe(ref dst, i);
            }
        }

        ulong k64 = key | ((ulong)key << 32);
        for (; i + 8 <= length; i += 8)
        {
            ulong v = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), v ^ k64);
        }

        if (length - i >= 4)
        {
            uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), v ^ key);
            i += 4;
        }

        // i is a multiple of 4 here, so the key lines up with byte 0 of the rotated key again.
        Span<byte> keyBytes = stackalloc byte[4];
        MemoryMarshal.Write(keyBytes, in key);
        for (int j = 0; i < length; i++, j++)
        {
            Unsafe.Add(ref dst, i) = (byte)(Unsafe.Add(ref src, i) ^ keyBytes[j]);
        }
    }

    /// <summary>Reads a masking key from its 4 wire bytes as a big-endian number (for display and tests).</summary>
    /// <param name="maskingKey">The 4 key bytes.</param>
    /// <returns>The key as a 32-bit big-endian value.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maskingKey"/> is shorter than 4 bytes.</exception>
    public static uint ToUInt32(ReadOnlySpan<byte> maskingKey) => BinaryPrimitives.ReadUInt32BigEndian(maskingKey);
}
