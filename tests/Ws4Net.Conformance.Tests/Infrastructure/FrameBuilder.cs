using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// Encodes frames byte-exactly as RFC 6455 §5.2 lays them out, including what a correct endpoint
/// would never send (reserved bits, reserved opcodes, oversized or fragmented control frames, a
/// wrong mask bit, a 64-bit length with the top bit set).
/// </summary>
public static class FrameBuilder
{
    /// <summary>Builds one frame.</summary>
    /// <param name="opcode">0-15.</param>
    /// <param name="payload">The payload (unmasked).</param>
    /// <param name="fin">The FIN bit.</param>
    /// <param name="rsv">RSV1..RSV3 as a 3-bit number (4 = RSV1, 2 = RSV2, 1 = RSV3).</param>
    /// <param name="maskKey">A 4-byte key to mask with (sets the MASK bit), or null for an unmasked frame.</param>
    /// <param name="declaredLength">A length to declare in the 64-bit form instead of the payload's (which is then not sent).</param>
    public static byte[] Build(int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, byte[]? maskKey = null, ulong? declaredLength = null)
    {
        int headerLength = 2;
        int length = payload.Length;
        if (declaredLength is not null)
        {
            headerLength += 8;
        }
        else if (length > 0xFFFF)
        {
            headerLength += 8;
        }
        else if (length >= 126)
        {
            headerLength += 2;
        }

        if (maskKey is not null)
        {
            headerLength += 4;
        }

        byte[] frame = new byte[headerLength + length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F));
        byte maskBit = maskKey is null ? (byte)0 : (byte)0x80;
        int pos = 2;
        if (declaredLength is { } declared)
        {
            frame[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), declared);
            pos = 10;
        }
        else if (length > 0xFFFF)
        {
            frame[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)length);
            pos = 10;
        }
        else if (length >= 126)
        {
            frame[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
            pos = 4;
        }
        else
        {
            frame[1] = (byte)(maskBit | length);
        }

        if (maskKey is not null)
        {
            maskKey.CopyTo(frame.AsSpan(pos));
            pos += 4;
        }

        payload.CopyTo(frame.AsSpan(pos));
        if (maskKey is not null)
        {
            Mask(frame.AsSpan(pos, length), maskKey, 0);
        }

        return frame;
    }

    /// <summary>XORs <paramref name="data"/> with the key, <paramref name="offset"/> being the position of data[0] in the payload.</summary>
    public static void Mask(Span<byte> data, ReadOnlySpan<byte> key, long offset)
    {
        int i = 0;
        int phase = (int)(offset & 3);
        if (data.Length >= 64)
        {
            // Rotate the key so that data[0] lines up with key[phase], then XOR 8 bytes at a time.
            Span<byte> rotated = stackalloc byte[8];
            for (int k = 0; k < 8; k++)
            {
                rotated[k] = key[(phase + k) & 3];
            }

            ulong wide = MemoryMarshal.Read<ulong>(rotated);
            Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
            for (int w = 0; w < words.Length; w++)
            {
                words[w] ^= wide;
            }

            i = words.Length * 8;
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= key[(phase + i) & 3];
        }
    }

    /// <summary>A close frame payload: the code (when given) and the reason bytes.</summary>
    public static byte[] ClosePayload(int? code, ReadOnlySpan<byte> reason = default)
    {
        if (code is null)
        {
            return [];
        }

        byte[] payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code.Value);
        reason.CopyTo(payload.AsSpan(2));
        return payload;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Concat(params byte[][] parts)
    {
        byte[] all = new byte[parts.Sum(p => p.Length)];
        int pos = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(all, pos);
            pos += part.Length;
        }

        return all;
    }
}
