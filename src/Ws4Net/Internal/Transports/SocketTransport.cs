using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// A plain TCP (or Unix domain) socket used directly, without a <see cref="NetworkStream"/>. Reads
/// wait with a zero-byte receive while idle so an idle connection holds no buffer, and skip that
/// wait when the previous read filled the buffer (more bytes are likely waiting). Gather writes go
/// out in one <c>sendmsg</c> through a reused <see cref="SocketAsyncEventArgs"/>.
/// </summary>
internal sealed class SocketTransport : WebSocketTransport
{
    private readonly Socket _socket;
    private readonly int _bufferSize;
    private readonly bool _zeroByteReads;
    private byte[]? _buffer;
    private byte[]? _initial;
    private int _initialLength;
    private bool _lastReadFilled;
    private GatherSender? _gather;
    private int _closed;

    public SocketTransport(Socket socket, int bufferSize, bool zeroByteReads, ReadOnlySpan<byte> initialInput)
    {
        _socket = socket;
        _bufferSize = bufferSize;
        _zeroByteReads = zeroByteReads;
        if (!initialInput.IsEmpty)
        {
            _initial = ArrayPool<byte>.Shared.Rent(initialInput.Length);
            initialInput.CopyTo(_initial);
            _initialLength = initialInput.Length;
        }
    }

    public Socket Socket => _socket;

    public override EndPoint? RemoteEndPoint => _socket.RemoteEndPointSafe();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken)
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
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
        int read = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _lastReadFilled = read == _buffer.Length;
        return _buffer.AsMemory(0, read);
    }

    public override void ReleaseReadBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer)
    {
        ValueTask<int> send = _socket.SendAsync(buffer, SocketFlags.None);
        if (send.IsCompletedSuccessfully && send.Result == buffer.Length)
        {
            return default;
        }

        return CompleteSendAsync(send, buffer);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CompleteSendAsync(ValueTask<int> send, ReadOnlyMemory<byte> buffer)
    {
        int sent = await send.ConfigureAwait(false);
        while (sent < buffer.Length)
        {
            buffer = buffer[sent..];
            sent = await _socket.SendAsync(buffer, SocketFlags.None).ConfigureAwait(false);
        }
    }

    public override ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int totalBytes)
    {
        _gather ??= new GatherSender();
        return _gather.SendAsync(_socket, buffers, totalBytes);
    }

    public override void Close(bool abort)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            if (abort)
            {
                // RST instead of FIN: the peer learns at once that the connection is gone.
                _socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already broken.
        }

        _socket.Dispose();
        _gather?.Dispose();
        if (_initial is { } initial)
        {
            _initial = null;
            ArrayPool<byte>.Shared.Return(initial);
        }
    }
}
