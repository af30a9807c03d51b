using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol.Extensions;
using Ws4Net.Protocol.Messages;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// permessage-deflate as an RSV1 message transform (RFC 7692 §7.2): receive inflates the payload and,
/// at the end of the message, the 00 00 FF FF tail; send compresses through
/// <see cref="PerMessageDeflateCodec"/>. Limits apply to the inflated size, checked as it is produced
/// (compression bombs stop at the limit with 1009, never buffering past it).
/// </summary>
/// <remarks>The receive side and the send side may be used by two threads at once; each by one thread at a time.</remarks>
internal sealed class PerMessageDeflateTransform : IWebSocketMessageTransform
{
    private readonly PerMessageDeflateCodec _codec;
    private long _messageBytes;   // compressed payload bytes of the message being received

    /// <summary>Creates the transform for one connection.</summary>
    /// <param name="parameters">The negotiated agreement.</param>
    /// <param name="role">This endpoint's role (decides which side's parameters apply).</param>
    /// <exception cref="ArgumentException">The agreement asks this endpoint to compress with an 8-bit window.</exception>
    public PerMessageDeflateTransform(PerMessageDeflateParameters parameters, WebSocketRole role)
        => _codec = new PerMessageDeflateCodec(parameters, role);

    /// <inheritdoc />
    public int Threshold => _codec.Threshold;

    /// <inheritdoc />
    public bool HoldsState => _codec.HoldsState;

    /// <inheritdoc />
    public string? Decode(ReadOnlySpan<byte> payload, bool endOfMessage, WebSocketMessageAssembler sink, out WebSocketCloseCode code)
    {
        ZlibInflater inflater = _codec.BeginInflate();
        _messageBytes += payload.Length;

        // A compressed message with no payload bytes at all is an empty message: inflating the bare tail
        // would leave the inflater inside a stored block and corrupt the next message.
        string? failure = Inflate(inflater, payload, sink, out code);
        if (failure is null && endOfMessage && _messageBytes > 0)
        {
            failure = Inflate(inflater, PerMessageDeflateCodec.Tail, sink, out code);
        }

        if (failure is not null)
        {
            _codec.AbandonInflate();
            _messageBytes = 0;
            return failure;
        }

        if (endOfMessage)
        {
            _messageBytes = 0;
            _codec.EndInflate();
        }

        return null;
    }

    /// <inheritdoc />
    public void Encode(ReadOnlySpan<byte> payload, PooledBufferWriter output, bool endOfMessage)
        => _codec.Compress(payload, output, endOfMessage);

    /// <inheritdoc />
    public bool TryGetSharedFrame(WebSocketPreparedMessage message, out ReadOnlyMemory<byte> frame)
    {
        (int level, int windowBits, int memoryLevel, bool noContextTakeover) = _codec.SendSettings;
        if (!noContextTakeover)
        {
            frame = default;
            return false;   // with context takeover the bytes depend on this connection's history
        }

        frame = message.GetCompressedFrame(level, windowBits, memoryLevel);
        return true;
    }

    /// <summary>Inflates all of <paramref name="input"/> into the sink; 1009 past the limits, 1007 on corrupt data or bad UTF-8.</summary>
    private static string? Inflate(ZlibInflater inflater, ReadOnlySpan<byte> input, WebSocketMessageAssembler sink, out WebSocketCloseCode code)
    {
        code = default;
        while (true)
        {
            // The order of the checks makes the outcome independent of how the input was chunked: a byte
            // past the limit is 1009 even if corrupt data follows in the same call; invalid UTF-8 within the
            // limit is 1007 as soon as it is inflated (fail-fast); then corrupt data is 1007.
            Span<byte> free = sink.GetDecodeSpan(input.Length, out bool atLimit);
            bool valid = inflater.Inflate(input, free, out int consumed, out int written);
            string? failure = sink.CommitDecoded(free[..written], atLimit, out code);
            if (failure is not null)
            {
                return failure;
            }

            if (!valid)
            {
                code = WebSocketCloseCode.InvalidPayloadData;
                return "compressed data is not valid DEFLATE";
            }

            input = input[consumed..];
            if (input.IsEmpty && written < free.Length)
            {
                return null;
            }

            if (consumed == 0 && written == 0)
            {
                if (inflater.StreamEnded)
                {
                    return null;   // bytes after a final block (BFINAL) carry nothing: ignore them
                }

                code = WebSocketCloseCode.InvalidPayloadData;
                return "compressed data is not valid DEFLATE";
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _codec.Dispose();
}
