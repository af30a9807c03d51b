using System.IO.Compression;
using System.Text;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Mutates a generated compressed stream where permessage-deflate can go wrong: bit flips inside
/// compressed payloads, truncated compressed frames and streams, random bytes as compressed data,
/// RSV1 moved to a continuation or control frame, RSV1 cleared on a compressed message or set on an
/// uncompressed one, compression bombs (zero runs inflating past the message limit, one frame or spread
/// over many, behind a text prefix that may be invalid UTF-8), messages inflating to exactly the limit
/// and one byte more, DEFLATE data using a window larger than agreed, rewritten lengths, compressed
/// frames spliced from another stream; and, for a share of the inputs, the generic mutations of
/// <see cref="FrameMutator"/> on top.
/// </summary>
internal static class CompressedStreamMutator
{
    private static readonly Lazy<byte[]> s_megabyteBomb = new(() => BclZeros(1 << 20), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<byte[]> s_sixteenMegabyteBomb = new(() => BclZeros(16 << 20), LazyThreadSafetyMode.ExecutionAndPublication);

    public static byte[] Mutate(FuzzRng rng, CompressedStream stream, WebSocketRole receiver, FrameProfile profile, out string description)
    {
        var log = new StringBuilder();
        byte[] original = stream.Bytes.ToArray();
        List<WireFrameInfo> parsed = WireFrames.Parse(original, out int rest);
        var frames = parsed.Select(f => original.AsSpan(f.Offset, f.Length).ToArray()).ToList();
        byte[] junk = original.AsSpan(rest).ToArray();
        bool masked = receiver == WebSocketRole.Server;
        int window = 1 << stream.Agreement.ReceiveWindowBits(receiver);

        int count = rng.Chance(70) ? 1 : rng.Next(2, 4);
        bool truncateAtEnd = false;
        for (int m = 0; m < count; m++)
        {
            int op = rng.Next(100);
            int index = Pick(rng, parsed, f => f.Compressed && f.Payload.Length > 0);
            switch (op)
            {
                case < 20 when index >= 0:
                    {
                        // Flip 1-8 bits inside a compressed payload (masking is XOR: flipping the wire bit flips the payload bit).
                        byte[] frame = frames[index];
                        int flips = rng.Chance(75) ? 1 : rng.Next(2, 9);
                        for (int i = 0; i < flips; i++)
                        {
                            int at = parsed[index].HeaderLength + rng.Next(parsed[index].Payload.Length);
                            frame[at] ^= (byte)(1 << rng.Next(8));
                        }

                        log.Append("flip-compressed-bits;");
                        break;
                    }

                case < 28 when index >= 0:
                    {
                        // A compressed frame cut short, its length rewritten to match.
                        byte[] payload = parsed[index].Payload;
                        frames[index] = WireFrames.Rebuild(rng, parsed[index], payload.AsSpan(0, rng.Next(payload.Length)));
                        log.Append("truncate-compressed-frame;");
                        break;
                    }

                case < 33:
                    truncateAtEnd = true;
                    break;
                case < 43:
                    {
                        // Random bytes as compressed data: in place of a payload, or as a new message.
                        byte[] random = RandomDeflateLike(rng);
                        if (index >= 0 && rng.NextBool())
                        {
                            frames[index] = WireFrames.Rebuild(rng, parsed[index], random);
                            log.Append("random-compressed-payload;");
                        }
                        else
                        {
                            Insert(rng, frames, parsed, FrameStreamGenerator.Frame(rng, rng.NextBool() ? 1 : 2, random, true, masked, -1, 4));
                            log.Append("random-compressed-message;");
                        }

                        break;
                    }

                case < 50:
                    {
                        // RSV1 moved from a first frame to a continuation or a control frame.
                        int first = Pick(rng, parsed, f => f.Compressed && f.Opcode is 1 or 2);
                        int target = Pick(rng, parsed, f => f.Opcode == 0 || f.IsControl);
                        if (first >= 0)
                        {
                            frames[first][0] &= 0xBF;
                        }

                        if (target >= 0)
                        {
                            frames[target][0] |= 0x40;
                        }

                        log.Append("move-rsv1;");
                        break;
                    }

                case < 55:
                    {
                        int target = Pick(rng, parsed, f => f.Opcode == 0 || f.IsControl);
                        if (target >= 0)
                        {
                            frames[target][0] |= 0x40;
                        }

                        log.Append("rsv1-on-continuation-or-control;");
                        break;
                    }

                case < 61:
                    {
                        int first = Pick(rng, parsed, f => f.Compressed && f.Opcode is 1 or 2);
                        if (first >= 0)
                        {
                            frames[first][0] &= 0xBF;
                        }

                        log.Append("rsv1-off;");
                        break;
                    }

                case < 65:
                    {
                        int first = Pick(rng, parsed, f => !f.Compressed && f.Opcode is 1 or 2);
                        if (first >= 0)
                        {
                            frames[first][0] |= 0x40;
                        }

                        log.Append("rsv1-on-uncompressed;");
                        break;
                    }

                case < 77:
                    InsertMessage(rng, frames, parsed, masked, profile, Bomb(rng, profile, out bool bombText, log), bombText);
                    break;
                case < 81:
                    {
                        bool text = rng.NextBool();
                        long size = profile.MaxMessageSize + (rng.NextBool() ? 0 : 1);
                        byte[] data = new byte[size];
                        if (text)
                        {
                            data.AsSpan().Fill((byte)'z');
                        }

                        InsertMessage(rng, frames, parsed, masked, profile, new ReferenceDeflater(15).CompressMessage(rng, data, final: rng.Chance(10)), text);
                        log.Append(size == profile.MaxMessageSize ? "message-at-limit;" : "message-one-over-limit;");
                        break;
                    }

                case < 85 when window < 32768:
                    {
                        InsertMessage(rng, frames, parsed, masked, profile, WindowViolation(rng, window, out bool text), text);
                        log.Append("window-violation;");
                        break;
                    }

                case < 91 when index >= 0:
                    {
                        // The announced length rewritten, the payload kept (the stream desynchronizes).
                        long[] lengths = [0, 1, parsed[index].Payload.Length - 1, parsed[index].Payload.Length + 1, profile.MaxFrameSize, profile.MaxFrameSize + 1, profile.MaxMessageSize + 1, rng.Next(0, 70_000)];
                        long announced = Math.Max(0, lengths[rng.Next(lengths.Length)]);
                        WireFrameInfo f = parsed[index];
                        frames[index] = FrameStreamGenerator.Frame(rng, f.Opcode, f.Payload, f.Fin, f.Masked, rng.Chance(70) ? 0 : 8, f.Rsv, (ulong)announced);
                        log.Append("length=").Append(announced).Append(';');
                        break;
                    }

                case < 95:
                    {
                        // A compressed frame of another stream (another context) spliced in.
                        CompressedStream donor = CompressedStreamGenerator.Generate(rng, receiver, profile, stream.Agreement);
                        byte[] donorBytes = donor.Bytes.ToArray();
                        List<WireFrameInfo> donorFrames = WireFrames.Parse(donorBytes, out _);
                        int pick = Pick(rng, donorFrames, f => f.Compressed);
                        if (pick >= 0)
                        {
                            Insert(rng, frames, parsed, donorBytes.AsSpan(donorFrames[pick].Offset, donorFrames[pick].Length).ToArray());
                        }

                        log.Append("splice-compressed-frame;");
                        break;
                    }

                default:
                    {
                        var generic = new GeneratedStream();
                        generic.Frames.AddRange(frames);
                        if (junk.Length > 0)
                        {
                            generic.Frames.Add(junk);
                        }

                        FrameProfile frameProfile = profile;
                        byte[] bytes = FrameMutator.Mutate(rng, generic, () => CompressedAsGenerated(CompressedStreamGenerator.Generate(rng, receiver, profile, stream.Agreement)), receiver, frameProfile, out string genericLog);
                        log.Append("generic(").Append(genericLog).Append(");");
                        frames = [bytes];
                        parsed = [];
                        junk = [];
                        break;
                    }
            }

            {
                // Re-parse so that later mutations see the current frames.
                byte[] now = Concat(frames, junk);
                parsed = WireFrames.Parse(now, out int parsedUpTo);
                frames = parsed.Select(f => now.AsSpan(f.Offset, f.Length).ToArray()).ToList();
                junk = now.AsSpan(parsedUpTo).ToArray();
            }
        }

        byte[] result = Concat(frames, junk);
        if (truncateAtEnd && result.Length > 0)
        {
            // Cut inside compressed data when there is some, else anywhere.
            List<WireFrameInfo> now = WireFrames.Parse(result, out _);
            int at = Pick(rng, now, f => f.Compressed && f.Payload.Length > 0);
            int cut = at >= 0 ? now[at].Offset + now[at].HeaderLength + rng.Next(now[at].Payload.Length) : rng.Next(result.Length);
            result = result[..cut];
            log.Append("truncate-stream;");
        }

        description = log.ToString();
        return result;
    }

    private static GeneratedStream CompressedAsGenerated(CompressedStream stream)
    {
        var generated = new GeneratedStream();
        byte[] bytes = stream.Bytes.ToArray();
        List<WireFrameInfo> frames = WireFrames.Parse(bytes, out int rest);
        foreach (WireFrameInfo frame in frames)
        {
            generated.Frames.Add(bytes.AsSpan(frame.Offset, frame.Length).ToArray());
        }

        if (rest < bytes.Length)
        {
            generated.Frames.Add(bytes[rest..]);
        }

        return generated;
    }

    private static int Pick(FuzzRng rng, List<WireFrameInfo> frames, Func<WireFrameInfo, bool> where)
    {
        int matches = frames.Count(where);
        if (matches == 0)
        {
            return -1;
        }

        int n = rng.Next(matches);
        for (int i = 0; i < frames.Count; i++)
        {
            if (where(frames[i]) && n-- == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Inserts a frame before a random frame that starts a message or is a control frame (or at the end).</summary>
    private static void Insert(FuzzRng rng, List<byte[]> frames, List<WireFrameInfo> parsed, byte[] frame)
    {
        var slots = new List<int> { frames.Count };
        for (int i = 0; i < parsed.Count && i < frames.Count; i++)
        {
            if (parsed[i].Opcode is 1 or 2 || (parsed[i].IsControl && rng.Chance(30)))
            {
                slots.Add(i);
            }
        }

        frames.Insert(slots[rng.Next(slots.Count)], frame);
    }

    /// <summary>Inserts a whole compressed message (RSV1 on its first frame), fragmented at random, between messages.</summary>
    private static void InsertMessage(FuzzRng rng, List<byte[]> frames, List<WireFrameInfo> parsed, bool masked, FrameProfile profile, byte[] payload, bool text)
    {
        List<int> sizes = CompressedStreamGenerator.SplitIntoFrames(rng, payload.Length, (int)Math.Min(profile.MaxFrameSize, 70_000));
        if (rng.Chance(15))
        {
            // Spread over many small continuation frames.
            sizes = [];
            int step = rng.Next(1, 200);
            for (int at = 0; at < payload.Length; at += step)
            {
                sizes.Add(Math.Min(step, payload.Length - at));
            }

            if (sizes.Count == 0)
            {
                sizes.Add(0);
            }
        }

        var message = new ByteBuf(payload.Length + (sizes.Count * 14));
        int offset = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            message.Append(FrameStreamGenerator.Frame(rng, i == 0 ? (text ? 1 : 2) : 0, payload.AsSpan(offset, sizes[i]), i == sizes.Count - 1, masked, -1, i == 0 ? 4 : 0));
            offset += sizes[i];
        }

        Insert(rng, frames, parsed, message.ToArray());
    }

    /// <summary>A compressed payload inflating past the message limit: zero runs, after an optional prefix (for text, maybe invalid UTF-8).</summary>
    private static byte[] Bomb(FuzzRng rng, FrameProfile profile, out bool text, StringBuilder log)
    {
        text = rng.NextBool();
        int pick = rng.Next(100);
        if (pick < 25)
        {
            bool big = rng.Chance(30);
            log.Append(big ? "bomb-16MiB;" : "bomb-1MiB;");
            return big ? s_sixteenMegabyteBomb.Value : s_megabyteBomb.Value;
        }

        long over = rng.Next(100) switch
        {
            < 30 => 1,
            < 60 => rng.Next(2, 300),
            < 90 => rng.Next(300, (int)Math.Min(profile.MaxMessageSize, 1 << 20)),
            _ => 4 * profile.MaxMessageSize,
        };
        long size = profile.MaxMessageSize + over;
        var data = new byte[size];
        int prefix = 0;
        if (rng.Chance(40))
        {
            // A short prefix: random bytes (invalid UTF-8 for text, most of the time) or valid text.
            prefix = rng.Next(1, 17);
            if (rng.NextBool())
            {
                rng.NextBytes(data.AsSpan(0, prefix));
            }
            else
            {
                var valid = new ByteBuf();
                Utf8Reference.AppendValidText(rng, valid, prefix);
                valid.ReadOnlySpan.CopyTo(data);
            }
        }

        log.Append("bomb(+").Append(over).Append(prefix > 0 ? ", prefix" : string.Empty).Append(");");
        return rng.NextBool() ? new ReferenceDeflater(15).CompressMessage(rng, data, final: rng.Chance(10)) : BclCompress(data, CompressionLevel.Fastest);
    }

    /// <summary>A payload whose DEFLATE data refers further back than the agreed window (but within its own data).</summary>
    private static byte[] WindowViolation(FuzzRng rng, int window, out bool text)
    {
        text = rng.NextBool();
        int blockLength = window + rng.Next(1, Math.Min(32768 - window, 4096) + 1);
        var data = new ByteBuf(blockLength + 64);
        if (text)
        {
            Utf8Reference.AppendValidText(rng, data, blockLength);
        }
        else
        {
            rng.NextBytes(data.AppendSpan(blockLength));
        }

        byte[] block = data.ToArray();
        data.Append(block.AsSpan(0, Math.Min(block.Length, rng.Next(8, 64))));   // a repeat at distance blockLength > window
        return BclCompress(data.ToArray(), CompressionLevel.Optimal);
    }

    /// <summary>Random bytes, or DEFLATE-looking ones: a random block header followed by random bits.</summary>
    private static byte[] RandomDeflateLike(FuzzRng rng)
    {
        byte[] bytes = rng.Bytes(rng.Chance(80) ? rng.Next(0, 32) : rng.Next(32, 600));
        if (bytes.Length > 0 && rng.NextBool())
        {
            bytes[0] = (byte)((bytes[0] & 0xF8) | rng.Next(8));   // every block type and BFINAL value
        }

        return bytes;
    }

    private static byte[] BclZeros(int size) => BclCompress(new byte[size], CompressionLevel.Optimal);

    /// <summary>Raw DEFLATE with a sync flush, the 00 00 FF FF tail removed.</summary>
    private static byte[] BclCompress(byte[] data, CompressionLevel level)
    {
        using var buffer = new MemoryStream();
        using var deflate = new DeflateStream(buffer, level, leaveOpen: true);
        deflate.Write(data);
        deflate.Flush();
        byte[] all = buffer.ToArray();
        return all.AsSpan().EndsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFF, 0xFF]) ? all[..^4] : all;
    }

    private static byte[] Concat(List<byte[]> frames, byte[] junk)
    {
        var buffer = new ByteBuf(frames.Sum(f => f.Length) + junk.Length);
        foreach (byte[] frame in frames)
        {
            buffer.Append(frame);
        }

        buffer.Append(junk);
        return buffer.ToArray();
    }
}
