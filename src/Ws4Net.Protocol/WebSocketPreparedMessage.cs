using System.Buffers;
using System.Text;
using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Framing;

namespace Ws4Net.Protocol;

/// <summary>
/// One data message encoded once and shared, read-only, by every connection that sends it: the
/// encode-once broadcast. A server-role connection (whose frames are unmasked, RFC 6455 §5.1) queues a
/// reference to the same frame bytes instead of copying them; with permessage-deflate (RFC 7692) one
/// compressed encoding is made per distinct compressor setting (level, window bits, memLevel) among
/// connections whose server side has no context takeover. Client-role connections (which must mask
/// with a fresh key, §5.3) and connections compressing with context takeover encode the payload
/// themselves, so the message is always correct for every recipient.
/// </summary>
/// <remarks>
/// <para>Memory: the frame bytes live in pooled arrays, reference counted. The creator holds one
/// reference and releases it with <see cref="Dispose"/>; every connection that queues the message
/// holds one until the bytes are written, so disposing right after a broadcast loop is safe and the
/// arrays return to the pool when the last writer is done. A message that is never disposed is simply
/// collected by the GC.</para>
/// <para>Thread-safety: all members are thread-safe; the message is immutable once created.</para>
/// </remarks>
public sealed class WebSocketPreparedMessage : IDisposable
{
    private readonly byte[] _frame;
    private readonly int _headerLength;
    private readonly int _frameLength;
    private readonly Lock _sync = new();
    private CompressedFrame[] _compressed = [];
    private int _references = 1;

    private WebSocketPreparedMessage(WebSocketMessageKind type, byte[] frame, int headerLength, int frameLength, bool? compress)
    {
        Type = type;
        _frame = frame;
        _headerLength = headerLength;
        _frameLength = frameLength;
        Compress = compress;
    }

    /// <summary>Gets the message type (text or binary).</summary>
    public WebSocketMessageKind Type { get; }

    /// <summary>Gets the payload (for text: UTF-8). Valid until the message is disposed and released by every connection.</summary>
    public ReadOnlyMemory<byte> Payload => _frame.AsMemory(_headerLength, _frameLength - _headerLength);

    /// <summary>Gets the payload length in bytes.</summary>
    public int Length => _frameLength - _headerLength;

    /// <summary>Gets the compression choice (RFC 7692 §6): <see langword="true"/> or <see langword="false"/> to force it, <see langword="null"/> to follow each connection's threshold.</summary>
    public bool? Compress { get; }

    /// <summary>Gets whether every reference (the creator's and the connections') has been released.</summary>
    public bool IsReleased => Volatile.Read(ref _references) <= 0;

    /// <summary>Prepares a binary or text message from its payload bytes (copied once into a pooled buffer).</summary>
    /// <param name="type">Text (the payload must be valid UTF-8; it is not re-validated) or binary.</param>
    /// <param name="payload">The payload, 0 to about 2 GiB.</param>
    /// <param name="flags"><see cref="WebSocketSendFlags.DisableCompression"/> or <see cref="WebSocketSendFlags.ForceCompression"/>
    /// (see <see cref="Compress"/>); <see cref="WebSocketSendFlags.EndOfMessage"/> is implied.</param>
    /// <returns>The prepared message; dispose it when you no longer send it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not text or binary.</exception>
    /// <exception cref="ArgumentException">Both compression flags are set.</exception>
    public static WebSocketPreparedMessage Create(WebSocketMessageKind type, ReadOnlySpan<byte> payload, WebSocketSendFlags flags = WebSocketSendFlags.None)
    {
        bool? compress = flags.CompressionChoice(nameof(flags));
        if (type is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "A prepared message is text or binary.");
        }

