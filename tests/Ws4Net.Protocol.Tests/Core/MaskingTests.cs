using Ws4Net.Protocol.Framing;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary><see cref="WebSocketMasking"/> against a naive byte loop (RFC 6455 §5.3).</summary>
public sealed class MaskingTests
{
    private static readonly byte[] Key = [0x37, 0xFA, 0x21, 0x3D];

    public static IEnumerable<int> Lengths => Enumerable.Range(0, 101).Concat([127, 128, 129, 255, 256, 257, 1000, 4099, 65536]);

    public static TheoryData<long> Offsets => [0L, 1L, 2L, 3L, 4L, 5L, 1023L, (1L << 40) + 3];

    private static byte[] Naive(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, long offset)
    {
        byte[] result = data.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            result[i] ^= key[(int)((offset + i) % 4)];
        }

        return result;
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Apply_MatchesNaiveLoop_AtEveryLength(long offset)
    {
        var random = new Random((int)offset + 17);
        foreach (int length in Lengths)
        {
            byte[] key = new byte[4];
            random.NextBytes(key);
            byte[] data = new byte[length];
            random.NextBytes(data);
            byte[] expected = Naive(data, key, offset);

            WebSocketMasking.Apply(data, key, offset);

            Assert.True(expected.AsSpan().SequenceEqual(data), $"length {length}, offset {offset}");
        }
    }

    [Fact]
    public void Apply_DefaultOffsetIsZero_AndRfcHelloMasksToRfcBytes()
    {
        byte[] hello = "Hello"u8.ToArray();
        WebSocketMasking.Apply(hello, Key);
        Assert.Equal("7F9F4D5158", Hex.Format(hello));
        WebSocketMasking.Apply(hello, Key);
        Assert.Equal("Hello"u8.ToArray(), hello);
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void ApplyCopy_EqualsApply_AndLeavesSourceIntact(long offset)
    {
        var random = new Random((int)offset + 31);
        foreach (int length in Lengths)
        {
            byte[] source = new byte[length];
            random.NextBytes(source);
            byte[] original = source.ToArray();
            byte[] inPlace = source.ToArray();
            WebSocketMasking.Apply(inPlace, Key, offset);

            byte[] destination = new byte[length + 8];
            destination.AsSpan().Fill(0xEE);
            WebSocketMasking.ApplyCopy(source, destination, Key, offset);

            Assert.True(inPlace.AsSpan().SequenceEqual(destination.AsSpan(0, length)), $"length {length}, offset {offset}");
            Assert.All(destination[length..], b => Assert.Equal(0xEE, b));
            Assert.Equal(original, source);

            // Source and destination may be the same memory.
            WebSocketMasking.ApplyCopy(source, source, Key, offset);
            Assert.Equal(inPlace, source);
        }
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void ApplyTwice_Restores(long offset)
    {
        var random = new Random((int)offset + 43);
        foreach (int length in Lengths)
        {
            byte[] key = new byte[4];
            random.NextBytes(key);
            byte[] data = new byte[length];
            random.NextBytes(data);
            byte[] original = data.ToArray();

            WebSocketMasking.Apply(data, key, offset);
            if (length >= 8 && key.Any(b => b != 0))
            {
                Assert.False(original.AsSpan().SequenceEqual(data));
            }

            WebSocketMasking.Apply(data, key, offset);
            Assert.Equal(original, data);
        }
    }

    [Fact]
    public void Apply_OnUnalignedSlices_TouchesOnlyTheSlice()
    {
        var random = new Random(5);
        byte[] buffer = new byte[300];
        for (int start = 0; start < 8; start++)
        {
            foreach (int length in new[] { 0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200 })
            {
                random.NextBytes(buffer);
                byte[] before = buffer.ToArray();
                for (long offset = 0; offset < 4; offset++)
                {
                    byte[] expected = Naive(before.AsSpan(start, length), Key, offset);
                    before.CopyTo(buffer, 0);

                    WebSocketMasking.Apply(buffer.AsSpan(start, length), Key, offset);

                    Assert.True(expected.AsSpan().SequenceEqual(buffer.AsSpan(start, length)));
                    Assert.True(before.AsSpan(0, start).SequenceEqual(buffer.AsSpan(0, start)));
                    Assert.True(before.AsSpan(start + length).SequenceEqual(buffer.AsSpan(start + length)));
                }
            }
        }
    }

    [Fact]
    public void Apply_InChunksWithRunningOffset_EqualsOneShot()
    {
        var random = new Random(8);
        byte[] data = new byte[70_000];
        random.NextBytes(data);
        byte[] expected = Naive(data, Key, 0);

        for (int seed = 0; seed < 10; seed++)
        {
            byte[] copy = data.ToArray();
            int pos = 0;
            foreach (int size in Chunkings.Random(copy.Length, seed))
            {
                WebSocketMasking.Apply(copy.AsSpan(pos, size), Key, pos);
                pos += size;
            }

            Assert.True(expected.AsSpan().SequenceEqual(copy), $"seed {seed}");
        }
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => WebSocketMasking.Apply(new byte[4], new byte[3]));
        Assert.Throws<ArgumentException>(() => WebSocketMasking.Apply(new byte[4], new byte[5]));
        Assert.Throws<ArgumentException>(() => WebSocketMasking.Apply(new byte[4], []));
        Assert.Throws<ArgumentException>(() => WebSocketMasking.ApplyCopy(new byte[4], new byte[4], new byte[2]));
        Assert.Throws<ArgumentException>(() => WebSocketMasking.ApplyCopy(new byte[5], new byte[4], Key));
    }

    [Fact]
    public void ToUInt32_IsBigEndian()
    {
        Assert.Equal(0x37FA213Du, WebSocketMasking.ToUInt32(Key));
        Assert.Equal(0x00000001u, WebSocketMasking.ToUInt32([0, 0, 0, 1]));
    }
}
