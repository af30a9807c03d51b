using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Ws4Net.Tests;

/// <summary>An HTTP response head (and body) as read off a raw socket.</summary>
internal sealed record RawHttpResponse(int StatusCode, string StatusLine, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name)
        => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>A frame as read off a raw socket.</summary>
internal sealed record RawFrame(bool Fin, int Opcode, bool Masked, byte[] Payload)
{
    public int CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : 0;

    public string CloseReason => Payload.Length > 2 ? Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2) : string.Empty;
}

/// <summary>
/// A hand-written client over a plain <see cref="TcpClient"/>: writes HTTP and frames byte by byte
/// and reads what the server answers, so tests can send what our own client never would
/// (bad handshakes, unmasked frames, invalid UTF-8) or stay silent.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private byte[] _buffered = [];

    private RawClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_tcp.Client.LocalEndPoint!;

    public NetworkStream Stream => _stream;

    public static async Task<RawClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port).WithTimeout();
        return new RawClient(tcp);
    }

    /// <summary>Connects, performs a valid opening handshake on <paramref name="pathAndQuery"/> and checks the 101 answer.</summary>
    public static async Task<RawClient> HandshakeAsync(int port, string pathAndQuery)
    {
        RawClient client = await ConnectAsync(port);
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await client.WriteAsync(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        RawHttpResponse response = await client.ReadHttpResponseAsync(readBody: false);
        Assert.Equal(101, response.StatusCode);
        string expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Assert.Equal(expectedAccept, response.Header("Sec-WebSocket-Accept"));
        return client;
    }

    public Task WriteAsync(string ascii) => WriteAsync(Encoding.ASCII.GetBytes(ascii));

    public Task WriteAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask().WithTimeout();

    /// <summary>Reads a response head (and, with <paramref name="readBody"/>, a Content-Length body).</summary>
    public async Task<RawHttpResponse> ReadHttpResponseAsync(bool readBody = true)
    {
        var head = new List<byte>();
        while (true)
        {
            byte b = await ReadByteAsync();
            head.Add(b);
            int n = head.Count;
            if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n')
            {
                break;
            }

            Assert.True(n < 64 * 1024, "response head too long");
        }

        string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        string statusLine = lines[0];
        string[] parts = statusLine.Split(' ', 3);
        Assert.Equal("HTTP/1.1", parts[0]);
        int status = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        byte[] body = [];
        string? length = headers.FirstOrDefault(h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)).Value;
        if (readBody && length is not null)
        {
            body = await ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
        }

        return new RawHttpResponse(status, statusLine, headers, body);
    }

    public async Task<byte[]> ReadExactlyAsync(int count)
    {
        byte[] result = new byte[count];
        int have = Math.Min(count, _buffered.Length);
        _buffered.AsSpan(0, have).CopyTo(result);
        _buffered = _buffered[have..];
        if (have < count)
        {
            await _stream.ReadExactlyAsync(result.AsMemory(have)).AsTask().WithTimeout();
        }

        return result;
    }

    /// <summary>Reads one frame (header, optional mask, payload).</summary>
    public async Task<RawFrame> ReadFrameAsync()
    {
        byte[] header = await ReadExactlyAsync(2);
        bool fin = (header[0] & 0x80) != 0;
        int opcode = header[0] & 0x0F;
        bool masked = (header[1] & 0x80) != 0;
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2));
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8));
        }

        byte[] mask = masked ? await ReadExactlyAsync(4) : [];
        byte[] payload = await ReadExactlyAsync(checked((int)length));
        if (masked)
        {
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i % 4];
            }
        }

        return new RawFrame(fin, opcode, masked, payload);
    }

    /// <summary>
    /// Reads until the server closes the TCP connection; returns the bytes that came before the end
    /// (a reset counts as the end too).
    /// </summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var all = new MemoryStream();
        all.Write(_buffered);
        _buffered = [];
        byte[] chunk = new byte[4096];
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(chunk, cts.Token);
            }
            catch (IOException)
            {
                return all.ToArray();
            }

            if (read == 0)
            {
                return all.ToArray();
            }

            all.Write(chunk, 0, read);
        }
    }

    /// <summary>Encodes a frame as a client would (masked) or, with <paramref name="mask"/> false, as a broken client.</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, long? announcedLength = null)
    {
        long length = announcedLength ?? payload.Length;
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (length < 126)
        {
            frame.Add((byte)(maskBit | length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)(length >> shift));
            }
        }

        byte[] key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        frame.AddRange(key);
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(mask ? (byte)(payload[i] ^ key[i % 4]) : payload[i]);
        }

        return [.. frame];
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<byte> ReadByteAsync()
    {
        if (_buffered.Length > 0)
        {
            byte b = _buffered[0];
            _buffered = _buffered[1..];
            return b;
        }

        byte[] chunk = new byte[4096];
        int read = await _stream.ReadAsync(chunk).AsTask().WithTimeout();
        if (read == 0)
        {
            throw new EndOfStreamException("The server closed the connection.");
        }

        _buffered = chunk[..read];
        return await ReadByteAsync();
    }
}
