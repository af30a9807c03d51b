using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>
/// One receive event, copied out of the engine so it can be compared after the next call
/// (the engine's payload memory is only valid until then).
/// </summary>
internal sealed record RecordedEvent(
    WebSocketEventType Type,
    WebSocketMessageKind MessageType,
    byte[] Payload,
    bool EndOfMessage,
    WebSocketCloseCode CloseCode,
    bool ReasonIsNull,
    string? CloseReason)
{
    public static RecordedEvent From(in WebSocketEvent e) => new(
        e.Type,
        e.MessageType,
        e.Payload.ToArray(),
        e.EndOfMessage,
        e.CloseCode,
        e.Reason is null,
        e.Type == WebSocketEventType.Close ? e.Reason : null);

    public static RecordedEvent Message(WebSocketMessageKind type, byte[] payload) =>
        new(WebSocketEventType.Message, type, payload, true, default, true, null);

    public static RecordedEvent Text(string text) => Message(WebSocketMessageKind.Text, Encoding.UTF8.GetBytes(text));

    public static RecordedEvent Binary(byte[] payload) => Message(WebSocketMessageKind.Binary, payload);

    public static RecordedEvent Fragment(WebSocketMessageKind type, byte[] payload, bool endOfMessage) =>
        new(WebSocketEventType.Fragment, type, payload, endOfMessage, default, true, null);

    public static RecordedEvent Ping(byte[] payload) => new(WebSocketEventType.Ping, default, payload, true, default, true, null);

    public static RecordedEvent Pong(byte[] payload) => new(WebSocketEventType.Pong, default, payload, true, default, true, null);

    /// <summary>A received close: <paramref name="reason"/> null for an empty close frame, "" for a code without reason.</summary>
    public static RecordedEvent Close(WebSocketCloseCode code, string? reason) =>
        new(WebSocketEventType.Close, default, [], true, code, reason is null, reason);

    /// <summary>A failure: the engine always describes the violation, so the reason is not null.</summary>
    public static RecordedEvent Failed(WebSocketCloseCode code) =>
        new(WebSocketEventType.Failed, default, [], true, code, false, null);

    public bool Equals(RecordedEvent? other) =>
        other is not null
        && Type == other.Type
        && MessageType == other.MessageType
        && EndOfMessage == other.EndOfMessage
        && CloseCode == other.CloseCode
        && ReasonIsNull == other.ReasonIsNull
        && CloseReason == other.CloseReason
        && Payload.AsSpan().SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Type, MessageType, Payload.Length, EndOfMessage, CloseCode, ReasonIsNull, CloseReason);

    public override string ToString()
    {
        string head = Hex.Format(Payload.AsSpan(0, Math.Min(Payload.Length, 24)));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Type} {MessageType} len={Payload.Length} [{head}{(Payload.Length > 24 ? " ..." : string.Empty)}] eom={EndOfMessage} code={(int)CloseCode} reasonNull={ReasonIsNull} reason={CloseReason}");
    }
}

/// <summary>The result of feeding one receive vector to a fresh engine.</summary>
internal sealed record RunResult(IReadOnlyList<RecordedEvent> Events, byte[] Output, WebSocketProtocolState State, bool ReceiveCompleted, int Calls)
{
    public IReadOnlyList<WireFrame> OutputFrames => WireFrame.ParseAll(Output);
}

/// <summary>
/// Feeds bytes to a <see cref="WebSocketProtocol"/> exactly as a driver should: TryReadEvent on the
/// chunk, continue with input[consumed..] until it returns false with all input consumed, and flush the
/// pending output after every call.
/// </summary>
internal sealed class ProtocolDriver : IDisposable
{
    public ProtocolDriver(WebSocketRole role, WebSocketProtocolOptions? options = null)
    {
        Protocol = new WebSocketProtocol(role, options);
    }

    public WebSocketProtocol Protocol { get; }

    public List<RecordedEvent> Events { get; } = [];

    public ArrayBufferWriter<byte> Output { get; } = new();

    /// <summary>Number of TryReadEvent calls made.</summary>
    public int Calls { get; private set; }

    /// <summary>Feeds a writable chunk (it may be unmasked in place) and returns the events it produced.</summary>
    public List<RecordedEvent> Feed(Memory<byte> input)
    {
        var produced = new List<RecordedEvent>();
        int guard = 0;
        while (true)
        {
            bool got = Protocol.TryReadEvent(input, out int consumed, out WebSocketEvent e);
            Calls++;
            RecordedEvent? recorded = got ? RecordedEvent.From(e) : null;   // copy before anything else touches the engine
            Protocol.WritePendingOutput(Output);
            Assert.InRange(consumed, 0, input.Length);
            input = input[consumed..];
            if (!got)
            {
                Assert.True(input.IsEmpty, $"TryReadEvent returned false with {input.Length} byte(s) unconsumed");
                break;
            }

            produced.Add(recorded!);
            Assert.True(++guard < 1_000_000, "TryReadEvent keeps producing events without consuming input");
        }

        Events.AddRange(produced);
        return produced;
    }

