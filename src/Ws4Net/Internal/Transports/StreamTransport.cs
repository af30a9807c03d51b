using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// Any duplex <see cref="Stream"/> (TLS through <see cref="System.Net.Security.SslStream"/>, a
/// <see cref="System.Net.Sockets.NetworkStream"/>, a test stream). Idle connections wait with a
/// zero-byte read when enabled; gather writes are copied into one staging buffer so that a TLS stream
/// produces one record per batch instead of one per frame.
/// </summary>
internal sealed class StreamTransport : BufferedReadTransport
{
    private const int MaxStagingBytes = 64 * 1024;

    private readonly Stream _stream;
    private int _closed;

    public StreamTransport(Stream stream, int bufferSize, bool zeroByteReads, ReadOnlySpan<byte> initialInput)
        : base(bufferSize, zeroByteReads, initialInput)
    {
        _stream = stream;
    }

    public Stream Stream => _stream;

    protected override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
        => _stream.ReadAsync(Memory<byte>.Empty, cancellationToken);

    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        => _stream.ReadAsync(buffer, cancellationToken);

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

        ReleaseInitialInput();
    }
}
