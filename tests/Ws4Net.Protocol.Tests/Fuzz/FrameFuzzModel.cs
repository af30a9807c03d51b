using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// One receive event as the fuzzers compare it: everything a driver can observe except the text of a
/// failure reason (only its presence). Fragment events are kept coalesced (see <see cref="EngineRun"/>).
/// </summary>
internal sealed class FuzzEvent(WebSocketEventType type, WebSocketMessageKind messageType, byte[] payload, bool endOfMessage, int code, bool reasonIsNull, string? closeReason)
{
    public WebSocketEventType Type { get; } = type;

    public WebSocketMessageKind MessageType { get; } = messageType;

    public byte[] Payload { get; set; } = payload;

    public bool EndOfMessage { get; set; } = endOfMessage;

    public int Code { get; } = code;

    public bool ReasonIsNull { get; } = reasonIsNull;

    /// <summary>The peer's close reason (Close events only; a failure's description is not compared).</summary>
    public string? CloseReason { get; } = closeReason;

    public static FuzzEvent Message(WebSocketMessageKind type, byte[] payload) => new(WebSocketEventType.Message, type, payload, true, 0, true, null);

    public static FuzzEvent Fragment(WebSocketMessageKind type, byte[] payload, bool endOfMessage) => new(WebSocketEventType.Fragment, type, payload, endOfMessage, 0, true, null);

    public static FuzzEvent Ping(byte[] payload) => new(WebSocketEventType.Ping, default, payload, true, 0, true, null);

    public static FuzzEvent Pong(byte[] payload) => new(WebSocketEventType.Pong, default, payload, true, 0, true, null);

    public static FuzzEvent Close(int code, string? reason) => new(WebSocketEventType.Close, default, [], true, code, reason is null, reason);

    public static FuzzEvent Failed(int code) => new(WebSocketEventType.Failed, default, [], true, code, false, null);

    public bool SameAs(FuzzEvent other) =>
        Type == other.Type
        && MessageType == other.MessageType
        && EndOfMessage == other.EndOfMessage
        && Code == other.Code
        && ReasonIsNull == other.ReasonIsNull
        && string.Equals(CloseReason, other.CloseReason, StringComparison.Ordinal)
        && Payload.AsSpan().SequenceEqual(other.Payload);

    public override string ToString()
    {
        string head = HexText.Format(Payload.AsSpan(0, Math.Min(Payload.Length, 32)));
        return Type switch
        {
            WebSocketEventType.Message or WebSocketEventType.Fragment => string.Create(
                CultureInfo.InvariantCulture,
                $"{Type}({MessageType}, {Payload.Length} B [{head}{(Payload.Length > 32 ? "..." : string.Empty)}], eom={EndOfMessage})"),
            WebSocketEventType.Ping or WebSocketEventType.Pong => string.Create(CultureInfo.InvariantCulture, $"{Type}({Payload.Length} B [{head}])"),
            WebSocketEventType.Close => string.Create(CultureInfo.InvariantCulture, $"Close({Code}, reason={(ReasonIsNull ? "null" : "\"" + CloseReason + "\"")})"),
            WebSocketEventType.Failed => string.Create(CultureInfo.InvariantCulture, $"Failed({Code})"),
            _ => Type.ToString(),
        };
    }

    public static string Describe(IEnumerable<FuzzEvent> events)
    {
        string text = string.Join(" | ", events);
        return text.Length == 0 ? "(no events)" : text;
    }
}

/// <summary>A control frame the engine owes the peer, decoded (unmasked).</summary>
internal readonly record struct OwedFrame(int Opcode, byte[] Payload)
{
    public bool SameAs(OwedFrame other) => Opcode == other.Opcode && Payload.AsSpan().SequenceEqual(other.Payload);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"op={Opcode:X} [{HexText.Format(Payload)}]");
}

/// <summary>A growable byte buffer (cheaper than List&lt;byte&gt; for spans).</summary>
internal sealed class ByteBuf
{
    private byte[] _data;

    public ByteBuf(int capacity = 256) => _data = new byte[Math.Max(capacity, 16)];

    public int Length { get; private set; }

    public Span<byte> Span => _data.AsSpan(0, Length);

    public ReadOnlySpan<byte> ReadOnlySpan => _data.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void Append(byte b)
    {
        Ensure(1);
        _data[Length++] = b;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_data.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Reserves <paramref name="count"/> bytes at the end and returns them.</summary>
    public Span<byte> AppendSpan(int count)
    {
        Ensure(count);
        Span<byte> span = _data.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void Truncate(int length) => Length = Math.Min(Length, length);

    public byte[] ToArray() => Span.ToArray();

    private void Ensure(int extra)
    {
        if (Length + extra > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(_data.Length * 2, Length + extra));
        }
    }
}

/// <summary>
/// Receive-side limits the frame fuzzers run the engine with. The instances are shared and never
/// modified after creation. The name is what a replay target (<c>frames:server/msg64k/...</c>) uses.
/// </summary>
internal sealed class FrameProfile
{
    internal FrameProfile(string name, long maxMessageSize, long? maxFrameSize, bool deliverFragments)
    {
        Name = name;
        // The smallest pending-control limit: a driver that flushes after every read never reaches it, the
        // lazy-flush run (FrameChecks) does after two or three pings.
        Options = new WebSocketProtocolOptions { MaxMessageSize = maxMessageSize, DeliverFragments = deliverFragments, MaxPendingControlBytes = 256 };
        if (maxFrameSize is { } frame)
        {
            Options.MaxFrameSize = frame;
        }
    }

