using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// Any duplex <see cref="Stream"/> (TLS through <see cref="System.Net.Security.SslStream"/>, a
/// <see cref="System.Net.Sockets.NetworkStream"/>, a test stream). Idle connections wait with a
/// zero-byte read when enabled; gather writes are copied into one staging buffer so that a TLS stream
/// produces one record per batch instead of one per frame.
/// </summary>
internal sealed class StreamTransport : WebSocketTransport
{
    private const int MaxStagingBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly int _bufferSize;
    private readonly bool _zeroByteReads;
    private byte[]? _buffer;
    private byte[]? _initial;
    private int _initialLength;
    private bool _lastReadFilled;
    private int _closed;

    public StreamTransport(Stream stream, int bufferSize, bool zeroByteReads, ReadOnlySpan<byte> initialInput)
    {
        _stream = stream;
        _bufferSize = bufferSize;
        _zeroByteReads = zeroByteReads;
        if (!initialInput.IsEmpty)
        {
            _initial = ArrayPool<byte>.Shared.Rent(initialInput.Length);
            initialInput.CopyTo(_initial);
            _initialLength = initialInput.Length;
        }
    }

    public Stream Stream => _stream;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        if (_initial is { } initial)
        {
            ReleaseReadBuffer();
            _buffer = initial;
            _initial = null;
            return initial.AsMemory(0, _initialLength);
        }

        if (_zeroByteReads && !_lastReadFilled)
        {
            ReleaseReadBuffer();
            await _stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
        int read = await _stream.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
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

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer) => _stream.WriteAsync(buffer);

    public override ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int totalBytes)
    {
        if (totalBytes <= MaxStagingBytes)
        {
            byte[] staging = ArrayPool<byte>.Shared.Rent(totalBytes);
            int offset = 0;
            for (int i = 0; i < buffers.Count; i++)
            {
                buffers[i].AsSpan().CopyTo(staging.AsSpan(offset));
                offset += buffers[i].Count;
            }

            ValueTask write = _stream.WriteAsync(staging.AsMemory(0, offset));
            if (!write.IsCompletedSuccessfully)
            {
                return WriteStagedAsync(write, staging);
            }

            write.GetAwaiter().GetResult();
            ArrayPool<byte>.Shared.Return(staging);
            return default;
        }

        return WriteEachAsync(buffers);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask WriteStagedAsync(ValueTask write, byte[] staging)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteEachAsync(IReadOnlyList<ArraySegment<byte>> buffers)
    {
        for (int i = 0; i < buffers.Count; i++)
        {
            await _stream.WriteAsync(buffers[i].AsMemory()).ConfigureAwait(false);
        }
    }

    public override void Close(bool abort)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or NotSupportedException)
        {
            // Already broken: nothing more to release.
        }

        if (_initial is { } initial)
        {
            _initial = null;
            ArrayPool<byte>.Shared.Return(initial);
        }
    }
}
