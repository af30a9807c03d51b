using System.Buffers.Binary;
using System.Text;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Mutates a generated frame stream. Frame-aware mutations first (duplicate, drop, swap or shuffle
/// frames, splice in frames of another stream, rewrite a header: opcode, FIN, RSV bits, mask bit,
/// announced length in any form including huge, over-the-limit and top-bit-set values, wrong masking
/// for the role), then byte-level ones (flip bits, set interesting bytes, insert/delete/duplicate/swap
/// ranges, truncate, extend with random bytes). A few inputs are pure random bytes.
/// </summary>
internal static class FrameMutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7D, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8A, 0x8F, 0xC0, 0xED, 0xF4, 0xFE, 0xFF];

    /// <summary>Returns the mutated bytes and a short description of what was done.</summary>
    public static byte[] Mutate(FuzzRng rng, GeneratedStream stream, Func<GeneratedStream> donor, WebSocketRole receiver, FrameProfile profile, out string description)
    {
        var log = new StringBuilder();
        if (rng.Chance(4))
        {
            int length = rng.Chance(80) ? rng.Next(0, 64) : rng.Next(64, 2048);
            description = "random bytes";
            return rng.Bytes(length);
        }

        List<byte[]> frames = stream.Frames.Select(f => f).ToList();
        int structural = rng.Chance(65) ? (rng.Chance(75) ? 1 : rng.Next(2, 5)) : 0;
        for (int i = 0; i < structural; i++)
        {
            StructuralMutation(rng, frames, donor, receiver, profile, log);
        }

        var bytes = new List<byte>(frames.Sum(f => f.Length) + 16);
        foreach (byte[] frame in frames)
        {
            bytes.AddRange(frame);
        }

        int byteLevel = structural == 0 ? rng.Next(1, 4) : rng.Next(0, 3);
        for (int i = 0; i < byteLevel; i++)
        {
            ByteMutation(rng, bytes, log);
        }

        description = log.ToString();
        return [.. bytes];
    }

    private static void StructuralMutation(FuzzRng rng, List<byte[]> frames, Func<GeneratedStream> donorFactory, WebSocketRole receiver, FrameProfile profile, StringBuilder log)
    {
        int op = rng.Next(100);
        if (frames.Count == 0 || op < 8)
        {
            // Splice in a frame of the other stream, or an arbitrary new one.
            GeneratedStream? donor = rng.NextBool() ? donorFactory() : null;
            byte[] frame = donor is { Frames.Count: > 0 }
                ? donor.Frames[rng.Next(donor.Frames.Count)]
                : FrameStreamGenerator.Frame(rng, rng.Next(16), rng.Bytes(rng.SkewedLength(300)), rng.NextBool(), rng.Chance(70) == (receiver == WebSocketRole.Server), -1);
            frames.Insert(rng.Next(frames.Count + 1), frame);
            log.Append("insert-frame;");
            return;
        }

        int index = rng.Next(frames.Count);
        switch (op)
        {
            case < 18:
                frames.Insert(rng.Next(frames.Count + 1), frames[index]);
                log.Append("duplicate-frame;");
                break;
            case < 26:
                frames.RemoveAt(index);
                log.Append("drop-frame;");
                break;
            case < 36:
                int other = rng.Next(frames.Count);
                (frames[index], frames[other]) = (frames[other], frames[index]);
                log.Append("swap-frames;");
                break;
            case < 40:
                rng.Shuffle(frames);
                log.Append("shuffle-frames;");
                break;
            case < 70:
                frames[index] = RewriteHeader(rng, frames[index], receiver, log);
                break;
            default:
                frames[index] = RewriteLength(rng, frames[index], profile, log);
                break;
        }
    }

    /// <summary>Changes the first header byte(s): opcode, FIN, RSV, mask bit (turning masking on or off with the payload re-encoded or not).</summary>
    private static byte[] RewriteHeader(FuzzRng rng, byte[] frame, WebSocketRole receiver, StringBuilder log)
    {
        if (frame.Length < 2)
        {
            return frame;
        }

        byte[] copy = (byte[])frame.Clone();
        switch (rng.Next(6))
        {
            case 0:
                copy[0] = (byte)((copy[0] & 0xF0) | rng.Next(16));
                log.Append("opcode;");
                break;
            case 1:
                copy[0] ^= 0x80;
                log.Append("fin;");
                break;
            case 2:
                copy[0] ^= (byte)(0x10 << rng.Next(3));
                log.Append("rsv;");
                break;
            case 3:
                copy[1] ^= 0x80;
                log.Append("mask-bit;");
                break;
            case 4:
                // Re-encode the same payload with the wrong masking for the role.
                if (TryParse(frame, out Header header))
                {
                    byte[] payload = Unmask(frame, header);
                    bool wrongMask = receiver != WebSocketRole.Server;
                    log.Append("wrong-masking;");
                    return FrameStreamGenerator.Frame(rng, frame[0] & 0x0F, payload, (frame[0] & 0x80) != 0, wrongMask, 0, (frame[0] >> 4) & 7);
                }

                break;
            default:
                copy[0] = InterestingBytes[rng.Next(InterestingBytes.Length)];
                copy[1] = (byte)((copy[1] & 0x80) | (rng.Next(4) == 0 ? rng.Next(126, 128) : copy[1] & 0x7F));
                log.Append("header-bytes;");
                break;
        }

        return copy;
    }

    /// <summary>Rewrites the announced payload length (the payload itself is kept, so the stream may desynchronize).</summary>
    private static byte[] RewriteLength(FuzzRng rng, byte[] frame, FrameProfile profile, StringBuilder log)
    {
        if (!TryParse(frame, out Header header))
        {
            return frame;
        }

        long maxMessage = Math.Min(profile.MaxMessageSize, long.MaxValue - 1);
        long maxFrame = Math.Min(profile.MaxFrameSize, long.MaxValue - 1);
        ulong[] candidates =
        [
            0, 1, 125, 126, 127, 0xFFFF, 0x10000,
            (ulong)maxFrame, (ulong)maxFrame + 1, (ulong)maxMessage, (ulong)maxMessage + 1,
            0x7FFFFFC7, 0x7FFFFFC8, int.MaxValue, uint.MaxValue, long.MaxValue, 1UL << 63, ulong.MaxValue,
            header.PayloadLength + 1, header.PayloadLength > 0 ? header.PayloadLength - 1 : 0,
            (ulong)rng.Next(0, 300), rng.NextULong(),
        ];
        ulong announced = candidates[rng.Next(candidates.Length)];
        int form = rng.Next(100) switch { < 60 => 0, < 80 => 2, _ => 8 };
        if (form == 0 && announced <= 125 && rng.Chance(20))
        {
            form = 2;
        }

        byte[] payload = Unmask(frame, header);
        bool masked = header.Masked;
        byte[] rebuilt = FrameStreamGenerator.Frame(rng, frame[0] & 0x0F, payload, (frame[0] & 0x80) != 0, masked, form == 0 ? 0 : form, (frame[0] >> 4) & 7, announced);
        log.Append("length=").Append(announced).Append(';');
        return rebuilt;
    }

    private static void ByteMutation(FuzzRng rng, List<byte> bytes, StringBuilder log)
    {
        int count = bytes.Count;
        int op = rng.Next(100);
        if (count == 0)
        {
            op = 90;
        }

        switch (op)
        {
            case < 20:
                {
                    int flips = rng.Chance(80) ? 1 : rng.Next(2, 9);
                    for (int i = 0; i < flips; i++)
                    {
                        int at = rng.Next(count);
                        bytes[at] ^= (byte)(1 << rng.Next(8));
                    }

                    log.Append("flip-bits;");
                    break;
                }

            case < 32:
                bytes[rng.Next(count)] = rng.Chance(60) ? InterestingBytes[rng.Next(InterestingBytes.Length)] : rng.NextByte();
                log.Append("set-byte;");
                break;
            case < 44:
                {
                    int cut = rng.Next(count + 1);
                    bytes.RemoveRange(cut, count - cut);
                    log.Append("truncate;");
                    break;
                }

            case < 54:
                {
                    int at = rng.Next(count + 1);
                    bytes.InsertRange(at, rng.Bytes(rng.Chance(70) ? rng.Next(1, 5) : rng.Next(5, 64)));
                    log.Append("insert-bytes;");
                    break;
                }

            case < 63:
                {
                    int at = rng.Next(count);
                    int length = Math.Min(count - at, rng.Chance(70) ? rng.Next(1, 5) : rng.Next(5, 128));
                    bytes.RemoveRange(at, length);
                    log.Append("delete-range;");
                    break;
                }

            case < 73:
                {
                    int at = rng.Next(count);
                    int length = Math.Min(count - at, rng.Next(1, 64));
                    byte[] range = bytes.GetRange(at, length).ToArray();
                    bytes.InsertRange(rng.Next(count + 1), range);
                    log.Append("duplicate-range;");
                    break;
                }

            case < 82:
                {
                    // Swap two non-overlapping chunks of equal length.
                    int length = Math.Max(1, Math.Min(count / 2, rng.Next(1, 32)));
                    if (count >= 2 * length)
                    {
                        int a = rng.Next(count - (2 * length) + 1);
                        int b = rng.Next(a + length, count - length + 1);
                        for (int i = 0; i < length; i++)
                        {
                            (bytes[a + i], bytes[b + i]) = (bytes[b + i], bytes[a + i]);
                        }
                    }

                    log.Append("swap-chunks;");
                    break;
                }

            case < 88:
                {
                    int at = rng.Next(count);
                    int length = Math.Min(count - at, rng.Next(1, 16));
                    for (int i = 0; i < length; i++)
                    {
                        bytes[at + i] = rng.NextByte();
                    }

                    log.Append("overwrite-range;");
                    break;
                }

            default:
                bytes.AddRange(rng.Bytes(rng.Chance(70) ? rng.Next(1, 8) : rng.Next(8, 200)));
                log.Append("extend;");
                break;
        }
    }

    private readonly record struct Header(bool Masked, int ExtendedLength, ulong PayloadLength, int HeaderLength);

    private static bool TryParse(byte[] frame, out Header header)
    {
        header = default;
        if (frame.Length < 2)
        {
            return false;
        }

        bool masked = (frame[1] & 0x80) != 0;
        int length7 = frame[1] & 0x7F;
        int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        int headerLength = 2 + extended + (masked ? 4 : 0);
        if (frame.Length < headerLength)
        {
            return false;
        }

        ulong length = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(2)),
            127 => BinaryPrimitives.ReadUInt64BigEndian(frame.AsSpan(2)),
            _ => (ulong)length7,
        };
        header = new Header(masked, extended, length, headerLength);
        return true;
    }

    /// <summary>The payload bytes actually present after the header, unmasked.</summary>
    private static byte[] Unmask(byte[] frame, Header header)
    {
        byte[] payload = frame.AsSpan(header.HeaderLength).ToArray();
        if (header.Masked)
        {
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] ^= frame[2 + header.ExtendedLength + (i & 3)];
            }
        }

        return payload;
    }
}
