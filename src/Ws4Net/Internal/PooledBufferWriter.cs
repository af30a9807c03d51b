using System.Buffers;

namespace Ws4Net.Internal;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one array rented from <see cref="ArrayPool{T}.Shared"/>.
/// Holds no array until first written to, and gives it back on <see cref="Reset"/>, so an idle
/// connection holds no send buffer. Not thread-safe.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 4096;
    private byte[]? _buffer;
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? default : _buffer.AsMemory(0, _written);

    public void Advance(int count)
    {
        if (count < 0 || _buffer is null || _written + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
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