    /// <summary>Every profile; the small limits are the common case (they are the point of the memory checks).</summary>
    public static IReadOnlyList<FrameProfile> All { get; } =
    [
        new("msg64k", 64 * 1024, null, false),
        new("frag64k", 64 * 1024, null, true),
        new("msg1k-frame200", 1024, 200, false),
        new("frag1k-frame300", 1024, 300, true),
        new("msg-unbounded", long.MaxValue, null, false),
        new("frag-unbounded", long.MaxValue, null, true),
    ];

    public string Name { get; }

    public WebSocketProtocolOptions Options { get; }

    public long MaxMessageSize => Options.MaxMessageSize;

    public long MaxFrameSize => Options.MaxFrameSize;

    public bool DeliverFragments => Options.DeliverFragments;

    /// <summary>The largest message the generator of valid streams produces under this profile.</summary>
    public int GeneratorMaxMessage => (int)Math.Min(MaxMessageSize, 70_000);

    /// <summary>The largest frame the generator of valid streams produces under this profile.</summary>
    public int GeneratorMaxFrame => (int)Math.Min(MaxFrameSize, 70_000);

    public static FrameProfile Get(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"Unknown frame profile '{name}'.", nameof(name));

    /// <summary>Picks a profile, favouring the 64 KiB ones.</summary>
    public static FrameProfile Pick(FuzzRng rng) => rng.Next(100) switch
    {
        < 30 => All[0],
        < 60 => All[1],
        < 75 => All[2],
        < 90 => All[3],
        < 95 => All[4],
        _ => All[5],
    };
}

/// <summary>Decodes frames written by the engine (its pending output), independently of the engine.</summary>
internal static class OutputFrames
{
    /// <summary>Decodes every frame; fails the check on a truncated or malformed frame, wrong masking or RSV bits.</summary>
    public static List<OwedFrame> Decode(ReadOnlySpan<byte> data, WebSocketRole writer)
    {
        var frames = new List<OwedFrame>();
        while (!data.IsEmpty)
        {
            if (data.Length < 2)
            {
                throw Check.Fail($"pending output ends with a truncated frame header: {HexText.Format(data)}");
            }

            bool fin = (data[0] & 0x80) != 0;
            int rsv = (data[0] >> 4) & 7;
            int opcode = data[0] & 0x0F;
            bool masked = (data[1] & 0x80) != 0;
            int length = data[1] & 0x7F;
            if (!fin || rsv != 0 || opcode < 8 || length > 125)
            {
                throw Check.Fail($"pending output holds something other than a final control frame of at most 125 bytes: {HexText.Format(data)}");
            }

            if (masked != (writer == WebSocketRole.Client))
            {
                throw Check.Fail($"pending output frame is {(masked ? "masked" : "unmasked")} but the engine plays {writer}: {HexText.Format(data)}");
            }

            int header = masked ? 6 : 2;
            if (data.Length < header + length)
            {
                throw Check.Fail($"pending output ends with a truncated frame: {HexText.Format(data)}");
            }

            byte[] payload = data.Slice(header, length).ToArray();
            if (masked)
            {
                ReadOnlySpan<byte> key = data.Slice(2, 4);
                for (int i = 0; i < payload.Length; i++)
                {
                    payload[i] ^= key[i & 3];
                }
            }

            frames.Add(new OwedFrame(opcode, payload));
            data = data[(header + length)..];
        }

        return frames;
    }

    /// <summary>The exact unmasked bytes a server writes for <paramref name="frames"/>.</summary>
    public static byte[] EncodeUnmasked(IEnumerable<OwedFrame> frames)
    {
        var buffer = new ByteBuf();
        foreach (OwedFrame frame in frames)
        {
            buffer.Append((byte)(0x80 | frame.Opcode));
            buffer.Append((byte)frame.Payload.Length);
            buffer.Append(frame.Payload);
        }

        return buffer.ToArray();
    }

    public static byte[] ClosePayload(int? code)
    {
        if (code is not { } c)
        {
            return [];
        }

        var payload = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)c);
        return payload;
    }

    public static string Describe(IEnumerable<OwedFrame> frames)
    {
        var builder = new StringBuilder();
        foreach (OwedFrame frame in frames)
        {
            builder.Append(builder.Length == 0 ? string.Empty : " | ").Append(frame);
        }

        return builder.Length == 0 ? "(none)" : builder.ToString();
    }
}
