using System.Buffers;
using Ws4Net.Protocol.Buffers;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// The per-connection runtime of permessage-deflate (RFC 7692 §7.2): one compressor for what this
/// endpoint sends and one decompressor for what it receives. A direction with context takeover keeps
/// a dedicated zlib state (created at its first compressed message); a direction without rents one
/// from <see cref="ZlibPool"/> for each message. The send side and the receive side may be used by
/// two threads at once; each side by one thread at a time.
/// </summary>
internal sealed class PerMessageDeflateCodec : IDisposable
{
    /// <summary>The tail a sync flush leaves, removed on send and appended on receive (RFC 7692 §7.2.1, §7.2.2).</summary>
    public static ReadOnlySpan<byte> Tail => [0x00, 0x00, 0xFF, 0xFF];

    private readonly PerMessageDeflateParameters _parameters;
    private readonly bool _sendPooled;
    private readonly bool _receivePooled;
    private readonly int _sendWindowBits;
    private readonly int _receiveWindowBits;
    private ZlibDeflater? _deflater;
    private ZlibInflater? _inflater;

    public PerMessageDeflateCodec(PerMessageDeflateParameters parameters, WebSocketRole role)
    {
        _parameters = parameters;
        _sendPooled = parameters.SendNoContextTakeover(role);
        _receivePooled = parameters.ReceiveNoContextTakeover(role);
        _sendWindowBits = parameters.SendWindowBits(role);
        // Always inflate with the largest window: it decodes every smaller one, and a peer that reaches
        // back further than it agreed is then treated the same whatever the chunking of its bytes (zlib
        // would otherwise accept such a reference only when its source sits in the same output buffer).
        _receiveWindowBits = 15;
        if (_sendWindowBits < 9)
        {
            throw new ArgumentException("A compressor window of 8 bits cannot be honoured with zlib.", nameof(parameters));
        }
    }

    public int Threshold => _parameters.Threshold;

    /// <summary>Gets whether a zlib state is held now (for memory accounting and tests).</summary>
    public bool HoldsState => _deflater is not null || _inflater is not null;

    /// <summary>
    /// Compresses one part of a message into <paramref name="output"/>. On the last part the sync-flush
    /// tail is removed; without context takeover the stream is fully flushed so the next message
    /// references nothing before it, and a pooled state goes back to the pool.
    /// </summary>
    public void Compress(ReadOnlySpan<byte> payload, PooledBufferWriter output, bool endOfMessage)
    {
        _deflater ??= _sendPooled
            ? ZlibPool.RentDeflater(_parameters.CompressionLevel, _sendWindowBits, _parameters.MemoryLevel)
            : new ZlibDeflater(_parameters.CompressionLevel, _sendWindowBits, _parameters.MemoryLevel);
        int start = output.WrittenCount;
        _deflater.Compress(payload, output, endOfMessage && _sendPooled ? ZlibNative.FullFlush : ZlibNative.SyncFlush);
        if (!endOfMessage)
        {
            return;
        }

        int produced = output.WrittenCount - start;
        if (produced >= 4 && output.WrittenSpan[^4..].SequenceEqual(Tail))
        {
            output.Truncate(4);
        }
        else if (produced == 0)
        {
            // zlib writes nothing for a flush without new input. The message must still end on a block
            // boundary once the receiver appends the tail: 0x00 starts an empty stored block, and
            // 0x00 + 00 00 FF FF completes it (RFC 7692 §7.2.3.6). This also covers an empty message.
            output.GetSpan(1)[0] = 0x00;
            output.Advance(1);
        }

        if (_sendPooled)
        {
            ZlibPool.Return(_deflater);
            _deflater = null;
        }
    }

    /// <summary>
    /// Compresses one whole message without context takeover (a pooled deflater, reset afterwards), as
    /// RFC 7692 §7.2.1 describes: raw DEFLATE, the trailing 00 00 FF FF removed. Used for prepared messages
    /// that many connections share.
    /// </summary>
    public static void CompressMessage(ReadOnlySpan<byte> payload, PooledBufferWriter output, int level, int windowBits, int memoryLevel)
    {
        ZlibDeflater deflater = ZlibPool.RentDeflater(level, windowBits, memoryLevel);
        try
        {
            int start = output.WrittenCount;
            deflater.Compress(payload, output, ZlibNative.FullFlush);
            int produced = output.WrittenCount - start;
            if (produced >= 4 && output.WrittenSpan[^4..].SequenceEqual(Tail))
            {
                output.Truncate(4);
            }
            else if (produced == 0)
            {
                output.GetSpan(1)[0] = 0x00;
                output.Advance(1);
            }
        }
        finally
        {
            ZlibPool.Return(deflater);
        }
    }

    /// <summary>Gets the zlib settings this endpoint compresses with, and whether it resets after every message (no context takeover).</summary>
    public (int Level, int WindowBits, int MemoryLevel, bool NoContextTakeover) SendSettings
        => (_parameters.CompressionLevel, _sendWindowBits, _parameters.MemoryLevel, _sendPooled);


    /// <summary>Gets the decompressor for the message being received (rented or dedicated).</summary>
    public ZlibInflater BeginInflate()
        => _inflater ??= _receivePooled ? ZlibPool.RentInflater(_receiveWindowBits) : new ZlibInflater(_receiveWindowBits);

    /// <summary>Ends a received message: without context takeover, or after a final block, the state is reset (and a pooled one returned).</summary>
    public void EndInflate()
    {
        if (_inflater is null)
        {
            return;
        }

        if (_receivePooled)
        {
            ZlibPool.Return(_inflater);
            _inflater = null;
        }
        else if (_inflater.StreamEnded)
        {
            _inflater.Reset();
        }
    }

    /// <summary>After a failure mid-message: the receive state is unusable, drop it.</summary>
    public void AbandonInflate()
    {
        _inflater?.Dispose();
        _inflater = null;
    }

    public void Dispose()
    {
        _deflater?.Dispose();
        _deflater = null;
        _inflater?.Dispose();
        _inflater = null;
    }
}
