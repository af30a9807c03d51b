using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Ws4Net.Protocol;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// The test's side of a connection, on a plain socket: a hand-written client (when our server is under
/// test) or a hand-written server (when our client is under test). It performs the opening handshake by
/// hand, writes crafted bytes in any chunking, and parses every frame the endpoint under test sends,
/// checking what RFC 6455 requires of a sender (mask bit by role, minimal length encoding, no reserved
/// bits or opcodes, unfragmented control frames of at most 125 bytes).
/// </summary>
public sealed class RawPeer : IAsyncDisposable
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Random _random;
    private readonly byte[] _buffer = new byte[256 * 1024];
    private int _start;
    private int _end;
    private Task<int>? _pendingFill;
    private bool _eof;

    private RawPeer(Socket socket, Role underTest, int seed)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _random = new Random(seed);
        UnderTest = underTest;
    }

    /// <summary>Gets which of our endpoints is on the other side.</summary>
    public Role UnderTest { get; }

    /// <summary>Gets "our server" or "our client", for messages.</summary>
    public string UnderTestName => UnderTest == Role.Server ? "our server" : "our client";

    /// <summary>Gets whether this side masks what it sends (it plays the client).</summary>
    public bool MasksOutgoing => UnderTest == Role.Server;

    /// <summary>Gets the local port of this side's socket.</summary>
    public int LocalPort => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Gets whether the endpoint under test ended TCP with a reset rather than a FIN.</summary>
    public bool SawReset { get; private set; }

    /// <summary>Gets the connection object of the endpoint under test (set by the case runner).</summary>
    internal Func<Task<WebSocketConnection>> UnderTestConnection { get; set; } = () => throw new InvalidOperationException("not attached");

    // =====================================================================================
    // Opening handshake
    // =====================================================================================

    /// <summary>Connects to our server and performs the client side of the opening handshake by hand.</summary>
    public static async Task<RawPeer> ConnectAsync(int port, string path, int seed, byte[]? early = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Timeouts.Frame);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var peer = new RawPeer(socket, Role.Server, seed);
        try
        {
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string request = $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}\r\n"
                + $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await peer.SendAsync(FrameBuilder.Concat(Encoding.ASCII.GetBytes(request), early ?? []));
            (string startLine, Dictionary<string, string> headers) = await peer.ReadHttpHeadAsync();
            Assert.StartsWith("HTTP/1.1 101", startLine, StringComparison.Ordinal);
            AssertToken(headers, "Upgrade", "websocket");
            AssertToken(headers, "Connection", "upgrade");
            Assert.Equal(ComputeAccept(key), headers.GetValueOrDefault("sec-websocket-accept"));
            Assert.False(headers.ContainsKey("sec-websocket-extensions"), "no extension was offered, none may be accepted");
            Assert.False(headers.ContainsKey("sec-websocket-protocol"), "no subprotocol was offered, none may be selected");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Answers our client's opening handshake by hand on an accepted socket.</summary>
    public static async Task<RawPeer> AcceptAsync(Socket socket, int seed, byte[]? early = null)
    {
        socket.NoDelay = true;
        var peer = new RawPeer(socket, Role.Client, seed);
        try
        {
            (string requestLine, Dictionary<string, string> headers) = await peer.ReadHttpHeadAsync();
            Assert.Matches("^GET /[^ ]* HTTP/1\\.1$", requestLine);
            Assert.True(headers.ContainsKey("host"), "the request must carry Host");
            AssertToken(headers, "Upgrade", "websocket");
            AssertToken(headers, "Connection", "upgrade");
            Assert.Equal("13", headers.GetValueOrDefault("sec-websocket-version"));
            string key = headers.GetValueOrDefault("sec-websocket-key") ?? string.Empty;
            Assert.Equal(16, Convert.FromBase64String(key).Length);
            string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Accept: {ComputeAccept(key)}\r\n\r\n";
            await peer.SendAsync(FrameBuilder.Concat(Encoding.ASCII.GetBytes(response), early ?? []));
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2 step 5.4), computed here independently.</summary>
    public static string ComputeAccept(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    private static void AssertToken(Dictionary<string, string> headers, string name, string token)
    {
        string value = headers.GetValueOrDefault(name.ToLowerInvariant()) ?? string.Empty;
        Assert.True(
            value.Split(',').Any(t => string.Equals(t.Trim(), token, StringComparison.OrdinalIgnoreCase)),
            $"header {name} must contain the token '{token}' (got '{value}')");
    }

    private async Task<(string StartLine, Dictionary<string, string> Headers)> ReadHttpHeadAsync()
    {
        long deadline = Stopwatch.GetTimestamp() + Timeouts.Frame.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond;
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 4;
                string[] lines = head.Split("\r\n");
                var headers = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (string line in lines.Skip(1))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    Assert.True(colon > 0, $"malformed header line '{line}'");
                    string name = line[..colon].Trim().ToLowerInvariant();
                    string value = line[(colon + 1)..].Trim();
                    headers[name] = headers.TryGetValue(name, out string? previous) ? previous + ", " + value : value;
                }

                return (lines[0], headers);
            }

            Assert.True(_end - _start < 16 * 1024, "HTTP head too long");
            if (!await FillAsync(deadline))
            {
                Assert.Fail("the connection closed during the opening handshake");
            }
        }
    }

    // =====================================================================================
    // Sending
    // =====================================================================================

    /// <summary>A fresh random masking key.</summary>
    public byte[] NextMaskKey()
    {
        byte[] key = new byte[4];
        _random.NextBytes(key);
        return key;
    }

    /// <summary>Encodes a frame as this side should (masked when it plays the client), unless told otherwise.</summary>
    public byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, bool? masked = null)
        => FrameBuilder.Build(opcode, payload, fin, rsv, masked ?? MasksOutgoing ? NextMaskKey() : null);

    public byte[] TextFrame(string text, bool fin = true) => Frame(Op.Text, Encoding.UTF8.GetBytes(text), fin);

    public byte[] CloseFrame(int? code, ReadOnlySpan<byte> reason = default) => Frame(Op.Close, FrameBuilder.ClosePayload(code, reason));

    /// <summary>Writes bytes, cut into writes as <paramref name="chunking"/> says.</summary>
    /// <param name="bytes">What to write.</param>
    /// <param name="chunking">How to cut it into writes (default: one write).</param>
    /// <param name="mayBeClosed">When the endpoint under test may legitimately fail the connection before
    /// everything is written (a bad header sent byte by byte): a write error then ends the sending quietly.</param>
    /// <returns>Whether everything was written.</returns>
    public async Task<bool> SendAsync(byte[] bytes, Chunking? chunking = null, bool mayBeClosed = false)
    {
        chunking ??= Chunking.Whole;
        TimeSpan timeout = Timeouts.Frame + TimeSpan.FromMilliseconds(bytes.Length / 100_000.0 * 100);
        int pos = 0;
        int writes = 0;
        foreach (int size in chunking.Split(bytes.Length))
        {
            try
            {
                await _stream.WriteAsync(bytes.AsMemory(pos, size)).AsTask().WaitAsync(timeout);
            }
            catch (IOException) when (mayBeClosed)
            {
                return false;
            }

            pos += size;
            if (chunking.PauseEarly && ++writes <= 4)
            {
                await Task.Delay(1).WaitAsync(Timeouts.Frame);
            }
        }

        if (bytes.Length == 0)
        {
            await _stream.FlushAsync().WaitAsync(timeout);
        }

        return true;
    }

    public Task SendFrameAsync(int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, Chunking? chunking = null)
        => SendAsync(Frame(opcode, payload, fin, rsv), chunking);

    public Task SendTextAsync(string text) => SendAsync(TextFrame(text));

    public Task SendCloseAsync(int? code, ReadOnlySpan<byte> reason = default) => SendAsync(CloseFrame(code, reason));

    /// <summary>Half-closes TCP (sends FIN) without closing the socket.</summary>
    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
    }

    // =====================================================================================
    // Receiving
    // =====================================================================================

    private static long Deadline(TimeSpan timeout) => Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Remaining(long deadline)
    {
        long left = deadline - Stopwatch.GetTimestamp();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / Stopwatch.Frequency);
    }

    /// <summary>Reads more bytes into the buffer. Returns false at EOF. Throws TimeoutException at the deadline, keeping the read pending for the next call.</summary>
    private async Task<bool> FillAsync(long deadline)
    {
        if (_eof)
        {
            return false;
        }

        if (_pendingFill is null)
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_buffer.Length - _end < 1024)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            _pendingFill = _stream.ReadAsync(_buffer.AsMemory(_end)).AsTask();
        }

        TimeSpan left = Remaining(deadline);
        if (left == TimeSpan.Zero && !_pendingFill.IsCompleted)
        {
            throw new TimeoutException();
        }

        int read;
        try
        {
            read = await _pendingFill.WaitAsync(left);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            _pendingFill = null;
            _eof = true;
            SawReset = true;
            return false;
        }

        _pendingFill = null;
        if (read == 0)
        {
            _eof = true;
            return false;
        }

        _end += read;
        return true;
    }

    private async Task EnsureAsync(int count, long deadline, string what)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(deadline))
            {
                Assert.Fail($"{UnderTestName} closed TCP{(SawReset ? " (reset)" : string.Empty)} in the middle of {what}");
            }
        }
    }

    /// <summary>Reads the next frame, checking what RFC 6455 requires of its sender.</summary>
    /// <exception cref="TimeoutException">No complete frame within the timeout.</exception>
    public async Task<RawFrame> ReadFrameAsync(TimeSpan? timeout = null)
    {
        long deadline = Deadline(timeout ?? Timeouts.Frame);
        if (_end - _start < 2 && !await FillUntilAsync(2, deadline))
        {
            throw new EndOfStreamException($"{UnderTestName} closed TCP{(SawReset ? " (reset)" : string.Empty)} instead of sending a frame");
        }

        byte b0 = _buffer[_start];
        byte b1 = _buffer[_start + 1];
        int lengthCode = b1 & 0x7F;
        bool masked = (b1 & 0x80) != 0;
        int headerLength = 2 + (lengthCode == 126 ? 2 : lengthCode == 127 ? 8 : 0) + (masked ? 4 : 0);
        await EnsureAsync(headerLength, deadline, "a frame header");
        ulong length = lengthCode switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2)),
            127 => BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2)),
            _ => (ulong)lengthCode,
        };
        var frame = new RawFrame((b0 & 0x80) != 0, (b0 >> 4) & 7, b0 & 0x0F, masked, []);
        CheckSenderRules(frame, lengthCode, length);

        byte[] key = masked ? _buffer.AsSpan(_start + headerLength - 4, 4).ToArray() : [];
        _start += headerLength;
        byte[] payload = new byte[(int)length];
        int copied = 0;
        while (copied < payload.Length)
        {
            if (_start == _end)
            {
                try
                {
                    await EnsureAsync(1, deadline, $"the payload of a {frame} frame ({copied}/{payload.Length} bytes read)");
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"{UnderTestName} stalled in the middle of a {frame} frame ({copied}/{payload.Length} payload bytes arrived)");
                }
            }

            int take = Math.Min(_end - _start, payload.Length - copied);
            Buffer.BlockCopy(_buffer, _start, payload, copied, take);
            _start += take;
            copied += take;
        }

        if (masked)
        {
            FrameBuilder.Mask(payload, key, 0);
        }

        return frame with { Payload = payload, MaskKey = key };
    }

    private async Task<bool> FillUntilAsync(int count, long deadline)
    {
        while (_end - _start < count)
        {
            if (!await FillAsync(deadline))
            {
                if (_end - _start > 0)
                {
                    Assert.Fail($"{UnderTestName} closed TCP in the middle of a frame header");
                }

                return false;
            }
        }

        return true;
    }

    private void CheckSenderRules(RawFrame frame, int lengthCode, ulong length)
    {
        bool mustMask = UnderTest == Role.Client;
        if (frame.Masked != mustMask)
        {
            Assert.Fail($"{UnderTestName} sent a{(frame.Masked ? " masked" : "n unmasked")} frame: RFC 6455 §5.1 requires {(mustMask ? "a client to mask every frame" : "a server never to mask")} ({frame})");
        }

        if ((lengthCode == 126 && length < 126) || (lengthCode == 127 && length <= 0xFFFF))
        {
            Assert.Fail($"{UnderTestName} used a non-minimal payload length encoding ({lengthCode} form for {length} bytes; RFC 6455 §5.2)");
        }

        if (length > int.MaxValue)
        {
            Assert.Fail($"{UnderTestName} announced a {length}-byte frame");
        }

        if (frame.Rsv != 0)
        {
            Assert.Fail($"{UnderTestName} set reserved bits without a negotiated extension ({frame})");
        }

        if (frame.Opcode is not (Op.Continuation or Op.Text or Op.Binary or Op.Close or Op.Ping or Op.Pong))
        {
            Assert.Fail($"{UnderTestName} sent a reserved opcode ({frame})");
        }

        if (frame.IsControl && (!frame.Fin || length > 125))
        {
            Assert.Fail($"{UnderTestName} sent a fragmented or oversized control frame ({frame}, {length} bytes)");
        }
    }

    // =====================================================================================
    // Expectations
    // =====================================================================================

    /// <summary>Reads the next frame, which must exist (not EOF) within the timeout.</summary>
    public async Task<RawFrame> NextFrameAsync(string expectation, TimeSpan? timeout = null)
    {
        try
        {
            return await ReadFrameAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"expected {expectation} from {UnderTestName}, but nothing arrived within {(timeout ?? Timeouts.Frame).TotalSeconds:0.###} s");
            throw;
        }
        catch (EndOfStreamException ex)
        {
            Assert.Fail($"expected {expectation}, but {ex.Message}");
            throw;
        }
    }

    /// <summary>Expects one data message (possibly fragmented: first frame of the opcode, then continuations) with exactly this payload.</summary>
    /// <returns>The frames that carried it.</returns>
    public async Task<IReadOnlyList<RawFrame>> ExpectMessageAsync(int opcode, byte[] payload, TimeSpan? timeout = null)
    {
        string expectation = $"a {Op.Name(opcode)} message of {payload.Length} bytes";
        var frames = new List<RawFrame>();
        RawFrame frame = await NextFrameAsync(expectation, timeout);
        frames.Add(frame);
        if (frame.Opcode != opcode)
        {
            Assert.Fail($"expected {expectation}, got {frame}");
        }

        var assembled = new MemoryStream(frame.Payload.Length);
        assembled.Write(frame.Payload);
        while (!frame.Fin)
        {
            frame = await NextFrameAsync($"a continuation of {expectation}", timeout);
            frames.Add(frame);
            if (frame.Opcode != Op.Continuation)
            {
                Assert.Fail($"expected a continuation of {expectation}, got {frame}");
            }

            assembled.Write(frame.Payload);
        }

        AssertSamePayload(payload, assembled.ToArray(), expectation);
        return frames;
    }

    public Task<IReadOnlyList<RawFrame>> ExpectTextAsync(string text) => ExpectMessageAsync(Op.Text, Encoding.UTF8.GetBytes(text));

    public static void AssertSamePayload(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (expected.SequenceEqual(actual))
        {
            return;
        }

        int common = expected.CommonPrefixLength(actual);
        Assert.Fail($"{what}: payload differs (expected {expected.Length} bytes, got {actual.Length}; first difference at byte {common}: "
            + $"expected {Hex.Of(expected[Math.Min(common, expected.Length)..], 8)}, got {Hex.Of(actual[Math.Min(common, actual.Length)..], 8)})");
    }

    public async Task ExpectPongAsync(byte[] payload, TimeSpan? timeout = null)
    {
        RawFrame frame = await NextFrameAsync($"a pong of {payload.Length} bytes", timeout);
        if (frame.Opcode != Op.Pong)
        {
            Assert.Fail($"expected a pong of {payload.Length} bytes, got {frame}");
        }

        AssertSamePayload(payload, frame.Payload, "pong");
    }

    /// <summary>Expects a close frame with this code (null: an empty close frame) as the next frame.</summary>
    public async Task<RawFrame> ExpectCloseAsync(int? code, TimeSpan? timeout = null)
    {
        string expectation = code is null ? "an empty close frame" : $"a close frame with code {code}";
        RawFrame frame = await NextFrameAsync(expectation, timeout);
        if (frame.Opcode != Op.Close)
        {
            Assert.Fail($"expected {expectation}, got {frame}");
        }

        if (frame.CloseCode != code || (code is null && frame.Payload.Length != 0))
        {
            Assert.Fail($"expected {expectation}, got {frame}");
        }

        Assert.True(
            System.Text.Unicode.Utf8.IsValid(frame.Payload.AsSpan(Math.Min(2, frame.Payload.Length))),
            $"{UnderTestName} sent a close reason that is not valid UTF-8");
        return frame;
    }

    /// <summary>Expects TCP to end (FIN, or a reset) with no further frame, within the timeout.</summary>
    public async Task ExpectTcpClosedAsync(TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Timeouts.Frame;
        try
        {
            RawFrame unexpected = await ReadFrameAsync(limit);
            Assert.Fail($"expected {UnderTestName} to close TCP, but it sent {unexpected}");
        }
        catch (EndOfStreamException)
        {
            // Closed, as expected.
        }
        catch (TimeoutException)
        {
            Assert.Fail($"expected {UnderTestName} to close TCP, but it was still open after {limit.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Expects nothing at all (no frame, no TCP close) during <paramref name="window"/>.</summary>
    public async Task ExpectNothingAsync(TimeSpan? window = null, string why = "")
    {
        try
        {
            RawFrame unexpected = await ReadFrameAsync(window ?? Timeouts.Quiet);
            Assert.Fail($"expected nothing from {UnderTestName}{why}, got {unexpected}");
        }
        catch (TimeoutException)
        {
            if (_end - _start > 0)
            {
                Assert.Fail($"expected nothing from {UnderTestName}{why}, but {_end - _start} bytes of a frame arrived");
            }
        }
        catch (EndOfStreamException)
        {
            Assert.Fail($"expected nothing from {UnderTestName}{why}, but it closed TCP");
        }
    }

    /// <summary>Gets how the endpoint under test ended the connection (waits for it, bounded).</summary>
    public async Task<WebSocketCloseInfo> UnderTestStatusAsync(TimeSpan? timeout = null)
    {
        WebSocketConnection connection = await UnderTestConnection().WaitAsync(Timeouts.Frame);
        try
        {
            return await connection.Completion.WaitAsync(timeout ?? Timeouts.Frame);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{UnderTestName}'s connection did not complete within {(timeout ?? Timeouts.Frame).TotalSeconds:0} s (state {connection.State})");
            throw;
        }
    }

    /// <summary>
    /// The endpoint under test must fail the connection (RFC 6455 §7.1.7): a close frame with
    /// <paramref name="code"/>, then TCP closed; its own connection reports that code.
    /// </summary>
    public async Task ExpectFailAsync(int code, TimeSpan? timeout = null)
    {
        await ExpectCloseAsync(code, timeout);
        await ExpectTcpClosedAsync();
        WebSocketCloseInfo status = await UnderTestStatusAsync();
        Assert.Equal((WebSocketCloseCode)code, status.Code);
    }

    /// <summary>
    /// After this side's close frame was answered with <paramref name="echoedCode"/>: ends TCP as RFC 6455
    /// §7.1.1 has it (our server must close first; toward our client, this side closes) and checks the
    /// status the endpoint under test reports.
    /// </summary>
    public async Task FinishCloseHandshakeAsync(int? sentCode)
    {
        if (UnderTest == Role.Server)
        {
            await ExpectTcpClosedAsync(Timeouts.CloseTimeout + TimeSpan.FromSeconds(1));
        }
        else
        {
            ShutdownSend();
            await ExpectTcpClosedAsync(Timeouts.CloseTimeout + TimeSpan.FromSeconds(1));
        }

        WebSocketCloseInfo status = await UnderTestStatusAsync();
        Assert.Equal((WebSocketCloseCode)(sentCode ?? 1005), status.Code);
    }

    /// <summary>A complete close handshake started by this side: close sent, the same code echoed, TCP ended.</summary>
    public async Task CloseHandshakeAsync(int? code = 1000, byte[]? reason = null)
    {
        await SendCloseAsync(code, reason);
        await ExpectCloseAsync(code);
        await FinishCloseHandshakeAsync(code);
    }

    /// <summary>Sends a message and expects the identical echo (a cheap "still alive and in sync" probe).</summary>
    public async Task EchoProbeAsync(string text = "probe")
    {
        await SendTextAsync(text);
        await ExpectTextAsync(text);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        if (_pendingFill is not null)
        {
            try
            {
                await _pendingFill.WaitAsync(Timeouts.Frame);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or TimeoutException)
            {
                // The pending read ends with the socket.
            }
        }
    }
}
