using System.Buffers.Binary;

namespace Ws4Net.Cli.Bench;

/// <summary>Builds masked client frames (RFC 6455 §5.2-5.3) once, for reuse. Thread-safe (stateless).</summary>
internal static class ClientFrames
{
    /// <summary>Opcode of a text frame.</summary>
    public const byte Text = 0x1;

    /// <summary>Opcode of a binary frame.</summary>
    public const byte Binary = 0x2;

    /// <summary>Opcode of a close frame.</summary>
    public const byte Close = 0x8;

    /// <summary>Gets the length of a masked frame's header (2 + extended length + 4 mask bytes).</summary>
    /// <param name="payloadLength">Payload length in bytes.</param>
    /// <returns>The header length in bytes.</returns>
    public static int HeaderLength(int payloadLength) => payloadLength < 126 ? 6 : payloadLength <= ushort.MaxValue ? 8 : 14;

    /// <summary>Gets the length of a whole masked frame.</summary>
    /// <param name="payloadLength">Payload length in bytes.</param>
    /// <returns>The frame length in bytes.</returns>
    public static int FrameLength(int payloadLength) => HeaderLength(payloadLength) + payloadLength;

    /// <summary>Writes one final masked frame.</summary>
    /// <param name="destination">At least <see cref="FrameLength"/> bytes.</param>
    /// <param name="opcode">The opcode.</param>
    /// <param name="payload">The unmasked payload.</param>
    /// <param name="mask">The masking key.</param>
    /// <returns>The number of bytes written.</returns>
    public static int Write(Span<byte> destination, byte opcode, ReadOnlySpan<byte> payload, uint mask)
    {
        int header = HeaderLength(payload.Length);
        destination[0] = (byte)(0x80 | opcode);
        if (payload.Length < 126)
        {
            destination[1] = (byte)(0x80 | payload.Length);
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payload.Length);
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination[(header - 4)..], mask);
        Mask(payload, destination.Slice(header, payload.Length), mask, 0);
        return header + payload.Length;
    }

    /// <summary>Writes <paramref name="source"/> XOR the masking key into <paramref name="destination"/>.</summary>
    /// <param name="source">Unmasked bytes.</param>
    /// <param name="destination">As long as <paramref name="source"/>; may be the same memory.</param>
    /// <param name="mask">The masking key (big-endian on the wire).</param>
    /// <param name="offset">Position of <paramref name="source"/>'s first byte within the payload.</param>
    public static void Mask(ReadOnlySpan<byte> source, Span<byte> destination, uint mask, int offset)
    {
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(key, mask);
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (byte)(source[i] ^ key[(offset + i) & 3]);
        }
    }

    /// <summary>Builds a masked close frame with status 1000.</summary>
    /// <param name="mask">The masking key.</param>
    /// <returns>The frame bytes.</returns>
    public static byte[] NormalClosure(uint mask)
    {
        byte[] frame = new byte[FrameLength(2)];
        Write(frame, Close, [0x03, 0xE8], mask);
        return frame;
    }
}
