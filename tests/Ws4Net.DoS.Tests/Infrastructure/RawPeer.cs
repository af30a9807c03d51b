using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Ws4Net.DoS.Tests;

/// <summary>A frame read from the server (server frames are never masked).</summary>
internal sealed record ServerFrame(bool Fin, int Opcode, byte[] Payload)
{
    public int CloseCode => Opcode == 8 && Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : 0;
}

/// <summary>How a raw peer's connection ended, as seen from the peer.</summary>
/// <param name="CloseCode">The code of the server's close frame, 0 if none came.</param>
/// <param name="Eof">The server closed TCP (FIN or reset) after it.</param>
/// <param name="Frames">Frames read before the end (pings, data).</param>
internal sealed record PeerEnd(int CloseCode, bool Eof, IReadOnlyList<ServerFrame> Frames);

/// <summary>
/// A hostile or hand-written WebSocket peer on a raw socket (optionally inside TLS): sends exactly the bytes a
/// test wants (slow, malformed, oversized), reads the server's answers, and can reset the connection (RST).
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private static readonly byte[] s_mask = [0x12, 0x34, 0x56, 0x78];
    private readonly Socket _socket;
    private Stream _stream;
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    private RawPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public Socket Socket => _socket;

    public static async Task<RawPeer> ConnectAsync(int port, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new RawPeer(socket);
    }

    /// <summary>Wraps the connection in TLS (any server certificate accepted: the server's is a test certificate).</summary>
    public async Task StartTlsAsync(CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cancellationToken);
        _stream = ssl;
    }

    public static string UpgradeRequest(string path = "/echo", string? extensions = null, string? extraHeaders = null)
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        return $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + (extensions is null ? string.Empty : $"Sec-WebSocket-Extensions: {extensions}\r\n")
            + (extraHeaders ?? string.Empty) + "\r\n";
    }

    /// <summary>Connects (optionally TLS), sends an upgrade request and checks the 101; returns the response head.</summary>
    public static async Task<(RawPeer Peer, string Head)> HandshakeAsync(int port, string path = "/echo", string? extensions = null, bool tls = false, CancellationToken cancellationToken = default)
    {
        RawPeer peer = await ConnectAsync(port, cancellationToken);
        try
        {
            if (tls)
            {
                await peer.StartTlsAsync(cancellationToken);
            }

            await peer.SendAsync(UpgradeRequest(path, extensions), cancellationToken);
            string head = await peer.ReadHttpHeadAsync(cancellationToken);
            if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"expected 101, got: {head}");
            }

            return (peer, head);
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public Task SendAsync(string ascii, CancellationToken cancellationToken = default) => SendAsync(Encoding.ASCII.GetBytes(ascii), cancellationToken);

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => await _stream.WriteAsync(bytes, cancellationToken);

    /// <summary>A masked client frame (RFC 6455 §5.2).</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool rsv1 = false)
    {
        var frame = new List<byte>(payload.Length + 14) { (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode) };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)((long)payload.Length >> shift));
            }
        }

        frame.AddRange(s_mask);
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ s_mask[i % 4]));
        }

        return [.. frame];
    }

    /// <summary>Just the header of a masked client frame announcing <paramref name="length"/> payload bytes (64-bit form), mask included.</summary>
    public static byte[] Header64(int opcode, ulong length, bool fin = true)
    {
        byte[] header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | opcode);
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), length);
        s_mask.CopyTo(header, 10);
        return header;
    }

    public async Task<string> ReadHttpHeadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + 4;
                return head;
            }

            if (!await FillAsync(cancellationToken))
            {
                throw new EndOfStreamException($"the server closed before the end of the response head: {Encoding.ASCII.GetString(_buffer, _start, _end - _start)}");
            }
        }
    }

    /// <summary>Reads one server frame, or null at EOF or reset.</summary>
    public async Task<ServerFrame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (!await EnsureAsync(2, cancellationToken))
            {
                return null;
            }

            byte b0 = _buffer[_start];
            int len7 = _buffer[_start + 1] & 0x7F;
            int headerLength = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
            if (!await EnsureAsync(headerLength, cancellationToken))
            {
                return null;
            }

            long length = len7 == 126 ? BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2))
                : len7 == 127 ? (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2)) : len7;
            if (!await EnsureAsync(headerLength + (int)length, cancellationToken))
            {
                return null;
            }

            byte[] payload = _buffer.AsSpan(_start + headerLength, (int)length).ToArray();
            _start += headerLength + (int)length;
            return new ServerFrame((b0 & 0x80) != 0, b0 & 0x0F, payload);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return null;
        }
    }

    /// <summary>Reads frames until the server's close frame and then EOF (or just EOF), within <paramref name="timeout"/>.</summary>
    public async Task<PeerEnd> ReadToEndAsync(TimeSpan timeout, bool keepFrames = false)
    {
        using var cts = new CancellationTokenSource(timeout);
        var frames = new List<ServerFrame>();
        int closeCode = 0;
        try
        {
            while (await ReadFrameAsync(cts.Token) is { } frame)
            {
                if (frame.Opcode == 8)
                {
                    closeCode = frame.CloseCode == 0 ? 1005 : frame.CloseCode;
                }
                else if (keepFrames || frame.Opcode == 9)
                {
                    frames.Add(frame);
                }
            }

            return new PeerEnd(closeCode, Eof: true, frames);
        }
        catch (OperationCanceledException)
        {
            return new PeerEnd(closeCode, Eof: false, frames);
        }
    }

    /// <summary>Reads raw bytes until EOF or reset (for peers whose handshake never completed): the number of bytes and whether the end came in time.</summary>
    public async Task<(int Bytes, bool Eof)> DrainAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        int total = _end - _start;
        _start = _end = 0;
        try
        {
            while (true)
            {
                int n = await _stream.ReadAsync(_buffer, cts.Token);
                if (n == 0)
                {
                    return (total, true);
                }

                total += n;
            }
        }
        catch (OperationCanceledException)
        {
            return (total, false);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return (total, true);
        }
    }

    /// <summary>Closes with a TCP reset (SO_LINGER 0).</summary>
    public void Reset()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }

    private async Task<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0 && _start == _end)
        {
            _start = _end = 0;
        }

        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }

        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += n;
        return n > 0;
    }
}
