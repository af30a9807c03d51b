using System.Diagnostics;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Tests.Core;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>
/// Compression bombs (RFC 7692 §8.1 leaves the limits to the implementation; notes: "the size limits
/// apply to the DECOMPRESSED message"): 1 GiB of zeros deflated by a real zlib (the runtime's, through
/// <see cref="System.IO.Compression.DeflateStream"/>, which ends the stream with a BFINAL block, valid
/// input for a permessage-deflate receiver) is about 1 MB, under a 1 MiB limit on the wire. The engine
/// must stop inflating at the limit with 1009, fast, without buffering more than about twice the limit.
/// Deflate cannot do better than about 1032:1, so "a few KiB for 1 GiB" is not possible with one pass.
/// </summary>
public sealed class CompressionBombTests
{
    private const int Limit = 1 << 20;

    [Fact]
    public void The_bomb_is_a_real_one()
    {
        byte[] bomb = DeflateKit.GibibyteBomb;
        Assert.InRange(bomb.Length, 1000, Limit);   // fits under the limit compressed: only inflation can catch it
        byte[] head = new byte[1 << 16];
        using var inflate = new System.IO.Compression.DeflateStream(new MemoryStream(bomb), System.IO.Compression.CompressionMode.Decompress);
        inflate.ReadExactly(head);
        Assert.All(head, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(WebSocketRole.Client)]
    [InlineData(WebSocketRole.Server)]
    public void One_frame_bomb_is_stopped_at_the_limit_quickly_and_within_twice_the_limit_of_memory(WebSocketRole receiver)
    {
        byte[] bomb = DeflateKit.GibibyteBomb;
        byte[] wire = DeflateKit.Frame(receiver, Frames.BinaryOp, bomb, rsv: 4);
        var options = new WebSocketProtocolOptions { MaxMessageSize = Limit };

        // Measured on a fresh thread so that the array pool's per-thread cache starts empty for it.
        long allocated = 0;
        TimeSpan elapsed = default;
        WebSocketEvent e = default;
        int consumed = 0;
        bool produced = false;
        var thread = new Thread(() =>
        {
            using var rx = new WebSocketProtocol(receiver, options, DeflateKit.Agreement(false, false));
            Memory<byte> input = wire;
            var clock = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            produced = rx.TryReadEvent(input, out consumed, out e);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            elapsed = clock.Elapsed;
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the engine is still inflating the bomb after 60 s");

        Assert.True(produced);
        Assert.Equal(WebSocketEventType.Failed, e.Type);
        Assert.Equal(WebSocketCloseCode.MessageTooBig, e.CloseCode);
        Assert.Equal(wire.Length, consumed);
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"stopping the bomb took {elapsed.TotalMilliseconds:0} ms");
        Assert.True(allocated <= (2L * Limit) + (64 * 1024), $"the engine allocated {allocated:N0} bytes ({(double)allocated / Limit:0.00}x the {Limit:N0}-byte limit) to stop the bomb");
    }

    [Theory]
    [InlineData(WebSocketRole.Client)]
    [InlineData(WebSocketRole.Server)]
    public void One_frame_bomb_fed_in_chunks_fails_on_the_first_chunk(WebSocketRole receiver)
    {
        byte[] wire = DeflateKit.Frame(receiver, Frames.BinaryOp, DeflateKit.GibibyteBomb, rsv: 4);
        using var rx = new DeflateReceiver(receiver, DeflateKit.Agreement(true, true), new WebSocketProtocolOptions { MaxMessageSize = Limit });
        int fed = 0;
        while (rx.Failure is null && fed < wire.Length)
        {
            int size = Math.Min(16 * 1024, wire.Length - fed);
            rx.Feed(wire.AsMemory(fed, size));
            fed += size;
        }

        Assert.Equal([RecordedEvent.Failed(WebSocketCloseCode.MessageTooBig)], rx.Events);
        Assert.Equal(16 * 1024, fed);   // about 1 KiB of the bomb inflates past 1 MiB
        Assert.Equal(1009, rx.OwedCloseCode());
        Assert.False(rx.Protocol.HoldsCompressionState);   // the pooled inflater was dropped, not kept
    }

    [Theory]
    [InlineData(WebSocketRole.Client, false)]
    [InlineData(WebSocketRole.Server, false)]
    [InlineData(WebSocketRole.Client, true)]
    [InlineData(WebSocketRole.Server, true)]
    public void Bomb_spread_over_many_continuation_frames_is_stopped(WebSocketRole receiver, bool deliverFragments)
    {
        const int MessageLimit = 300_000;
        byte[] bomb = DeflateKit.GibibyteBomb;
        var wire = new MemoryStream();
        const int FrameSize = 100;
        for (int offset = 0; offset < bomb.Length; offset += FrameSize)
        {
            int size = Math.Min(FrameSize, bomb.Length - offset);
            wire.Write(DeflateKit.Frame(receiver, offset == 0 ? Frames.BinaryOp : Frames.Continuation, bomb.AsSpan(offset, size), fin: offset + size == bomb.Length, rsv: offset == 0 ? 4 : 0));
        }

        byte[] bytes = wire.ToArray();
        var clock = Stopwatch.StartNew();
        using var rx = new DeflateReceiver(receiver, DeflateKit.Agreement(false, false), new WebSocketProtocolOptions { MaxMessageSize = MessageLimit, DeliverFragments = deliverFragments });
        int fed = 0;
        while (rx.Failure is null && fed < bytes.Length)
        {
            int size = Math.Min(4096, bytes.Length - fed);
            rx.Feed(bytes.AsMemory(fed, size));
            fed += size;
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(RecordedEvent.Failed(WebSocketCloseCode.MessageTooBig), rx.Events[^1]);
        Assert.True(fed <= 4096, $"{fed} bytes of frames were read before the bomb was stopped");
        long delivered = rx.Events.Where(e => e.Type == WebSocketEventType.Fragment).Sum(e => (long)e.Payload.Length);
        Assert.True(delivered <= MessageLimit, $"{delivered} bytes delivered as fragments past the {MessageLimit}-byte limit");
        Assert.All(rx.Events.Where(e => e.Type == WebSocketEventType.Fragment), e => Assert.False(e.EndOfMessage));
        Assert.Equal(1009, rx.OwedCloseCode());
    }

    [Fact]
    public void Frame_limit_stops_a_bomb_frame_too()
    {
        var options = new WebSocketProtocolOptions { MaxMessageSize = 1L << 40, MaxFrameSize = Limit };
        byte[] wire = DeflateKit.Frame(WebSocketRole.Client, Frames.BinaryOp, DeflateKit.GibibyteBomb, rsv: 4);
        var clock = Stopwatch.StartNew();
        CompressedViolationTests.AssertFails(WebSocketRole.Client, DeflateKit.Agreement(false, false), wire, WebSocketCloseCode.MessageTooBig, byteByByte: false, options: options);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.ElapsedMilliseconds} ms");
    }
}
