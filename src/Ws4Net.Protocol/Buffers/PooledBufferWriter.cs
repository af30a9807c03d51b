using System.Buffers;

namespace Ws4Net.Protocol.Buffers;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one array rented from <see cref="ArrayPool{T}.Shared"/>. It
/// holds no array until first written to and gives it back on <see cref="Reset"/>, so an idle owner
/// holds no buffer. Growth doubles (minimum 4 KiB). Not thread-safe.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 4096;
    private byte[]? _buffer;
    private int _written;

    /// <summary>Gets the number of bytes written since the last <see cref="Reset"/>.</summary>
    public int WrittenCount => _written;

    /// <summary>Gets the bytes written; valid until the next write or <see cref="Reset"/>.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? default : _buffer.AsMemory(0, _written);

    /// <summary>Gets the bytes written; valid until the next write or <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer is null ? default : _buffer.AsSpan(0, _written);

    /// <summary>Marks <paramref name="count"/> bytes of the last span or memory handed out as written.</summary>
    /// <param name="count">Bytes written, at most what the last <see cref="GetSpan"/> returned.</param>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or larger than the space handed out.</exception>
    public void Advance(int count)
    {
        if (count < 0 || (_buffer is null ? count > 0 : _written + count > _buffer.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    /// <summary>Returns writable memory of at least <paramref name="sizeHint"/> bytes (at least 1).</summary>
    /// <param name="sizeHint">Minimum size wanted, in bytes.</param>
    /// <returns>Memory after the written bytes.</returns>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    /// <summary>Returns a writable span of at least <paramref name="sizeHint"/> bytes (at least 1).</summary>
    /// <param name="sizeHint">Minimum size wanted, in bytes.</param>
    /// <returns>The span after the written bytes.</returns>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Drops the last <paramref name="count"/> written bytes (for example a DEFLATE sync-flush tail).</summary>
    /// <param name="count">Bytes to drop, at most <see cref="WrittenCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or larger than what was written.</exception>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _written);
        _written -= count;
    }

    /// <summary>Forgets the written bytes and returns the array to the pool.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    /// <summary>Same as <see cref="Reset"/>.</summary>
    public void Dispose() => Reset();

    private void Ensure(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (_buffer is not null && _buffer.Length >= needed)
        {
            return;
        }

        int size = Math.Max(needed, Math.Max(MinimumSize, (_buffer?.Length ?? 0) * 2));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _written).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = bigger;
    }
}
