using System.Buffers;
using System.Text;
using Ws4Net.Protocol;

namespace Ws4Net.Internal;

/// <summary>
/// A complete message parked while another caller's fragmented message holds the lease: its payload is
/// copied into a pooled buffer (it is encoded, and compressed, only when its turn comes, so a
/// compression context is never used by two messages at once). Prepared messages are kept by reference.
/// </summary>
internal readonly struct DeferredMessage
{
    private readonly byte[]? _buffer;
    private readonly int _length;
    private readonly WebSocketMessageKind _type;
    private readonly bool? _compress;
    private readonly WebSocketPreparedMessage? _prepared;

    private DeferredMessage(byte[]? buffer, int length, WebSocketMessageKind type, bool? compress, WebSocketPreparedMessage? prepared, long size)
    {
        _buffer = buffer;
        _length = length;
        _type = type;
        _compress = compress;
        _prepared = prepared;
        Size = size;
    }

    /// <summary>Gets the bytes this message counts for in the buffered amount.</summary>
    public long Size { get; }

    public static DeferredMessage Create(in SendRequest request, long size)
    {
        switch (request.Kind)
        {
            case SendKind.Prepared:
                if (!request.Prepared!.TryRetain())
                {
                    throw new ObjectDisposedException(nameof(WebSocketPreparedMessage), "The prepared message was already released.");
                }

                return new DeferredMessage(null, 0, request.MessageType, request.Compress, request.Prepared, size);
            case SendKind.Bytes:
            {
                byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, request.Data.Length));
                request.Data.Span.CopyTo(buffer);
                return new DeferredMessage(buffer, request.Data.Length, request.MessageType, request.Compress, null, size);
            }

            default:
            {
                ReadOnlySpan<char> text = request.Kind == SendKind.String ? request.Text.AsSpan() : request.Chars.Span;
                byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, Encoding.UTF8.GetMaxByteCount(text.Length)));
                int length = Encoding.UTF8.GetBytes(text, buffer);
                return new DeferredMessage(buffer, length, WebSocketMessageKind.Text, request.Compress, null, size);
            }
        }
    }

    public SendRequest ToRequest() => _prepared is not null
        ? SendRequest.ForPrepared(_prepared)
        : SendRequest.ForBytes(_buffer.AsMemory(0, _length), _type, _compress);

    public void Release()
    {
        if (_prepared is not null)
        {
            _prepared.Release();
        }
        else if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}
