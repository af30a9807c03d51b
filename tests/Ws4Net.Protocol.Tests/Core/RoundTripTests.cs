using System.Buffers;
using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>
/// Property test: random messages encoded by one engine and decoded by an engine of the other role,
/// under many chunkings, come out as the same messages.
/// </summary>
public sealed class RoundTripTests
{
    public static TheoryData<WebSocketRole, int, int, int> Cases => new()
    {
        // sender, seed, MaxSendFrameSize (0 = off), largest message
        { WebSocketRole.Client, 1, 0, 200_000 },
        { WebSocketRole.Client, 2, 1000, 200_000 },
        { WebSocketRole.Client, 3, 65_536 + 7, 200_000 },
        { WebSocketRole.Client, 4, 125, 20_000 },
        { WebSocketRole.Client, 5, 1, 600 },
        { WebSocketRole.Server, 11, 0, 200_000 },
        { WebSocketRole.Server, 12, 1000, 200_000 },
        { WebSocketRole.Server, 13, 65_535, 200_000 },
        { WebSocketRole.Server, 14, 126, 20_000 },
        { WebSocketRole.Server, 15, 1, 600 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomMessages_RoundTrip(WebSocketRole sender, int seed, int maxSendFrameSize, int maxSize)
    {
        var random = new Random(seed);
        using var tx = new WebSocketProtocol(sender, new WebSocketProtocolOptions { MaxSendFrameSize = maxSendFrameSize });
        var wire = new ArrayBufferWriter<byte>();
        var expected = new List<RecordedEvent>();
        var owed = new List<(int Opcode, byte[] Payload)>();

        int[] forcedSizes = [0, 1, 125, 126, 65_535, 65_536, maxSize];
        for (int m = 0; m < 24; m++)
        {
            int size = m < forcedSizes.Length ? Math.Min(forcedSizes[m], maxSize) : PickSize(random, maxSize);
            bool text = random.Next(2) == 0;
            if (text && random.Next(2) == 0)
            {
                string s = RandomText(random, size);
                List<string> parts = SplitText(random, s);
                for (int i = 0; i < parts.Count; i++)
                {
                    tx.WriteText(wire, parts[i], endOfMessage: i == parts.Count - 1);
                    if (i == parts.Count - 1)
                    {
                        expected.Add(RecordedEvent.Text(s));
                    }

                    MaybePing(random, tx, wire, expected, owed);   // between fragments: delivered before the message
                }
            }
            else
            {
                byte[] payload = text ? Encoding.UTF8.GetBytes(RandomText(random, size)) : Frames.Pattern(size, random.Next());
                var type = text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
                List<(int Start, int Length)> parts = SplitBytes(random, payload.Length);
                for (int i = 0; i < parts.Count; i++)
                {
                    tx.WriteMessage(wire, type, payload.AsSpan(parts[i].Start, parts[i].Length), endOfMessage: i == parts.Count - 1);
                    if (i == parts.Count - 1)
                    {
                        expected.Add(RecordedEvent.Message(type, payload));
                    }

                    MaybePing(random, tx, wire, expected, owed);
                }
            }
        }

        tx.WriteClose(wire, WebSocketCloseCode.NormalClosure, "done");
        expected.Add(RecordedEvent.Close(WebSocketCloseCode.NormalClosure, "done"));
        owed.Add((Frames.CloseOp, Frames.ClosePayload(1000)));
        Assert.Equal(WebSocketProtocolState.CloseSent, tx.State);

        // Every frame the sender wrote obeys its role and its MaxSendFrameSize.
        List<WireFrame> frames = WireFrame.ParseAll(wire.WrittenSpan);
        Assert.All(frames, f => Assert.Equal(sender == WebSocketRole.Client, f.Masked));
        if (maxSendFrameSize > 0)
        {
            Assert.All(frames, f => Assert.InRange(f.Payload.Length, 0, Math.Max(maxSendFrameSize, 125)));
        }

        WebSocketRole receiver = sender == WebSocketRole.Client ? WebSocketRole.Server : WebSocketRole.Client;
        RunResult r = ProtocolDriver.RunAllChunkings(receiver, wire.WrittenSpan, randomChunkings: 4);

        Assert.Equal(expected.Count, r.Events.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Equals(r.Events[i]), $"event {i}: expected {expected[i]}, got {r.Events[i]}");
        }

        OutputAssert.ControlFrames(receiver, r.Output, [.. owed]);
        Assert.Equal(WebSocketProtocolState.Closed, r.State);
    }

    [Fact]
    public void BothDirections_OnePairOfEngines_ExchangeAndClose()
    {
        var random = new Random(99);
        using var client = new WebSocketProtocol(WebSocketRole.Client);
        using var server = new WebSocketProtocol(WebSocketRole.Server);
        using var clientDriver = new ProtocolDriver(WebSocketRole.Client);
        using var serverDriver = new ProtocolDriver(WebSocketRole.Server);

        for (int i = 0; i < 50; i++)
        {
            byte[] payload = Frames.Pattern(random.Next(0, 3000), i);
            var toServer = new ArrayBufferWriter<byte>();
            client.WriteMessage(toServer, WebSocketMessageKind.Binary, payload);
            serverDriver.FeedChunked(toServer.WrittenSpan, Chunkings.Random(toServer.WrittenCount, i));

            var toClient = new ArrayBufferWriter<byte>();
            server.WriteMessage(toClient, WebSocketMessageKind.Binary, payload);
            clientDriver.FeedChunked(toClient.WrittenSpan, Chunkings.Random(toClient.WrittenCount, i + 1000));

            Assert.Equal(RecordedEvent.Binary(payload), serverDriver.Events[^1]);
            Assert.Equal(RecordedEvent.Binary(payload), clientDriver.Events[^1]);
        }

        // The client starts the closing handshake; the server's driver echoes it; the client receives the echo.
        var close = new ArrayBufferWriter<byte>();
        client.WriteClose(close, WebSocketCloseCode.GoingAway, "later");
        serverDriver.FeedCopy(close.WrittenSpan);
        Assert.Equal(RecordedEvent.Close(WebSocketCloseCode.GoingAway, "later"), serverDriver.Events[^1]);
        Assert.Equal("880203E9", Hex.Format(serverDriver.Output.WrittenSpan));
        Assert.Equal(WebSocketProtocolState.Closed, serverDriver.Protocol.State);

        byte[] echo = serverDriver.Output.WrittenSpan.ToArray();
        Assert.Equal(WebSocketProtocolState.CloseSent, client.State);
        Assert.True(client.TryReadEvent(echo, out int consumed, out WebSocketEvent e));
        Assert.Equal(4, consumed);
        Assert.Equal(WebSocketEventType.Close, e.Type);
        Assert.Equal(WebSocketCloseCode.GoingAway, e.CloseCode);
        Assert.Equal(WebSocketProtocolState.Closed, client.State);
        Assert.False(client.HasPendingOutput);
    }

    private static void MaybePing(Random random, WebSocketProtocol tx, ArrayBufferWriter<byte> wire, List<RecordedEvent> expected, List<(int, byte[])> owed)
    {
        if (random.Next(6) != 0)
        {
            return;
        }

        byte[] payload = Frames.Pattern(random.Next(0, 126), random.Next());
        if (random.Next(3) == 0)
        {
            tx.WritePong(wire, payload);
            expected.Add(RecordedEvent.Pong(payload));
        }
        else
        {
            tx.WritePing(wire, payload);
            expected.Add(RecordedEvent.Ping(payload));
            owed.Add((Frames.PongOp, payload));
        }
    }

    private static int PickSize(Random random, int max)
    {
        int pick = random.Next(100);
        int size = pick switch
        {
            < 45 => random.Next(0, 200),
            < 80 => random.Next(200, 5000),
            < 95 => random.Next(5000, 70_000),
            _ => random.Next(70_000, 200_001),
        };
        return Math.Min(size, max);
    }

    /// <summary>Random valid text of about <paramref name="bytes"/> UTF-8 bytes, with 1- to 4-byte code points, U+FFFE/U+FFFF and U+10FFFF.</summary>
    internal static string RandomText(Random random, int bytes)
    {
        var sb = new StringBuilder();
        int count = 0;
        while (count < bytes)
        {
            int pick = random.Next(100);
            int cp = pick switch
            {
                < 50 => random.Next(0x00, 0x80),
                < 65 => random.Next(0x80, 0x800),
                < 80 => random.Next(0x800, 0xD800),
                < 85 => random.Next(0xE000, 0x10000),
                < 87 => random.Next(2) == 0 ? 0xFFFE : 0xFFFF,
                < 88 => 0x10FFFF,
                _ => random.Next(0x10000, 0x110000),
            };
            int length = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (count + length > bytes && bytes - count < 4)
            {
                cp = 'a';
                length = 1;
            }

            sb.Append(char.ConvertFromUtf32(cp));
            count += length;
        }

        return sb.ToString();
    }

    /// <summary>Cuts a string into 1-4 parts, never between the halves of a surrogate pair.</summary>
    private static List<string> SplitText(Random random, string s)
    {
        int partCount = random.Next(1, 5);
        var cuts = new SortedSet<int>();
        for (int i = 1; i < partCount; i++)
        {
            int cut = random.Next(0, s.Length + 1);
            if (cut > 0 && cut < s.Length && char.IsLowSurrogate(s[cut]))
            {
                cut++;
            }

            cuts.Add(cut);
        }

        var parts = new List<string>();
        int previous = 0;
        foreach (int cut in cuts)
        {
            parts.Add(s[previous..cut]);
            previous = cut;
        }

        parts.Add(s[previous..]);
        return parts;
    }

    /// <summary>Cuts a payload into 1-4 parts at arbitrary byte positions (empty parts included).</summary>
    private static List<(int Start, int Length)> SplitBytes(Random random, int length)
    {
        int partCount = random.Next(1, 5);
        int[] cuts = Enumerable.Range(0, partCount - 1).Select(_ => random.Next(0, length + 1)).Order().ToArray();
        var parts = new List<(int, int)>();
        int previous = 0;
        foreach (int cut in cuts)
        {
            parts.Add((previous, cut - previous));
            previous = cut;
        }

        parts.Add((previous, length - previous));
        return parts;
    }
}