    /// <summary>Feeds a copy of <paramref name="bytes"/> in one chunk.</summary>
    public List<RecordedEvent> FeedCopy(ReadOnlySpan<byte> bytes) => Feed(bytes.ToArray());

    /// <summary>Feeds a fresh copy of <paramref name="bytes"/> cut into chunks of the given sizes.</summary>
    public void FeedChunked(ReadOnlySpan<byte> bytes, IEnumerable<int> chunkSizes)
    {
        byte[] copy = bytes.ToArray();
        int pos = 0;
        foreach (int size in chunkSizes)
        {
            Feed(copy.AsMemory(pos, size));
            pos += size;
        }

        Assert.Equal(copy.Length, pos);
    }

    public RunResult Result() => new(Events.ToArray(), Output.WrittenSpan.ToArray(), Protocol.State, Protocol.IsReceiveCompleted, Calls);

    public void Dispose() => Protocol.Dispose();

    /// <summary>Runs one vector on a fresh engine under one chunking.</summary>
    public static RunResult Run(WebSocketRole role, ReadOnlySpan<byte> vector, IEnumerable<int> chunkSizes, WebSocketProtocolOptions? options = null)
    {
        using var driver = new ProtocolDriver(role, options);
        driver.FeedChunked(vector, chunkSizes);
        return driver.Result();
    }

    /// <summary>
    /// Runs one vector whole, byte by byte and under several seeded random chunkings, asserts that all
    /// runs give identical events, identical pending output (byte-exact for the server role; frame by
    /// frame, unmasked, for the client role whose keys are random) and the same final state, and returns
    /// the whole-input run. With <paramref name="coalesceFragments"/>, Fragment events (whose cut depends
    /// on the chunking) are compared after merging each message's fragments.
    /// </summary>
    public static RunResult RunAllChunkings(
        WebSocketRole role,
        ReadOnlySpan<byte> vector,
        WebSocketProtocolOptions? options = null,
        bool coalesceFragments = false,
        int randomChunkings = 6,
        bool byteByByte = true)
    {
        RunResult whole = Run(role, vector, Chunkings.Whole(vector.Length), options);
        var others = new List<(string Name, RunResult Result)>();
        if (byteByByte)
        {
            others.Add(("byte-by-byte", Run(role, vector, Chunkings.ByteByByte(vector.Length), options)));
        }

        for (int seed = 1; seed <= randomChunkings; seed++)
        {
            others.Add(($"random seed {seed}", Run(role, vector, Chunkings.Random(vector.Length, seed), options)));
        }

        IReadOnlyList<RecordedEvent> expected = coalesceFragments ? Coalesce(whole.Events) : whole.Events;
        foreach ((string name, RunResult result) in others)
        {
            IReadOnlyList<RecordedEvent> actual = coalesceFragments ? Coalesce(result.Events) : result.Events;
            Assert.True(expected.SequenceEqual(actual), $"events differ under chunking '{name}':\n whole: {string.Join(" | ", expected)}\n {name}: {string.Join(" | ", actual)}");
            if (role == WebSocketRole.Server)
            {
                Assert.True(whole.Output.AsSpan().SequenceEqual(result.Output), $"pending output differs under chunking '{name}': {Hex.Format(whole.Output)} vs {Hex.Format(result.Output)}");
            }
            else
            {
                Assert.Equal(whole.OutputFrames.Select(f => f.Canonical), result.OutputFrames.Select(f => f.Canonical));
            }

            Assert.Equal(whole.State, result.State);
            Assert.Equal(whole.ReceiveCompleted, result.ReceiveCompleted);
        }

        return whole;
    }

