using System.Buffers;
using System.Text;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Protocol.Tests.Compression;

/// <summary>The RFC 7692 §7.2.3 example frames, received by a client (server frames are unmasked).</summary>
public sealed class Rfc7692ExampleTests
{
    private static readonly PerMessageDeflateParameters ContextTakeover = new(false, false, null, null, threshold: 0);

    public static TheoryData<string> SingleHelloFrames => new()
    {
        "c1 07 f2 48 cd c9 c9 07 00",                    // §7.2.3.1 one compressed frame
        "41 03 f2 48 cd 80 04 c9 c9 07 00",              // §7.2.3.1 fragmented: RSV1 on the first frame only
        "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00",        // §7.2.3.3 a DEFLATE block with no compression
        "c1 08 f3 48 cd c9 c9 07 00 00",                 // §7.2.3.4 a DEFLATE block with BFINAL set
        "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00",  // §7.2.3.5 two DEFLATE blocks in one message
    };

    [Theory]
    [MemberData(nameof(SingleHelloFrames))]
    public void Inflates_to_Hello_in_any_chunking(string hex)
    {
        byte[] wire = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        foreach (int chunk in new[] { wire.Length, 1, 2, 3 })
        {
            using var protocol = new WebSocketProtocol(WebSocketRole.Client, null, ContextTakeover);
            List<string> texts = Receive(protocol, wire, chunk);
            Assert.Equal(["Hello"], texts);
        }
    }

    [Fact]
    public void Second_message_uses_the_shared_context()
    {
        // §7.2.3.2: "Hello" twice with context takeover; the second refers back to the first.
        byte[] wire = Convert.FromHexString("c107f248cdc9c90700" + "c105f200110000");
        using var protocol = new WebSocketProtocol(WebSocketRole.Client, null, ContextTakeover);
        Assert.Equal(["Hello", "Hello"], Receive(protocol, wire, wire.Length));
    }

    [Fact]
    public void Server_compresses_Hello_to_the_rfc_bytes()
    {
        using var protocol = new WebSocketProtocol(WebSocketRole.Server, null, ContextTakeover);
        var output = new ArrayBufferWriter<byte>();
        protocol.WriteText(output, "Hello");
        Assert.Equal("C107F248CDC9C90700", Convert.ToHexString(output.WrittenSpan));
        output.Clear();
        protocol.WriteText(output, "Hello");
        Assert.Equal("C105F200110000", Convert.ToHexString(output.WrittenSpan));
    }

    [Fact]
    public void Without_context_takeover_each_message_stands_alone()
    {
        var noTakeover = new PerMessageDeflateParameters(true, true, null, null, threshold: 0);
        using var protocol = new WebSocketProtocol(WebSocketRole.Server, null, noTakeover);
        var output = new ArrayBufferWriter<byte>();
        protocol.WriteText(output, "Hello");
        string first = Convert.ToHexString(output.WrittenSpan);
        output.Clear();
        protocol.WriteText(output, "Hello");
        Assert.Equal(first, Convert.ToHexString(output.WrittenSpan));
        Assert.False(protocol.HoldsCompressionState);
    }

    private static List<string> Receive(WebSocketProtocol protocol, byte[] wire, int chunk)
    {
        var texts = new List<string>();
        for (int offset = 0; offset < wire.Length; offset += chunk)
        {
            Memory<byte> input = wire.AsSpan(offset, Math.Min(chunk, wire.Length - offset)).ToArray();
            while (true)
            {
                bool produced = protocol.TryReadEvent(input, out int consumed, out WebSocketEvent e);
                input = input[consumed..];
                if (!produced)
                {
                    break;
                }

                Assert.Equal(WebSocketEventType.Message, e.Type);
                texts.Add(Encoding.UTF8.GetString(e.Payload.Span));
            }
        }

        return texts;
    }
}
