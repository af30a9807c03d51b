using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Ws4Net.AspNetCore.Tests.Infrastructure;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>
/// Raw RFC 6455 frames written to a Kestrel-hosted endpoint over HTTP/1.1, with and without permessage-deflate:
/// the core's rules (close codes for bad input, RSV1 meaning compression) hold through the adapter, which only
/// hands bytes over.
/// </summary>
public sealed class KestrelRawProtocolTests
{
    private static void MapEcho(WebApplication app) => app.MapWebSocket<EchoHandler>("/echo");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Invalid_utf8_closes_with_1007_and_a_reserved_bit_with_1002(bool compression)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapEcho, o => o.Compression = compression);

        using (RawSocket raw = await RawSocket.OpenAsync(host.Http1Port, offerDeflate: false))
        {
            await raw.SendFrameAsync(0x1, [0xC3, 0x28]);
            (int opcode, _, byte[] payload) = await raw.ReadFrameAsync();
            Assert.Equal(0x8, opcode);
            Assert.Equal(1007, BinaryPrimitives.ReadUInt16BigEndian(payload));
        }

        using (RawSocket raw = await RawSocket.OpenAsync(host.Http1Port, offerDeflate: false))
        {
            await raw.SendFrameAsync(0x1, "x"u8.ToArray(), rsv: 0x20);
            (int opcode, _, byte[] payload) = await raw.ReadFrameAsync();
            Assert.Equal(0x8, opcode);
            Assert.Equal(1002, BinaryPrimitives.ReadUInt16BigEndian(payload));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_compressed_message_is_understood_only_when_deflate_was_negotiated(bool compression)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapEcho, o => o.Compression = compression);
        using RawSocket raw = await RawSocket.OpenAsync(host.Http1Port, offerDeflate: true);
        Assert.Equal(compression, raw.ResponseHead.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase));

        string text = string.Concat(Enumerable.Repeat("hello kestrel ", 100));
        await raw.SendFrameAsync(0x1, Deflate(Encoding.UTF8.GetBytes(text)), rsv: 0x40);
        (int opcode, int rsv, byte[] payload) = await raw.ReadFrameAsync();
        if (compression)
        {
            Assert.Equal(0x1, opcode);
            Assert.Equal(0x40, rsv);
            Assert.Equal(text, Encoding.UTF8.GetString(Inflate(payload)));
        }
        else
        {
            // RSV1 without a negotiated extension is a protocol error (RFC 6455 §5.2).
            Assert.Equal(0x8, opcode);
            Assert.Equal(1002, BinaryPrimitives.ReadUInt16BigEndian(payload));
        }
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
        }

        byte[] bytes = output.ToArray();
        // RFC 7692 §7.2.1: drop the 00 00 ff ff tail of the sync flush (DeflateStream may also end the stream; both inflate).
        int length = bytes.Length;
        if (length >= 4 && bytes[^4] == 0 && bytes[^3] == 0 && bytes[^2] == 0xff && bytes[^1] == 0xff)
        {
            length -= 4;
        }

        return bytes[..length];
    }

    private static byte[] Inflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, 0x00, 0x00, 0xff, 0xff]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        try
        {
            inflate.CopyTo(output);
        }
        catch (InvalidDataException) when (output.Length > 0)
        {
            // The appended tail makes an unterminated stream look truncated; what was inflated is complete.
        }

        return output.ToArray();
    }

    /// <summary>A hand-written HTTP/1.1 WebSocket client on a raw socket (masks its frames, reads unmasked ones).</summary>
    private sealed class RawSocket : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;

        private RawSocket(Socket socket, string head)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            ResponseHead = head;
        }

        public string ResponseHead { get; private set; }

        public static async Task<RawSocket> OpenAsync(int port, bool offerDeflate)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
            var raw = new RawSocket(socket, string.Empty);
            string request = $"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : string.Empty) + "\r\n";
            await raw._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            var head = new StringBuilder();
            byte[] one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                await raw._stream.ReadExactlyAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                head.Append((char)one[0]);
            }

            raw.ResponseHead = head.ToString();
            Assert.StartsWith("HTTP/1.1 101", raw.ResponseHead, StringComparison.Ordinal);
            return raw;
        }

        public async Task SendFrameAsync(int opcode, byte[] payload, int rsv = 0)
        {
            Assert.True(payload.Length < 126);
            byte[] mask = RandomNumberGenerator.GetBytes(4);
            var frame = new byte[2 + 4 + payload.Length];
            frame[0] = (byte)(0x80 | rsv | opcode);
            frame[1] = (byte)(0x80 | payload.Length);
            mask.CopyTo(frame, 2);
            for (int i = 0; i < payload.Length; i++)
            {
                frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
            }

            await _stream.WriteAsync(frame);
        }

        public async Task<(int Opcode, int Rsv, byte[] Payload)> ReadFrameAsync()
        {
            byte[] header = new byte[2];
            await _stream.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            long length = header[1] & 0x7f;
            if (length == 126)
            {
                byte[] ext = new byte[2];
                await _stream.ReadExactlyAsync(ext);
                length = BinaryPrimitives.ReadUInt16BigEndian(ext);
            }
            else if (length == 127)
            {
                byte[] ext = new byte[8];
                await _stream.ReadExactlyAsync(ext);
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
            }

            byte[] payload = new byte[length];
            await _stream.ReadExactlyAsync(payload).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            return (header[0] & 0x0f, header[0] & 0x70, payload);
        }

        public void Dispose() => _stream.Dispose();
    }
}