    /// <summary>
    /// Merges consecutive Fragment events into one: up to the end of the message (EndOfMessage set), or
    /// up to the next non-fragment event (EndOfMessage clear), whichever comes first.
    /// </summary>
    public static List<RecordedEvent> Coalesce(IEnumerable<RecordedEvent> events)
    {
        var result = new List<RecordedEvent>();
        List<byte>? pending = null;
        WebSocketMessageKind type = default;
        foreach (RecordedEvent e in events)
        {
            if (e.Type != WebSocketEventType.Fragment)
            {
                if (pending is not null)
                {
                    // Everything delivered before a control frame or a failure is a chunking-independent cut.
                    result.Add(RecordedEvent.Fragment(type, [.. pending], false));
                    pending = null;
                }

                result.Add(e);
                continue;
            }

            if (pending is null)
            {
                pending = [];
                type = e.MessageType;
            }

            Assert.Equal(type, e.MessageType);
            pending.AddRange(e.Payload);
            if (e.EndOfMessage)
            {
                result.Add(RecordedEvent.Fragment(type, [.. pending], true));
                pending = null;
            }
        }

        if (pending is not null)
        {
            result.Add(RecordedEvent.Fragment(type, [.. pending], false));
        }

        return result;
    }
}

/// <summary>Chunk size sequences used to cut a receive vector.</summary>
internal static class Chunkings
{
    public static int[] Whole(int length) => [length];

    public static int[] ByteByByte(int length) => Enumerable.Repeat(1, length).ToArray();

    /// <summary>Chunk sizes that sum to <paramref name="length"/>: mostly tiny, some medium, a few large, the odd empty chunk.</summary>
    public static int[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var sizes = new List<int>();
        int left = length;
        while (left > 0)
        {
            int pick = random.Next(100);
            int size = pick switch
            {
                < 5 => 0,
                < 45 => random.Next(1, 5),
                < 75 => random.Next(5, 65),
                < 93 => random.Next(65, 4097),
                _ => random.Next(1, length + 1),
            };
            size = Math.Min(size, left);
            sizes.Add(size);
            left -= size;
        }

        return [.. sizes];
    }

    /// <summary>Cuts at the given positions (0..length, ascending).</summary>
    public static int[] SplitAt(int length, params int[] points)
    {
        var sizes = new List<int>();
        int previous = 0;
        foreach (int p in points)
        {
            sizes.Add(p - previous);
            previous = p;
        }

        sizes.Add(length - previous);
        return [.. sizes];
    }
}

/// <summary>A frame decoded from bytes the engine wrote, independently of the engine's own decoder.</summary>
internal sealed record WireFrame(bool Fin, int Rsv, int Opcode, bool Masked, byte[] MaskKey, byte[] Payload, int ExtendedLengthBytes, int HeaderLength)
{
    /// <summary>Everything but the (random) masking key.</summary>
    public string Canonical => string.Create(CultureInfo.InvariantCulture, $"fin={Fin} rsv={Rsv} op={Opcode} masked={Masked} ext={ExtendedLengthBytes} payload={Hex.Format(Payload)}");

    public static List<WireFrame> ParseAll(ReadOnlySpan<byte> data)
    {
        var frames = new List<WireFrame>();
        while (!data.IsEmpty)
        {
            frames.Add(Parse(data, out int length));
            data = data[length..];
        }

        return frames;
    }

    public static WireFrame Parse(ReadOnlySpan<byte> data, out int frameLength)
    {
        Assert.True(data.Length >= 2, "truncated frame header");
        bool fin = (data[0] & 0x80) != 0;
        int rsv = (data[0] >> 4) & 0x7;
        int opcode = data[0] & 0x0F;
        bool masked = (data[1] & 0x80) != 0;
        long length = data[1] & 0x7F;
        int pos = 2;
        int ext = 0;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            pos = 4;
            ext = 2;
        }
        else if (length == 127)
        {
            length = checked((long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]));
            pos = 10;
            ext = 8;
        }

        byte[] key = [];
        if (masked)
        {
            key = data.Slice(pos, 4).ToArray();
            pos += 4;
        }

        Assert.True(data.Length - pos >= length, "truncated frame payload");
        byte[] payload = data.Slice(pos, (int)length).ToArray();
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= masked ? key[i & 3] : (byte)0;
        }

        frameLength = pos + (int)length;
        return new WireFrame(fin, rsv, opcode, masked, key, payload, ext, pos);
    }
}

/// <summary>Builds frames byte by byte, independently of the engine's encoder.</summary>
internal static class Frames
{
    /// <summary>The masking key of the RFC 6455 §5.7 examples.</summary>
    public static readonly byte[] RfcKey = [0x37, 0xFA, 0x21, 0x3D];

    public const int Continuation = 0x0;
    public const int TextOp = 0x1;
    public const int BinaryOp = 0x2;
    public const int CloseOp = 0x8;
    public const int PingOp = 0x9;
    public const int PongOp = 0xA;

