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
internal sealed class SocketTransport : BufferedReadTransport
{
    private readonly Socket _socket;
    private GatherSender? _gather;
    private int _closed;

    public SocketTransport(Socket socket, int bufferSize, bool zeroByteReads, ReadOnlySpan<byte> initialInput)
        : base(bufferSize, zeroByteReads, initialInput)
    {
        _socket = socket;
    }

    public Socket Socket => _socket;

    public override EndPoint? RemoteEndPoint => _socket.RemoteEndPointSafe();

    protected override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
        => _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);

    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        => _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

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
        ReleaseInitialInput();
    }
}
