using System.Buffers.Binary;

namespace Ws4Net.Protocol.Framing;

/// <summary>
/// Writes frame headers (RFC 6455 §5.2) with the minimal length encoding: 7-bit lengths up to 125
/// bytes, 16-bit up to 65,535, 64-bit above. Stateless and thread-safe; allocates nothing.
/// </summary>
internal static class WebSocketFrameEncoder
{
    /// <summary>The largest frame header: 2 + 8 (64-bit length) + 4 (masking key) bytes.</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>Largest payload of a control frame (bytes, RFC 6455 §5.5).</summary>
    public const int MaxControlPayloadLength = 125;

    /// <summary>Returns the header length in bytes for a payload of <paramref name="payloadLength"/> bytes.</summary>
    /// <param name="payloadLength">Payload length in bytes (0 to 2^63-1).</param>
    /// <param name="masked">Whether a 4-byte masking key follows the length.</param>
    /// <returns>2 to 14.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="payloadLength"/> is negative.</exception>
    public static int GetHeaderLength(long payloadLength, bool masked)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        int length = payloadLength <= 125 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;
        return masked ? length + 4 : length;
    }

    /// <summary>Writes a frame header.</summary>
    /// <param name="destination">At least <see cref="GetHeaderLength"/> bytes.</param>
    /// <param name="opcode">The frame's opcode.</param>
    /// <param name="fin">The FIN bit: this is the final frame of its message.</param>
    /// <param name="rsv1">The RSV1 bit (set only by a negotiated extension, RFC 7692 for example).</param>
    /// <param name="payloadLength">Payload length in bytes.</param>
    /// <param name="maskingKey">Empty for an unmasked (server) frame, or the 4-byte masking key.</param>
    /// <returns>The number of bytes written (2 to 14).</returns>
    /// <exception cref="ArgumentException">The key is neither empty nor 4 bytes, or the destination is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="payloadLength"/> is negative.</exception>
    public static int WriteHeader(Span<byte> destination, WebSocketOpcode opcode, bool fin, bool rsv1, long payloadLength, ReadOnlySpan<byte> maskingKey)
    {
        if (maskingKey.Length is not (0 or 4))
        {
            throw new ArgumentException("A masking key is exactly 4 bytes.", nameof(maskingKey));
        }

        int length = GetHeaderLength(payloadLength, !maskingKey.IsEmpty);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too short for the frame header.", nameof(destination));
        }

        destination[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (byte)opcode);
        byte maskBit = maskingKey.IsEmpty ? (byte)0 : (byte)0x80;
        int pos;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)(maskBit | (byte)payloadLength);
            pos = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            pos = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            pos = 10;
        }

        if (!maskingKey.IsEmpty)
        {
            maskingKey.CopyTo(destination[pos..]);
        }

        return length;
    }

    /// <summary>
    /// Writes one whole frame (RFC 6455 §5.2): the header, then the payload, masked with
    /// <paramref name="maskingKey"/> when one is given (§5.3). This is the single frame writer that the
    /// protocol engine and prepared messages use.
    /// </summary>
    /// <param name="destination">At least <see cref="GetHeaderLength"/> + <paramref name="payload"/>.Length bytes.</param>
    /// <param name="opcode">The frame's opcode.</param>
    /// <param name="fin">The FIN bit.</param>
    /// <param name="rsv1">The RSV1 bit (permessage-deflate marks the first frame of a compressed message, RFC 7692 §6).</param>
    /// <param name="payload">The payload bytes, copied (and masked) into <paramref name="destination"/>.</param>
    /// <param name="maskingKey">Empty for an unmasked (server) frame, or the 4-byte masking key.</param>
    /// <returns>The number of bytes written: header plus payload.</returns>
    /// <exception cref="ArgumentException">The key is neither empty nor 4 bytes, or the destination is too short.</exception>
    public static int WriteFrame(Span<byte> destination, WebSocketOpcode opcode, bool fin, bool rsv1, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> maskingKey)
    {
        int headerLength = WriteHeader(destination, opcode, fin, rsv1, payload.Length, maskingKey);
        Span<byte> body = destination[headerLength..];
        if (body.Length < payload.Length)
        {
            throw new ArgumentException("Destination too short for the frame.", nameof(destination));
        }

        if (maskingKey.IsEmpty)
        {
            payload.CopyTo(body);
        }
        else
        {
            WebSocketMasking.ApplyCopy(payload, body, maskingKey);
        }

        return headerLength + payload.Length;
    }
}