    /// <summary>
    /// Builds a frame. <paramref name="lengthForm"/>: -1 minimal, 0 the 7-bit field, 2 the 16-bit
    /// form, 8 the 64-bit form. <paramref name="declaredLength"/> overrides the announced length.
    /// </summary>
    public static byte[] Build(int opcode, ReadOnlySpan<byte> payload, bool fin = true, byte[]? mask = null, int rsv = 0, int lengthForm = -1, long? declaredLength = null)
    {
        long length = declaredLength ?? payload.Length;
        if (lengthForm < 0)
        {
            lengthForm = length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8;
        }

        var bytes = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        byte maskBit = mask is null ? (byte)0 : (byte)0x80;
        switch (lengthForm)
        {
            case 0:
                bytes.Add((byte)(maskBit | length));
                break;
            case 2:
                bytes.Add((byte)(maskBit | 126));
                bytes.Add((byte)(length >> 8));
                bytes.Add((byte)length);
                break;
            default:
                bytes.Add((byte)(maskBit | 127));
                for (int shift = 56; shift >= 0; shift -= 8)
                {
                    bytes.Add((byte)((ulong)length >> shift));
                }

                break;
        }

        if (mask is not null)
        {
            bytes.AddRange(mask);
        }

        for (int i = 0; i < payload.Length; i++)
        {
            bytes.Add((byte)(payload[i] ^ (mask is null ? 0 : mask[i & 3])));
        }

        return [.. bytes];
    }

    /// <summary>A frame as the peer of <paramref name="receiver"/> must send it: masked (RFC key) towards a server, unmasked towards a client.</summary>
    public static byte[] To(WebSocketRole receiver, int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, int lengthForm = -1, long? declaredLength = null) =>
        Build(opcode, payload, fin, receiver == WebSocketRole.Server ? RfcKey : null, rsv, lengthForm, declaredLength);

    /// <summary>A frame with the wrong masking for <paramref name="receiver"/>.</summary>
    public static byte[] WronglyMaskedTo(WebSocketRole receiver, int opcode, ReadOnlySpan<byte> payload, bool fin = true) =>
        Build(opcode, payload, fin, receiver == WebSocketRole.Server ? null : RfcKey);

    /// <summary>Only the header (including the masking key) of <see cref="To"/> for a payload of <paramref name="length"/> bytes.</summary>
    public static byte[] HeaderTo(WebSocketRole receiver, int opcode, long length, bool fin = true, int rsv = 0, int lengthForm = -1) =>
        Build(opcode, [], fin, receiver == WebSocketRole.Server ? RfcKey : null, rsv, lengthForm, length);

    public static byte[] ClosePayload(int code, string reason = "")
    {
        byte[] r = Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + r.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        r.CopyTo(payload, 2);
        return payload;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

internal static class Hex
{
    /// <summary>Parses "81 85 37fa" (spaces optional).</summary>
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}

/// <summary>Assertions about what the engine owes the peer.</summary>
internal static class OutputAssert
{
    /// <summary>
    /// The output is exactly one close frame carrying <paramref name="code"/> (or an empty close when
    /// null): byte-exact for the server role, masked and decoded for the client role.
    /// </summary>
    public static void SingleClose(WebSocketRole role, byte[] output, int? code)
    {
        byte[] payload = code is { } c ? Frames.ClosePayload(c) : [];
        if (role == WebSocketRole.Server)
        {
            Assert.Equal(Hex.Format(Frames.Build(Frames.CloseOp, payload)), Hex.Format(output));
            return;
        }

        Assert.Equal(6 + payload.Length, output.Length);
        Assert.Equal(0x88, output[0]);
        Assert.Equal(0x80 | payload.Length, output[1]);
        WireFrame frame = Assert.Single(WireFrame.ParseAll(output));
        Assert.True(frame.Masked);
        Assert.Equal(Hex.Format(payload), Hex.Format(frame.Payload));
    }

    /// <summary>The output is exactly the given control frames (opcode, payload), in order, masked iff the role is client.</summary>
    public static void ControlFrames(WebSocketRole role, byte[] output, params (int Opcode, byte[] Payload)[] expected)
    {
        if (role == WebSocketRole.Server)
        {
            byte[] exact = Frames.Concat(expected.Select(e => Frames.Build(e.Opcode, e.Payload)).ToArray());
            Assert.Equal(Hex.Format(exact), Hex.Format(output));
            return;
        }

        List<WireFrame> frames = WireFrame.ParseAll(output);
        Assert.Equal(expected.Length, frames.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(frames[i].Fin);
            Assert.Equal(0, frames[i].Rsv);
            Assert.True(frames[i].Masked);
            Assert.Equal(expected[i].Opcode, frames[i].Opcode);
            Assert.Equal(Hex.Format(expected[i].Payload), Hex.Format(frames[i].Payload));
        }
    }
}
