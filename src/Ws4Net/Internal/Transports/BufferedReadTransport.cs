using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// A transport that reads into a pooled buffer of its own (a socket or a stream): it hands out the bytes
/// received right behind the handshake first, waits with a zero-byte read while idle so an idle
/// connection holds no buffer, and skips that wait when the previous read filled the buffer.
/// </summary>
internal abstract class BufferedReadTransport : WebSocketTransport
{
    private readonly int _bufferSize;
    private readonly bool _zeroByteReads;
    private byte[]? _buffer;
    private byte[]? _initial;
    private int _initialLength;
    private bool _lastReadFilled;

    protected BufferedReadTransport(int bufferSize, bool zeroByteReads, ReadOnlySpan<byte> initialInput)
    {
        _bufferSize = bufferSize;
        _zeroByteReads = zeroByteReads;
        if (!initialInput.IsEmpty)
        {
            _initial = ArrayPool<byte>.Shared.Rent(initialInput.Length);
            initialInput.CopyTo(_initial);
            _initialLength = initialInput.Length;
        }
    }

    /// <summary>Waits until bytes can be read, without consuming any (a zero-byte read; its result is 0 and ignored).</summary>
    protected abstract ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken);

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; 0 at the end of the stream.</summary>
    protected abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public sealed override async ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        if (_initial is { } initial)
        {
            // Frames the peer sent right behind its handshake.
            ReleaseReadBuffer();
            _buffer = initial;
            _initial = null;
            return initial.AsMemory(0, _initialLength);
        }

        if (_zeroByteReads && !_lastReadFilled)
        {
            ReleaseReadBuffer();
            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
        int read = await ReceiveAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        _lastReadFilled = read == _buffer.Length;
        return _buffer.AsMemory(0, read);
    }

    public sealed override void ReleaseReadBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Returns the unread handshake leftovers to the pool when the transport closes.</summary>
    protected void ReleaseInitialInput()
    {
        if (_initial is { } initial)
        {
            _initial = null;
            ArrayPool<byte>.Shared.Return(initial);
        }
    }
}
