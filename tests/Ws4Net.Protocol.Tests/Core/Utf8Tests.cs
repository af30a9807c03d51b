using System.Text;
using System.Text.Unicode;
using Ws4Net.Protocol.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>UTF-8 validation of text messages (RFC 6455 §5.6, §8.1): 1007 on invalid data, fail-fast.</summary>
public sealed class Utf8Tests
{
    public static TheoryData<WebSocketRole> Roles => [WebSocketRole.Server, WebSocketRole.Client];

    public static TheoryData<string> ValidTexts =>
    [
        "Hello",
        "κόσμε",
        "€",
        "\U0001D11E",
        "\uFFFE\uFFFF",
        "\U0010FFFF",
        "\u0080\u07FF\u0800\uD7FF\uE000\uFFFD",
        "a€\U0001D11Eñ\U0010FFFF\uFFFF!",
        "\U0001F600\U0001F601\U00010000",
        "日本語テキスト",
    ];

    [Theory]
    [MemberData(nameof(ValidTexts))]
    public void ValidText_SplitAtEveryBytePosition_AcrossTwoFragments(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            RunResult single = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.TextOp, bytes), randomChunkings: 2);
            Assert.Equal([RecordedEvent.Text(text)], single.Events);

            for (int k = 0; k <= bytes.Length; k++)
            {
                byte[] vector = Frames.Concat(
                    Frames.To(role, Frames.TextOp, bytes.AsSpan(0, k), fin: false),
                    Frames.To(role, Frames.Continuation, bytes.AsSpan(k)));

                RunResult r = ProtocolDriver.RunAllChunkings(role, vector, randomChunkings: 2);

                Assert.Equal([RecordedEvent.Text(text)], r.Events);
                Assert.Empty(r.Output);
            }
        }
    }

    [Fact]
    public void ValidText_SplitAtEveryPairOfPositions_AcrossThreeFragmentsWithPings()
    {
        string text = "a€\U0001D11E\uFFFF";
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            for (int i = 0; i <= bytes.Length; i++)
            {
                for (int j = i; j <= bytes.Length; j++)
                {
                    byte[] vector = Frames.Concat(
                        Frames.To(role, Frames.TextOp, bytes.AsSpan(0, i), fin: false),
                        Frames.To(role, Frames.PingOp, [(byte)i]),
                        Frames.To(role, Frames.Continuation, bytes.AsSpan(i, j - i), fin: false),
                        Frames.To(role, Frames.Continuation, bytes.AsSpan(j)));

                    RunResult r = ProtocolDriver.RunAllChunkings(role, vector, randomChunkings: 1);

                    Assert.Equal([RecordedEvent.Ping([(byte)i]), RecordedEvent.Text(text)], r.Events);

                    RunResult f = ProtocolDriver.RunAllChunkings(role, vector, new WebSocketProtocolOptions { DeliverFragments = true }, coalesceFragments: true, randomChunkings: 1);
                    List<RecordedEvent> expected = [];
                    if (i > 0)
                    {
                        expected.Add(RecordedEvent.Fragment(WebSocketMessageKind.Text, bytes[..i], false));
                    }

                    expected.Add(RecordedEvent.Ping([(byte)i]));
                    expected.Add(RecordedEvent.Fragment(WebSocketMessageKind.Text, bytes[i..], true));
                    Assert.Equal(expected, ProtocolDriver.Coalesce(f.Events));
                }
            }
        }
    }

    public static TheoryData<string> InvalidSequences =>
    [
        "C0 80",          // overlong NUL
        "C1 BF",          // overlong
        "E0 80 80",       // overlong
        "E0 9F BF",       // overlong
        "F0 80 80 80",    // overlong
        "F0 8F BF BF",    // overlong
        "ED A0 80",       // U+D800
        "ED BF BF",       // U+DFFF
        "ED A0 80 ED B0 80", // CESU-8 surrogate pair
        "F4 90 80 80",    // U+110000
        "F7 BF BF BF",    // above U+10FFFF
        "F5 80 80 80",
        "F8 88 80 80 80",
        "FC 84 80 80 80 80",
        "FE",
        "FF",
        "80",             // lone continuation
        "BF",
        "80 80",
        "C2 41",          // lead without continuation
        "E2 82 41",
        "E2 41",
        "F0 9F 98 41",
        "E2 82 AC 80",    // one continuation too many
    ];

    [Theory]
    [MemberData(nameof(InvalidSequences))]
    public void InvalidSequence_Fails1007_InOneFrameAndSplitAtEveryPosition(string hex)
    {
        byte[] payload = Frames.Concat("ab"u8.ToArray(), Hex.Parse(hex), "cd"u8.ToArray());
        Assert.False(Utf8.IsValid(payload));
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            ViolationTests.AssertFails(role, Frames.To(role, Frames.TextOp, payload), WebSocketCloseCode.InvalidPayloadData);
            for (int k = 0; k <= payload.Length; k++)
            {
                byte[] vector = Frames.Concat(
                    Frames.To(role, Frames.TextOp, payload.AsSpan(0, k), fin: false),
                    Frames.To(role, Frames.Continuation, payload.AsSpan(k)));
                ViolationTests.AssertFails(role, vector, WebSocketCloseCode.InvalidPayloadData);
            }
        }
    }

    [Theory]
    [InlineData("E2 82")]
    [InlineData("E2")]
    [InlineData("C2")]
    [InlineData("DF")]
    [InlineData("F0 9F 98")]
    [InlineData("F0 9F")]
    [InlineData("F0")]
    [InlineData("F4 8F BF")]
    [InlineData("EF BF")]
    public void TruncatedSequenceAtMessageEnd_Fails1007(string hex)
    {
        byte[] tail = Hex.Parse(hex);
        byte[] payload = Frames.Concat("ab"u8.ToArray(), tail);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            ViolationTests.AssertFails(role, Frames.To(role, Frames.TextOp, payload), WebSocketCloseCode.InvalidPayloadData);
            ViolationTests.AssertFails(role, Frames.To(role, Frames.TextOp, tail), WebSocketCloseCode.InvalidPayloadData);

            // Split over fragments; also ended by an empty final fragment.
            ViolationTests.AssertFails(
                role,
                Frames.Concat(Frames.To(role, Frames.TextOp, "ab"u8, fin: false), Frames.To(role, Frames.Continuation, tail)),
                WebSocketCloseCode.InvalidPayloadData);
            ViolationTests.AssertFails(
                role,
                Frames.Concat(Frames.To(role, Frames.TextOp, payload, fin: false), Frames.To(role, Frames.Continuation, [])),
                WebSocketCloseCode.InvalidPayloadData);

            // With DeliverFragments too: the fragment before the end is delivered, then the failure.
            var options = new WebSocketProtocolOptions { DeliverFragments = true };
            RunResult r = ProtocolDriver.RunAllChunkings(
                role,
                Frames.Concat(Frames.To(role, Frames.TextOp, payload, fin: false), Frames.To(role, Frames.Continuation, [])),
                options,
                coalesceFragments: true);
            Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData), r.Events[^1]);
            OutputAssert.SingleClose(role, r.Output, 1007);
        }
    }

    [Theory]
    [InlineData("41 F4 90")]
    [InlineData("F4 90")]
    [InlineData("41 ED A0")]
    [InlineData("ED A0")]
    [InlineData("41 C0")]
    [InlineData("C0")]
    [InlineData("41 C0 41")]
    [InlineData("C1")]
    [InlineData("E0 80")]
    [InlineData("E0 9F")]
    [InlineData("F0 80")]
    [InlineData("F0 8F")]
    [InlineData("F5")]
    [InlineData("FF")]
    [InlineData("80")]
    [InlineData("41 E2 41")]
    [InlineData("E2 82 AC 82")]
    public void FailFast_NonFinalTextFrame_FailsBeforeAnyFurtherFragment(string hex)
    {
        byte[] payload = Hex.Parse(hex);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            // Only the non-final frame is fed: no continuation ever arrives.
            ViolationTests.AssertFails(role, Frames.To(role, Frames.TextOp, payload, fin: false), WebSocketCloseCode.InvalidPayloadData);

            // Same in a continuation frame (the message started validly).
            ViolationTests.AssertFails(
                role,
                Frames.Concat(Frames.To(role, Frames.TextOp, "ok"u8, fin: false), Frames.To(role, Frames.Continuation, payload, fin: false)),
                WebSocketCloseCode.InvalidPayloadData);

            // With DeliverFragments: valid bytes before the bad one may be delivered, depending on the chunking.
            AssertFailsAfterValidFragments(role, Frames.To(role, Frames.TextOp, payload, fin: false), payload);
        }
    }

    /// <summary>
    /// With DeliverFragments, under every chunking: some Fragment events whose bytes are a valid prefix
    /// of <paramref name="payload"/>, then Failed 1007, and exactly one close frame with 1007.
    /// </summary>
    private static void AssertFailsAfterValidFragments(WebSocketRole role, byte[] vector, byte[] payload)
    {
        var chunkings = new List<int[]> { Chunkings.Whole(vector.Length), Chunkings.ByteByByte(vector.Length) };
        chunkings.AddRange(Enumerable.Range(1, 4).Select(seed => Chunkings.Random(vector.Length, seed)));
        foreach (int[] chunks in chunkings)
        {
            RunResult r = ProtocolDriver.Run(role, vector, chunks, new WebSocketProtocolOptions { DeliverFragments = true });
            Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.InvalidPayloadData), r.Events[^1]);
            Assert.All(r.Events.SkipLast(1), e => Assert.Equal(WebSocketEventType.Fragment, e.Type));
            Assert.All(r.Events.SkipLast(1), e => Assert.False(e.EndOfMessage));
            byte[] delivered = r.Events.SkipLast(1).SelectMany(e => e.Payload).ToArray();
            Assert.True(payload.AsSpan().StartsWith(delivered));
            Assert.True(IsValidPrefix(delivered));
            OutputAssert.SingleClose(role, r.Output, 1007);
            Assert.True(r.ReceiveCompleted);
        }
    }

    [Theory]
    [InlineData("41 F4 90")]
    [InlineData("41 ED A0")]
    [InlineData("41 C0")]
    public void FailFast_InsideAFrame_FailsBeforeTheRestOfThePayload(string hex)
    {
        byte[] prefix = Hex.Parse(hex);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            // A final frame announcing 40 bytes; only its header and the first bytes arrive.
            byte[] full = Frames.To(role, Frames.TextOp, Frames.Concat(prefix, Enumerable.Repeat((byte)'a', 40 - prefix.Length).ToArray()));
            int headerLength = role == WebSocketRole.Server ? 6 : 2;
            byte[] partial = full[..(headerLength + prefix.Length)];

            ViolationTests.AssertFails(role, partial, WebSocketCloseCode.InvalidPayloadData);
            AssertFailsAfterValidFragments(role, partial, prefix);
        }
    }

    [Theory]
    [InlineData("41 F4 8F")]
    [InlineData("F4")]
    [InlineData("41 ED 9F")]
    [InlineData("E0 A0")]
    [InlineData("F0 90")]
    [InlineData("F0 90 80")]
    [InlineData("E2 82")]
    [InlineData("C2")]
    public void ValidPrefixOfANonFinalFrame_DoesNotFail(string hex)
    {
        byte[] payload = Hex.Parse(hex);
        foreach (WebSocketRole role in new[] { WebSocketRole.Server, WebSocketRole.Client })
        {
            RunResult r = ProtocolDriver.RunAllChunkings(role, Frames.To(role, Frames.TextOp, payload, fin: false));

            Assert.Empty(r.Events);
            Assert.Empty(r.Output);
            Assert.False(r.ReceiveCompleted);
            Assert.Equal(WebSocketProtocolState.Open, r.State);
        }
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void BinaryMessages_AreNotValidated(WebSocketRole role)
    {
        byte[] payload = Hex.Parse("C0 80 ED A0 80 FF F4 90");
        RunResult r = ProtocolDriver.RunAllChunkings(
            role,
            Frames.Concat(Frames.To(role, Frames.BinaryOp, payload, fin: false), Frames.To(role, Frames.Continuation, "E2"u8)));

        Assert.Equal([RecordedEvent.Binary([.. payload, .. "E2"u8.ToArray()])], r.Events);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void ValidatorIsResetBetweenMessages(WebSocketRole role)
    {
        // A failed-looking tail in a binary message must not leak into the next text message, and a
        // text message ending exactly on a code point leaves no state behind.
        byte[] vector = Frames.Concat(
            Frames.To(role, Frames.BinaryOp, Hex.Parse("E2 82")),
            Frames.To(role, Frames.TextOp, Hex.Parse("41")),
            Frames.To(role, Frames.TextOp, "€"u8),
            Frames.To(role, Frames.TextOp, Hex.Parse("41")));

        RunResult r = ProtocolDriver.RunAllChunkings(role, vector);

        Assert.Equal([RecordedEvent.Binary(Hex.Parse("E2 82")), RecordedEvent.Text("A"), RecordedEvent.Text("€"), RecordedEvent.Text("A")], r.Events);
    }

    // ---------------------------------------------------------------------------------------
    // Utf8Validator directly
    // ---------------------------------------------------------------------------------------

    public static TheoryData<string> ValidatorSamples =>
    [
        string.Empty,
        "41",
        "E2 82 AC",
        "E2 82 AC F0 9D 84 9E 61",
        "F4 8F BF BF EF BF BE EF BF BF",
        "C2 80 DF BF E0 A0 80 ED 9F BF",
        "EE 80 80 F0 90 80 80 41",
        "C0 80 41",
        "E0 80 80",
        "F0 80 80 80",
        "ED A0 80 41",
        "ED BF BF",
        "F4 90 80 80",
        "F5 80 80 80",
        "41 80 41",
        "41 E2 82",
        "F0 9F 98",
        "E2 82 AC 80 41",
        "C2 C2 80",
        "FF FE 41 42",
        "41 42 43 44 45 46 47 48 49 4A 4B E2",
        "F0 9F 98 80 F0 9F 98 81 C3",
    ];

    [Theory]
    [MemberData(nameof(ValidatorSamples))]
    public void Validator_EveryChunkingAgreesWithUtf8IsValid_AndFailsFast(string hex)
    {
        byte[] bytes = Hex.Parse(hex);
        Assert.InRange(bytes.Length, 0, 13);
        bool expected = Utf8.IsValid(bytes);
        int cuts = Math.Max(0, bytes.Length - 1);
        for (int mask = 0; mask < 1 << cuts; mask++)
        {
            var sizes = new List<int>();
            int previous = 0;
            for (int i = 0; i < cuts; i++)
            {
                if ((mask & (1 << i)) != 0)
                {
                    sizes.Add(i + 1 - previous);
                    previous = i + 1;
                }
            }

            sizes.Add(bytes.Length - previous);
            Assert.Equal(expected, RunValidator(bytes, sizes));
        }
    }

    [Fact]
    public void Validator_RandomStrings_RandomChunkings_AgreeWithUtf8IsValid_AndFailFast()
    {
        var random = new Random(6455);
        int valid = 0;
        for (int n = 0; n < 6000; n++)
        {
            byte[] bytes = RandomCandidate(random);
            bool expected = Utf8.IsValid(bytes);
            valid += expected ? 1 : 0;
            for (int c = 0; c < 4; c++)
            {
                Assert.Equal(expected, RunValidator(bytes, RandomSmallChunks(random, bytes.Length)));
            }

            Assert.Equal(expected, RunValidator(bytes, [bytes.Length]));
        }

        // The generator must exercise both outcomes substantially.
        Assert.InRange(valid, 1000, 5000);
    }

    [Fact]
    public void Validator_LongTexts_ChunkedAnywhere()
    {
        var random = new Random(42);
        for (int n = 0; n < 200; n++)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(RoundTripTests.RandomText(random, random.Next(0, 3000)));
            Assert.True(RunValidator(bytes, Chunkings.Random(bytes.Length, n)));
            if (bytes.Length > 0)
            {
                int at = random.Next(bytes.Length);
                byte[] broken = bytes.ToArray();
                broken[at] = (byte)random.Next(0x80, 0x100);
                Assert.Equal(Utf8.IsValid(broken), RunValidator(broken, Chunkings.Random(broken.Length, n + 7)));
            }
        }
    }

    [Fact]
    public void Validator_ResetForgetsAPartialCodePoint()
    {
        var v = default(Utf8Validator);
        Assert.True(v.IsComplete);
        Assert.True(v.Validate(Hex.Parse("41 E2 82")));
        Assert.False(v.IsComplete);
        Assert.True(v.Validate([]));
        Assert.False(v.IsComplete);

        v.Reset();
        Assert.True(v.IsComplete);
        Assert.True(v.Validate("A"u8));
        Assert.True(v.IsComplete);

        Assert.True(v.Validate(Hex.Parse("F0")));
        Assert.True(v.Validate(Hex.Parse("9D")));
        Assert.True(v.Validate(Hex.Parse("84")));
        Assert.False(v.IsComplete);
        Assert.True(v.Validate(Hex.Parse("9E 41")));
        Assert.True(v.IsComplete);

        v.Reset();
        Assert.False(v.Validate(Hex.Parse("ED A0")));
        v.Reset();
        Assert.True(v.Validate("ok"u8));
        Assert.True(v.IsComplete);
    }

    /// <summary>
    /// Feeds the chunks and checks after every chunk that the validator still accepts exactly when the
    /// bytes so far are a prefix of some valid UTF-8 text (fail-fast, and no false alarm). Returns the
    /// validator's verdict on the whole text.
    /// </summary>
    private static bool RunValidator(byte[] bytes, IEnumerable<int> sizes)
    {
        var v = default(Utf8Validator);
        int pos = 0;
        foreach (int size in sizes)
        {
            bool ok = v.Validate(bytes.AsSpan(pos, size));
            pos += size;
            bool canStillBeValid = IsValidPrefix(bytes.AsSpan(0, pos));
            Assert.True(ok == canStillBeValid, $"after {pos} of {Hex.Format(bytes)} (chunks {string.Join(",", sizes)}): validator says {ok}, a valid continuation {(canStillBeValid ? "exists" : "does not exist")}");
            if (!ok)
            {
                return false;
            }
        }

        Assert.Equal(bytes.Length, pos);
        return v.IsComplete;
    }

    /// <summary>Whether some (possibly empty) continuation makes <paramref name="prefix"/> valid UTF-8.</summary>
    private static bool IsValidPrefix(ReadOnlySpan<byte> prefix)
    {
        if (Utf8.IsValid(prefix))
        {
            return true;
        }

        // An incomplete final code point needs 1-3 continuation bytes; only the first can be range-restricted.
        byte[] buffer = new byte[prefix.Length + 3];
        prefix.CopyTo(buffer);
        for (int extra = 1; extra <= 3; extra++)
        {
            for (int first = 0x80; first <= 0xBF; first++)
            {
                buffer[prefix.Length] = (byte)first;
                buffer[prefix.Length + 1] = 0x80;
                buffer[prefix.Length + 2] = 0x80;
                if (Utf8.IsValid(buffer.AsSpan(0, prefix.Length + extra)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static readonly byte[][] Tokens =
    [
        [0x41], [0x7F], [0x00], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
        [0xEF, 0xBF, 0xBF], [0xEF, 0xBF, 0xBE], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF3, 0xBF, 0xBF, 0xBF],
        [0xC0], [0xC1], [0xC2], [0xE0], [0xED], [0xEF], [0xF0], [0xF4], [0xF5], [0xFF], [0x80], [0x8F], [0x90], [0x9F], [0xA0], [0xBF],
    ];

    private static byte[] RandomCandidate(Random random)
    {
        switch (random.Next(3))
        {
            case 0:
            {
                var bytes = new byte[random.Next(0, 24)];
                random.NextBytes(bytes);
                return bytes;
            }

            case 1:
            {
                byte[] bytes = Encoding.UTF8.GetBytes(RoundTripTests.RandomText(random, random.Next(0, 80)));
                int mutations = random.Next(0, 3);
                for (int i = 0; i < mutations && bytes.Length > 0; i++)
                {
                    byte[] token = Tokens[random.Next(Tokens.Length)];
                    bytes[random.Next(bytes.Length)] = token[0];
                }

                return bytes;
            }

            default:
            {
                var list = new List<byte>();
                int count = random.Next(0, 12);
                for (int i = 0; i < count; i++)
                {
                    // Mostly valid tokens so that valid texts and late errors are frequent.
                    byte[] token = random.Next(4) == 0 ? Tokens[random.Next(13, Tokens.Length)] : Tokens[random.Next(0, 13)];
                    list.AddRange(token);
                }

                return [.. list];
            }
        }
    }

    private static List<int> RandomSmallChunks(Random random, int length)
    {
        var sizes = new List<int>();
        int left = length;
        while (left > 0)
        {
            int size = Math.Min(left, random.Next(10) == 0 ? 0 : random.Next(1, 9));
            sizes.Add(size);
            left -= size;
        }

        if (random.Next(5) == 0)
        {
            sizes.Add(0);
        }

        return sizes;
    }
}
