using System.Runtime.InteropServices;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>Zero-copy delivery and buffer lifetime of the receive side.</summary>
public sealed class BufferTests
{
    [Fact]
    public void SingleFrameMessageInsideTheInput_PayloadRefersToTheInputArray_Client()
    {
        byte[] input = Hex.Parse("81 05 48 65 6c 6c 6f");
        using var p = new WebSocketProtocol(WebSocketRole.Client);

        Assert.True(p.TryReadEvent(input, out int consumed, out WebSocketEvent e));

        Assert.Equal(7, consumed);
        Assert.Equal(WebSocketEventType.Message, e.Type);
        Assert.True(MemoryMarshal.TryGetArray(e.Payload, out ArraySegment<byte> segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(2, segment.Offset);
        Assert.Equal(5, segment.Count);
    }

    [Fact]
    public void SingleFrameMaskedMessage_IsUnmaskedInPlace_AndRefersToTheInputArray_Server()
    {
        byte[] input = Hex.Parse("81 85 37 fa 21 3d 7f 9f 4d 51 58");
        using var p = new WebSocketProtocol(WebSocketRole.Server);

        Assert.True(p.TryReadEvent(input, out int consumed, out WebSocketEvent e));

        Assert.Equal(11, consumed);
        Assert.True(MemoryMarshal.TryGetArray(e.Payload, out ArraySegment<byte> segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(6, segment.Offset);
        Assert.Equal(5, segment.Count);
        Assert.Equal("Hello"u8.ToArray(), input[6..]);   // unmasked in place
    }

    [Fact]
    public void SeveralMessagesInOneInput_EachRefersToItsOwnPlace()
    {
        byte[] first = Frames.Pattern(300, seed: 1);
        byte[] second = Frames.Pattern(70_000, seed: 2);
        byte[] input = Frames.Concat(
            Frames.Build(Frames.BinaryOp, first, mask: [5, 6, 7, 8]),
            Frames.Build(Frames.TextOp, "hi"u8, mask: [9, 9, 9, 9]),
            Frames.Build(Frames.BinaryOp, second, mask: [1, 2, 3, 4]));
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        Memory<byte> rest = input;
        var offsets = new List<int>();
        var payloads = new List<byte[]>();
        while (p.TryReadEvent(rest, out int consumed, out WebSocketEvent e))
        {
            Assert.True(MemoryMarshal.TryGetArray(e.Payload, out ArraySegment<byte> segment));
            Assert.Same(input, segment.Array);
            offsets.Add(segment.Offset);
            payloads.Add(e.Payload.ToArray());
            rest = rest[consumed..];
        }

        Assert.Equal([2 + 2 + 4, 8 + 300 + 6, 8 + 300 + 6 + 2 + 2 + 8 + 4], offsets);
        Assert.Equal(first, payloads[0]);
        Assert.Equal("hi"u8.ToArray(), payloads[1]);
        Assert.Equal(second, payloads[2]);
    }

    [Fact]
    public void ReassembledMessage_IsCorrectUntilTheNextCall()
    {
        byte[] a = Frames.Pattern(5000, seed: 1);
        byte[] b = Frames.Pattern(6000, seed: 2);
        byte[] c = Frames.Pattern(10, seed: 3);
        byte[] input = Frames.Concat(
            Frames.Build(Frames.BinaryOp, a, fin: false),
            Frames.Build(Frames.Continuation, b),
            Frames.Build(Frames.BinaryOp, c, fin: false),
            Frames.Build(Frames.Continuation, c));
        using var p = new WebSocketProtocol(WebSocketRole.Client);
        Memory<byte> rest = input;

        Assert.True(p.TryReadEvent(rest, out int consumed, out WebSocketEvent e));
        Assert.True(e.Payload.Span.SequenceEqual([.. a, .. b]));
        rest = rest[consumed..];

        Assert.True(p.TryReadEvent(rest, out consumed, out e));
        Assert.True(e.Payload.Span.SequenceEqual([.. c, .. c]));
        Assert.Equal(rest.Length, consumed);
        Assert.False(p.TryReadEvent(rest[consumed..], out consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void MessageSplitAcrossCalls_IsNotBoundToAnyInputChunk()
    {
        byte[] payload = Frames.Pattern(1000, seed: 4);
        byte[] input = Frames.Build(Frames.BinaryOp, payload);
        using var p = new WebSocketProtocol(WebSocketRole.Client);
        byte[] part1 = input[..500];
        byte[] part2 = input[500..];

        Assert.False(p.TryReadEvent(part1, out int consumed, out _));
        Assert.Equal(500, consumed);
        Array.Clear(part1);   // the engine must have copied what it needs
        Assert.True(p.TryReadEvent(part2, out consumed, out WebSocketEvent e));

        Assert.Equal(part2.Length, consumed);
        Assert.True(e.Payload.Span.SequenceEqual(payload));
    }

    [Fact]
    public void FinalFragmentAfterEmptyFragments_IsTheWholeMessage()
    {
        byte[] input = Frames.Concat(
            Frames.Build(Frames.TextOp, [], fin: false),
            Frames.Build(Frames.Continuation, [], fin: false),
            Frames.Build(Frames.Continuation, "abc"u8));
        using var p = new WebSocketProtocol(WebSocketRole.Client);

        Assert.True(p.TryReadEvent(input, out int consumed, out WebSocketEvent e));

        Assert.Equal(input.Length, consumed);
        Assert.Equal(WebSocketEventType.Message, e.Type);
        Assert.Equal(WebSocketMessageKind.Text, e.MessageType);
        Assert.True(e.Payload.Span.SequenceEqual("abc"u8));
    }

    [Fact]
    public void WritePendingOutput_NothingOwed_WritesNothing()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new System.Buffers.ArrayBufferWriter<byte>();

        Assert.Equal(0, p.WritePendingOutput(w));
        Assert.Equal(0, w.WrittenCount);
        Assert.Throws<ArgumentNullException>(() => p.WritePendingOutput(null!));
        Assert.Throws<ArgumentNullException>(() => p.WriteMessage(null!, WebSocketMessageKind.Binary, []));
        Assert.Throws<ArgumentNullException>(() => p.WriteClose(null!, null));
    }

    [Fact]
    public void EmptyInput_ReturnsFalseConsumingNothing()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Client);

        Assert.False(p.TryReadEvent(Memory<byte>.Empty, out int consumed, out WebSocketEvent e));

        Assert.Equal(0, consumed);
        Assert.Equal(WebSocketEventType.None, e.Type);
    }

    [Fact]
    public void Disposed_TryReadEventThrows()
    {
        var p = new WebSocketProtocol(WebSocketRole.Client);
        p.Dispose();
        p.Dispose();

        Assert.Throws<ObjectDisposedException>(() => p.TryReadEvent(new byte[] { 0x81, 0x00 }, out _, out _));
    }

    [Fact]
    public void EventToString_DescribesTheEvent()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Client);
        Assert.True(p.TryReadEvent(Hex.Parse("81 05 48 65 6c 6c 6f"), out _, out WebSocketEvent e));
        Assert.Equal("Message Text 5 B", e.ToString());
        Assert.True(p.TryReadEvent(Hex.Parse("88 02 03 E8"), out _, out e));
        Assert.Equal("Close 1000 ", e.ToString());
    }
}
