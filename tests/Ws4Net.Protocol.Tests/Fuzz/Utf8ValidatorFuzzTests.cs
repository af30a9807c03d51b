using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using Ws4Net.Protocol.Text;
using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// <see cref="Utf8Validator"/> against the BCL over random byte strings and random chunkings: it must
/// accept exactly the valid UTF-8 (all chunks pass and IsComplete iff <see cref="Utf8.IsValid"/>), and
/// fail exactly in the chunk that holds the first invalid byte (never earlier: that would reject a
/// prefix that can still become valid text; never later: fail-fast).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class Utf8ValidatorFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 20_000;

    [Fact]
    public void Fuzz()
    {
        FuzzRunner.Run(output, "utf8-validator", nameof(Utf8ValidatorFuzzTests), 0x5EED_0101, DefaultIterations, (rng, context) =>
        {
            byte[] input = Utf8Checks.Generate(rng);
            string target = string.Create(CultureInfo.InvariantCulture, $"utf8:{rng.NextSeed()}");
            context.Set(target, input);
            Utf8Checks.CheckInput(target, input);
        });
    }
}

internal static class Utf8Checks
{
    private static readonly byte[] InterestingBytes =
    [
        0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF,
        0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF,
    ];

    /// <summary>Valid text, corrupted valid text, truncated text, biased random bytes.</summary>
    public static byte[] Generate(FuzzRng rng)
    {
        var buffer = new ByteBuf();
        int kind = rng.Next(100);
        if (kind < 20)
        {
            int length = rng.SkewedLength(2000);
            for (int i = 0; i < length; i++)
            {
                buffer.Append(rng.Chance(60) ? InterestingBytes[rng.Next(InterestingBytes.Length)] : rng.NextByte());
            }

            return buffer.ToArray();
        }

        Utf8Reference.AppendValidText(rng, buffer, rng.SkewedLength(kind < 25 ? 20_000 : 600));
        if (kind < 35)
        {
            return buffer.ToArray();   // valid
        }

        var bytes = new List<byte>(buffer.ToArray());
        int mutations = rng.Chance(80) ? 1 : rng.Next(2, 5);
        for (int m = 0; m < mutations; m++)
        {
            int at = rng.Next(bytes.Count + 1);
            switch (rng.Next(6))
            {
                case 0:
                    bytes.InsertRange(at, Utf8Reference.InvalidSnippets[rng.Next(Utf8Reference.InvalidSnippets.Length)]);
                    break;
                case 1:
                    if (bytes.Count > 0)
                    {
                        bytes[Math.Min(at, bytes.Count - 1)] ^= (byte)(1 << rng.Next(8));
                    }

                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);   // truncate, maybe inside a code point
                    break;
                case 3:
                    if (bytes.Count > 0)
                    {
                        bytes[Math.Min(at, bytes.Count - 1)] = InterestingBytes[rng.Next(InterestingBytes.Length)];
                    }

                    break;
                case 4:
                    bytes.Insert(at, InterestingBytes[rng.Next(InterestingBytes.Length)]);
                    break;
                default:
                    if (bytes.Count > 0)
                    {
                        bytes.RemoveAt(Math.Min(at, bytes.Count - 1));   // drop one byte of a sequence
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Checks one input under the whole, byte-by-byte and three random chunkings (seeded by the target).</summary>
    public static void CheckInput(string target, byte[] input)
    {
        ulong seed = ulong.Parse(target["utf8:".Length..], CultureInfo.InvariantCulture);
        var rng = new FuzzRng(seed);
        int firstBad = Utf8Reference.FirstInvalidIndex(input);
        if (input.Length <= 64)
        {
            int brute = Utf8Reference.FirstInvalidIndexBruteForce(input);
            if (brute != firstBad)
            {
                throw Check.Fail($"test bug: reference first-invalid index {firstBad} but brute force says {brute}");
            }
        }

        bool valid = Utf8.IsValid(input);
        if (valid && firstBad >= 0)
        {
            throw Check.Fail($"test bug: Utf8.IsValid but first invalid index {firstBad}");
        }

        var chunks = new List<int>();
        for (int kind = 0; kind < 5; kind++)
        {
            chunks.Clear();
            string name;
            switch (kind)
            {
                case 0:
                    chunks.Add(input.Length);
                    name = "whole";
                    break;
                case 1:
                    if (input.Length > 4096)
                    {
                        continue;
                    }

                    chunks.AddRange(Enumerable.Repeat(1, input.Length));
                    name = "byte-by-byte";
                    break;
                default:
                    int left = input.Length;
                    while (left > 0)
                    {
                        int size = Math.Min(left, rng.Next(100) switch
                        {
                            < 8 => 0,
                            < 60 => rng.Next(1, 5),
                            < 90 => rng.Next(5, 40),
                            _ => rng.Next(40, 2000),
                        });
                        chunks.Add(size);
                        left -= size;
                    }

                    name = chunks.Count > 64 ? "random" : "random [" + EngineHarness.DescribeChunks(CollectionsMarshal.AsSpan(chunks)) + "]";
                    break;
            }

            CheckChunking(input, chunks, name, firstBad, valid);
        }
    }

    private static void CheckChunking(byte[] input, List<int> chunks, string name, int firstBad, bool valid)
    {
        var validator = default(Utf8Validator);
        int offset = 0;
        foreach (int size in chunks)
        {
            bool ok;
            try
            {
                ok = validator.Validate(input.AsSpan(offset, size));
            }
            catch (Exception ex)
            {
                throw Check.Fail($"Validate threw under chunking '{name}' at offset {offset}: {ex}");
            }

            bool containsFirstBad = firstBad >= offset && firstBad < offset + size;
            if (!ok)
            {
                if (!containsFirstBad)
                {
                    throw Check.Fail(firstBad < 0 || firstBad >= offset + size
                        ? $"Validate rejected the chunk at [{offset}, {offset + size}) under chunking '{name}' but the first invalid byte is at {firstBad} (-1: none; the text so far can still become valid)"
                        : $"Validate failed late: chunk at [{offset}, {offset + size}) under chunking '{name}', first invalid byte at {firstBad}");
                }

                // The state is undefined after a failure until Reset; after Reset it validates afresh.
                validator.Reset();
                if (!validator.Validate("ok \u00E9\u20AC\U0001F600"u8) || !validator.IsComplete)
                {
                    throw Check.Fail($"after Reset the validator rejects valid text (chunking '{name}')");
                }

                return;
            }

            if (containsFirstBad)
            {
                throw Check.Fail($"Validate accepted the chunk at [{offset}, {offset + size}) that holds the first invalid byte ({firstBad}) under chunking '{name}'");
            }

            offset += size;
        }

        if (firstBad >= 0)
        {
            throw Check.Fail($"every chunk passed although byte {firstBad} is invalid (chunking '{name}')");
        }

        if (validator.IsComplete != valid)
        {
            throw Check.Fail($"IsComplete={validator.IsComplete} at the end but Utf8.IsValid={valid} (chunking '{name}')");
        }
    }
}
