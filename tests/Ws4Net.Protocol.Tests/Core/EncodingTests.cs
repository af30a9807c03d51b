using System.Buffers;
using System.Text;

namespace Ws4Net.Protocol.Tests.Core;

/// <summary>The send side: exact bytes from the server role, masking from the client role.</summary>
public sealed class EncodingTests
{
    private static byte[] Written(Action<WebSocketProtocol, ArrayBufferWriter<byte>> write, WebSocketRole role = WebSocketRole.Server, WebSocketProtocolOptions? options = null)
    {
        using var p = new WebSocketProtocol(role, options);
        var output = new ArrayBufferWriter<byte>();
        write(p, output);
        return output.WrittenSpan.ToArray();
    }

    public static TheoryData<int, string> LengthEncodings => new()
    {
        { 0, "8200" },
        { 1, "8201" },
        { 125, "827D" },
        { 126, "827E007E" },
        { 127, "827E007F" },
        { 65535, "827EFFFF" },
        { 65536, "827F0000000000010000" },
        { 65537, "827F0000000000010001" },
    };

    [Theory]
    [MemberData(nameof(LengthEncodings))]
    public void Server_WriteMessage_UsesMinimalLengthEncoding(int length, string header)
    {
        byte[] payload = Frames.Pattern(length, seed: length);

        byte[] o = Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, payload));

        Assert.Equal(header, Hex.Format(o.AsSpan(0, header.Length / 2)));
        Assert.Equal(header.Length / 2 + length, o.Length);
        Assert.True(o.AsSpan(header.Length / 2).SequenceEqual(payload));
    }

    [Theory]
    [MemberData(nameof(LengthEncodings))]
    public void Server_WriteText_UsesMinimalLengthEncoding(int length, string header)
    {
        string text = new('x', length);

        byte[] o = Written((p, w) => p.WriteText(w, text));

        Assert.Equal("81" + header[2..], Hex.Format(o.AsSpan(0, header.Length / 2)));
        Assert.Equal(header.Length / 2 + length, o.Length);
        Assert.True(o.AsSpan(header.Length / 2).SequenceEqual(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Server_WriteMessageText_IsRfcExample()
    {
        Assert.Equal("810548656C6C6F", Hex.Format(Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Text, "Hello"u8))));
        Assert.Equal("810548656C6C6F", Hex.Format(Written((p, w) => p.WriteText(w, "Hello"))));
    }

    [Fact]
    public void Server_FragmentedText_IsRfcExample()
    {
        Assert.Equal("010348656C80026C6F", Hex.Format(Written((p, w) =>
        {
            p.WriteMessage(w, WebSocketMessageKind.Text, "Hel"u8, endOfMessage: false);
            p.WriteMessage(w, WebSocketMessageKind.Text, "lo"u8, endOfMessage: true);
        })));
        Assert.Equal("010348656C80026C6F", Hex.Format(Written((p, w) =>
        {
            p.WriteText(w, "Hel", endOfMessage: false);
            p.WriteText(w, "lo");
        })));
    }

    [Fact]
    public void Server_FragmentedBinary_ThreeParts_AndMixedWriters()
    {
        Assert.Equal("0201AA0000800101", Hex.Format(Written((p, w) =>
        {
            p.WriteMessage(w, WebSocketMessageKind.Binary, [0xAA], endOfMessage: false);
            p.WriteMessage(w, WebSocketMessageKind.Binary, [], endOfMessage: false);
            p.WriteMessage(w, WebSocketMessageKind.Binary, [0x01]);
        })));

        // WriteText may continue a text message begun with WriteMessage, and vice versa.
        Assert.Equal("010161" + "800162" + "010163" + "000164" + "800165" + "8101D1", Hex.Format(Written((p, w) =>
        {
            p.WriteMessage(w, WebSocketMessageKind.Text, "a"u8, endOfMessage: false);
            p.WriteText(w, "b");
            p.WriteText(w, "c", endOfMessage: false);
            p.WriteMessage(w, WebSocketMessageKind.Text, "d"u8, endOfMessage: false);
            p.WriteText(w, "e");
            p.WriteMessage(w, WebSocketMessageKind.Text, [0xD1]);   // not validated on send
        })));
    }

    [Fact]
    public void Server_WriteText_EncodesUtf8AndReplacesLoneSurrogates()
    {
        Assert.Equal("8103E282AC", Hex.Format(Written((p, w) => p.WriteText(w, "€"))));
        Assert.Equal("8104F09D849E", Hex.Format(Written((p, w) => p.WriteText(w, "\U0001D11E"))));
        Assert.Equal("8106EFBFBEEFBFBF", Hex.Format(Written((p, w) => p.WriteText(w, "\uFFFE\uFFFF"))));
        Assert.Equal("8103EFBFBD", Hex.Format(Written((p, w) => p.WriteText(w, "\uD800"))));
        Assert.Equal("8105EFBFBD6162", Hex.Format(Written((p, w) => p.WriteText(w, "\uDC00ab"))));
        Assert.Equal("8100", Hex.Format(Written((p, w) => p.WriteText(w, string.Empty))));
    }

    [Fact]
    public void Server_ControlFrames_ExactBytes()
    {
        Assert.Equal("890548656C6C6F", Hex.Format(Written((p, w) => p.WritePing(w, "Hello"u8))));
        Assert.Equal("8A0548656C6C6F", Hex.Format(Written((p, w) => p.WritePong(w, "Hello"u8))));
        Assert.Equal("8900", Hex.Format(Written((p, w) => p.WritePing(w, []))));
        Assert.Equal("8A00", Hex.Format(Written((p, w) => p.WritePong(w, []))));

        byte[] max = Frames.Pattern(125, seed: 125);
        Assert.Equal("897D" + Hex.Format(max), Hex.Format(Written((p, w) => p.WritePing(w, max))));
        Assert.Equal("8A7D" + Hex.Format(max), Hex.Format(Written((p, w) => p.WritePong(w, max))));
    }

    [Fact]
    public void ControlFramesOver125Bytes_Throw()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentException>(() => p.WritePing(w, new byte[126]));
        Assert.Throws<ArgumentException>(() => p.WritePong(w, new byte[126]));
        Assert.Equal(0, w.WrittenCount);
    }

    [Fact]
    public void Server_WriteClose_ExactBytes()
    {
        Assert.Equal("8800", Hex.Format(Written((p, w) => p.WriteClose(w, null))));
        Assert.Equal("8800", Hex.Format(Written((p, w) => p.WriteClose(w, null, "ignored without a code"))));
        Assert.Equal("880203E8", Hex.Format(Written((p, w) => p.WriteClose(w, WebSocketCloseCode.NormalClosure))));
        Assert.Equal("880203E8", Hex.Format(Written((p, w) => p.WriteClose(w, WebSocketCloseCode.NormalClosure, string.Empty))));
        Assert.Equal("880503E8627965", Hex.Format(Written((p, w) => p.WriteClose(w, WebSocketCloseCode.NormalClosure, "bye"))));
        Assert.Equal("88020FA0", Hex.Format(Written((p, w) => p.WriteClose(w, (WebSocketCloseCode)4000))));
        Assert.Equal("880203F3", Hex.Format(Written((p, w) => p.WriteClose(w, WebSocketCloseCode.InternalError))));

        string reason = new string('r', 120) + "€";   // 123 UTF-8 bytes
        byte[] o = Written((p, w) => p.WriteClose(w, WebSocketCloseCode.GoingAway, reason));
        Assert.Equal("887D03E9", Hex.Format(o.AsSpan(0, 4)));
        Assert.Equal(reason, Encoding.UTF8.GetString(o.AsSpan(4)));
    }

    [Fact]
    public void WriteClose_ReasonOver123Bytes_Throws()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentException>(() => p.WriteClose(w, WebSocketCloseCode.NormalClosure, new string('r', 124)));
        Assert.Throws<ArgumentException>(() => p.WriteClose(w, WebSocketCloseCode.NormalClosure, new string('r', 121) + "€"));
        Assert.Equal(0, w.WrittenCount);
        Assert.Equal(WebSocketProtocolState.Open, p.State);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void WriteClose_InvalidCode_Throws(int code)
    {
        using var p = new WebSocketProtocol(WebSocketRole.Client);
        var w = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentOutOfRangeException>(() => p.WriteClose(w, (WebSocketCloseCode)code));
        Assert.Equal(0, w.WrittenCount);
        Assert.False(p.IsCloseSent);
    }

    [Fact]
    public void MaxSendFrameSize_AutoFragments()
    {
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = 4 };
        byte[] data = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

        Assert.Equal("020400010203" + "000404050607" + "80020809", Hex.Format(Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, data), options: options)));

        // An exact multiple: no empty trailing frame.
        Assert.Equal("020400010203" + "800404050607", Hex.Format(Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, data.AsSpan(0, 8)), options: options)));

        // At the limit: one frame.
        Assert.Equal("820400010203", Hex.Format(Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, data.AsSpan(0, 4)), options: options)));

        // A continued message: every later frame is a continuation, FIN only on the very last.
        Assert.Equal("020400010203" + "00020405" + "000406070809" + "800109", Hex.Format(Written(
            (p, w) =>
            {
                p.WriteMessage(w, WebSocketMessageKind.Binary, data.AsSpan(0, 6), endOfMessage: false);
                p.WriteMessage(w, WebSocketMessageKind.Binary, data.AsSpan(6, 4), endOfMessage: false);
                p.WriteMessage(w, WebSocketMessageKind.Binary, [9]);
            },
            options: options)));
    }

    [Fact]
    public void MaxSendFrameSize_AutoFragmentsText()
    {
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = 2 };

        // "a€" is 61 E2 82 AC: cut inside the code point, as §5.6 allows for fragments.
        Assert.Equal("0102" + "61E2" + "800282AC", Hex.Format(Written((p, w) => p.WriteText(w, "a€"), options: options)));
        Assert.Equal("0102" + "61E2" + "000282AC" + "800162", Hex.Format(Written(
            (p, w) =>
            {
                p.WriteText(w, "a€", endOfMessage: false);
                p.WriteText(w, "b");
            },
            options: options)));
    }

    [Fact]
    public void MessageTypeMismatchInsideAMessage_Throws()
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new ArrayBufferWriter<byte>();
        p.WriteMessage(w, WebSocketMessageKind.Text, "a"u8, endOfMessage: false);

        Assert.Throws<InvalidOperationException>(() => p.WriteMessage(w, WebSocketMessageKind.Binary, [1]));
        Assert.Equal("010161", Hex.Format(w.WrittenSpan));

        var w2 = new ArrayBufferWriter<byte>();
        using var q = new WebSocketProtocol(WebSocketRole.Server);
        q.WriteMessage(w2, WebSocketMessageKind.Binary, [1], endOfMessage: false);
        Assert.Throws<InvalidOperationException>(() => q.WriteText(w2, "a"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(8)]
    public void InvalidMessageType_Throws(int type)
    {
        using var p = new WebSocketProtocol(WebSocketRole.Server);
        var w = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentOutOfRangeException>(() => p.WriteMessage(w, (WebSocketMessageKind)type, [1]));
        Assert.Equal(0, w.WrittenCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void Client_WriteMessage_IsMaskedAndUnmasksToPayload(int length)
    {
        byte[] payload = Frames.Pattern(length, seed: length + 7);

        byte[] o = Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, payload), WebSocketRole.Client);

        int ext = length <= 125 ? 0 : length <= 65535 ? 2 : 8;
        Assert.Equal(2 + ext + 4 + length, o.Length);
        Assert.Equal(0x82, o[0]);
        Assert.Equal(0x80 | (ext == 0 ? length : ext == 2 ? 126 : 127), o[1]);
        WireFrame f = WireFrame.Parse(o, out int frameLength);
        Assert.Equal(o.Length, frameLength);
        Assert.True(f.Masked);
        Assert.Equal(ext, f.ExtendedLengthBytes);
        Assert.True(f.Payload.AsSpan().SequenceEqual(payload));
    }

    [Fact]
    public void Client_EveryWriter_SetsMaskBit_AndUnmasksToPayload()
    {
        byte[] o = Written(
            (p, w) =>
            {
                p.WriteMessage(w, WebSocketMessageKind.Text, "Hello"u8);
                p.WriteText(w, "κόσμε");
                p.WriteText(w, "Hel", endOfMessage: false);
                p.WriteText(w, "lo");
                p.WritePing(w, "ping"u8);
                p.WritePong(w, "pong"u8);
                p.WritePing(w, []);
                p.WriteClose(w, WebSocketCloseCode.NormalClosure, "bye");
            },
            WebSocketRole.Client);

        List<WireFrame> frames = WireFrame.ParseAll(o);
        Assert.All(frames, f => Assert.True(f.Masked));
        Assert.All(frames, f => Assert.Equal(0, f.Rsv));
        Assert.Equal(
            [
                "fin=True op=1 " + Hex.Format("Hello"u8),
                "fin=True op=1 " + Hex.Format(Encoding.UTF8.GetBytes("κόσμε")),
                "fin=False op=1 " + Hex.Format("Hel"u8),
                "fin=True op=0 " + Hex.Format("lo"u8),
                "fin=True op=9 " + Hex.Format("ping"u8),
                "fin=True op=10 " + Hex.Format("pong"u8),
                "fin=True op=9 ",
                "fin=True op=8 03E8" + Hex.Format("bye"u8),
            ],
            frames.Select(f => $"fin={f.Fin} op={f.Opcode} {Hex.Format(f.Payload)}"));
    }

    [Fact]
    public void Client_MaskingKeyDiffersBetweenFrames()
    {
        const int Count = 300;   // crosses several refills of the engine's key pool
        byte[] o = Written(
            (p, w) =>
            {
                for (int i = 0; i < Count; i++)
                {
                    switch (i % 4)
                    {
                        case 0: p.WriteMessage(w, WebSocketMessageKind.Binary, [(byte)i, 1, 2, 3, 4, 5, 6, 7]); break;
                        case 1: p.WriteText(w, "text"); break;
                        case 2: p.WritePing(w, [(byte)i]); break;
                        default: p.WritePong(w, []); break;
                    }
                }
            },
            WebSocketRole.Client);

        List<WireFrame> frames = WireFrame.ParseAll(o);
        Assert.Equal(Count, frames.Count);
        List<uint> keys = frames.Select(f => Framing.WebSocketMasking.ToUInt32(f.MaskKey)).ToList();
        for (int i = 1; i < keys.Count; i++)
        {
            Assert.NotEqual(keys[i - 1], keys[i]);
        }

        Assert.True(keys.Distinct().Count() >= Count - 2, "masking keys repeat: they must come from a fresh random source for every frame");
        Assert.Equal("0001020304050607", Hex.Format(frames[0].Payload));
    }

    [Fact]
    public void Client_SamePayloadTwice_GivesDifferentWireBytes()
    {
        byte[] payload = Frames.Pattern(64, seed: 64);
        byte[] o = Written(
            (p, w) =>
            {
                p.WriteMessage(w, WebSocketMessageKind.Binary, payload);
                p.WriteMessage(w, WebSocketMessageKind.Binary, payload);
            },
            WebSocketRole.Client);

        Assert.Equal(2 * (2 + 4 + 64), o.Length);
        Assert.False(o.AsSpan(0, 70).SequenceEqual(o.AsSpan(70, 70)));
        List<WireFrame> frames = WireFrame.ParseAll(o);
        Assert.Equal(payload, frames[0].Payload);
        Assert.Equal(payload, frames[1].Payload);
    }

    [Fact]
    public void Client_AutoFragmentation_MasksEachFrameWithItsOwnKey()
    {
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = 100 };
        byte[] payload = Frames.Pattern(1050, seed: 1050);

        byte[] o = Written((p, w) => p.WriteMessage(w, WebSocketMessageKind.Binary, payload), WebSocketRole.Client, options);

        List<WireFrame> frames = WireFrame.ParseAll(o);
        Assert.Equal(11, frames.Count);
        Assert.Equal(2, frames[0].Opcode);
        Assert.All(frames.Skip(1), f => Assert.Equal(0, f.Opcode));
        Assert.All(frames.Take(10), f => Assert.False(f.Fin));
        Assert.True(frames[^1].Fin);
        Assert.All(frames, f => Assert.True(f.Masked));
        Assert.Equal(payload, frames.SelectMany(f => f.Payload).ToArray());
    }

    [Fact]
    public void Client_WriteText_AutoFragmented_IsMasked()
    {
        var options = new WebSocketProtocolOptions { MaxSendFrameSize = 3 };
        string text = "añ€\U0001F600z";

        byte[] o = Written((p, w) => p.WriteText(w, text), WebSocketRole.Client, options);

        List<WireFrame> frames = WireFrame.ParseAll(o);
        Assert.All(frames, f => Assert.True(f.Masked));
        Assert.All(frames, f => Assert.InRange(f.Payload.Length, 1, 3));
        Assert.Equal(text, Encoding.UTF8.GetString(frames.SelectMany(f => f.Payload).ToArray()));
        Assert.Equal(1, frames[0].Opcode);
        Assert.True(frames[^1].Fin);
        Assert.Equal(frames.Count - 1, frames.Count(f => !f.Fin));
    }

    [Fact]
    public void Options_RejectInvalidValues()
    {
        var o = new WebSocketProtocolOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxSendFrameSize = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxMessageSize = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxFrameSize = 124);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxPendingControlBytes = 255);
        Assert.Equal(4 * 1024 * 1024, o.MaxMessageSize);
        Assert.Equal(o.MaxMessageSize, o.MaxFrameSize);
        o.MaxMessageSize = 1000;
        Assert.Equal(1000, o.MaxFrameSize);
        o.MaxFrameSize = 125;
        Assert.Equal(125, o.MaxFrameSize);
    }
}