        int headerLength = WebSocketFrameEncoder.GetHeaderLength(payload.Length, masked: false);
        byte[] frame = ArrayPool<byte>.Shared.Rent(headerLength + payload.Length);
        int length = WebSocketFrameEncoder.WriteFrame(frame, (WebSocketOpcode)type, true, false, payload, default);
        return new WebSocketPreparedMessage(type, frame, headerLength, length, compress);
    }

    /// <summary>Prepares a text message (RFC 6455 §5.6), UTF-8 encoded once.</summary>
    /// <param name="text">The text; lone surrogates become U+FFFD.</param>
    /// <param name="flags"><see cref="WebSocketSendFlags.DisableCompression"/> or <see cref="WebSocketSendFlags.ForceCompression"/>
    /// (see <see cref="Compress"/>); <see cref="WebSocketSendFlags.EndOfMessage"/> is implied.</param>
    /// <returns>The prepared message; dispose it when you no longer send it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException">Both compression flags are set.</exception>
    public static WebSocketPreparedMessage CreateText(string text, WebSocketSendFlags flags = WebSocketSendFlags.None)
    {
        bool? compress = flags.CompressionChoice(nameof(flags));
        ArgumentNullException.ThrowIfNull(text);
        int byteCount = Encoding.UTF8.GetByteCount(text);
        int headerLength = WebSocketFrameEncoder.GetHeaderLength(byteCount, masked: false);
        byte[] frame = ArrayPool<byte>.Shared.Rent(headerLength + byteCount);
        WebSocketFrameEncoder.WriteHeader(frame, WebSocketOpcode.Text, true, false, byteCount, default);
        Encoding.UTF8.GetBytes(text, frame.AsSpan(headerLength));
        return new WebSocketPreparedMessage(WebSocketMessageKind.Text, frame, headerLength, headerLength + byteCount, compress);
    }

    /// <summary>Releases the creator's reference. Connections that still queue the message keep it alive until written. Idempotent per caller is not tracked: call once.</summary>
    public void Dispose() => Release();

    /// <summary>Takes a reference for a connection that queues the message; false when the message was already released.</summary>
    /// <returns><see langword="true"/> when a reference was taken (pair it with <see cref="Release"/>).</returns>
    internal bool TryRetain()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Releases one reference; the last one returns the buffers to the pool.</summary>
    internal void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left != 0)
        {
            return;
        }

        ArrayPool<byte>.Shared.Return(_frame);
        CompressedFrame[] compressed;
        lock (_sync)
        {
            compressed = _compressed;
            _compressed = [];
        }

        foreach (CompressedFrame c in compressed)
        {
            ArrayPool<byte>.Shared.Return(c.Bytes);
        }
    }

    /// <summary>The whole uncompressed, unmasked frame (server role).</summary>
    internal ReadOnlyMemory<byte> UncompressedFrame => _frame.AsMemory(0, _frameLength);

    /// <summary>The whole compressed, unmasked frame for one compressor setting, made on first use (RFC 7692 §7.2.1, no context takeover).</summary>
    internal ReadOnlyMemory<byte> GetCompressedFrame(int level, int windowBits, int memoryLevel)
    {
        CompressedFrame[] known = Volatile.Read(ref _compressed);
        foreach (CompressedFrame c in known)
        {
            if (c.Level == level && c.WindowBits == windowBits && c.MemoryLevel == memoryLevel)
            {
                return c.Bytes.AsMemory(0, c.Length);
            }
        }

        lock (_sync)
        {
            foreach (CompressedFrame c in _compressed)
            {
                if (c.Level == level && c.WindowBits == windowBits && c.MemoryLevel == memoryLevel)
                {
                    return c.Bytes.AsMemory(0, c.Length);
                }
            }

            using var deflated = new PooledBufferWriter();
            PerMessageDeflateCodec.CompressMessage(Payload.Span, deflated, level, windowBits, memoryLevel);
            int headerLength = WebSocketFrameEncoder.GetHeaderLength(deflated.WrittenCount, masked: false);
            byte[] bytes = ArrayPool<byte>.Shared.Rent(headerLength + deflated.WrittenCount);
            int length = WebSocketFrameEncoder.WriteFrame(bytes, (WebSocketOpcode)Type, true, true, deflated.WrittenSpan, default);
            _compressed = [.. _compressed, new CompressedFrame(level, windowBits, memoryLevel, bytes, length)];
            return bytes.AsMemory(0, length);
        }
    }

    private readonly record struct CompressedFrame(int Level, int WindowBits, int MemoryLevel, byte[] Bytes, int Length);
}
