using System.Buffers;
using System.Runtime.InteropServices;
using Ws4Net.Protocol;

namespace Ws4Net.Internal;

/// <summary>
/// The bytes a connection has yet to write, in order: frames encoded into pooled chunks (the queue is the
/// <see cref="IBufferWriter{T}"/> the protocol core encodes into) and references to shared frames of
/// prepared messages (no copy). The writer takes everything queued at once (<see cref="TakeBatch"/>) and
/// writes it in one gather write, then <see cref="CompleteBatch"/> returns the chunks and releases the
/// references. Not thread-safe: the connection guards it with its send lock (except the in-flight batch,
/// which only the writer touches).
/// </summary>
internal sealed class SendQueue : IBufferWriter<byte>
{
    private const int MinChunkSize = 4096;

    private Entry[] _pending = [];
    private int _pendingCount;
    private Entry[] _inFlight = [];
    private int _inFlightCount;
    private byte[]? _tail;
    private int _tailLength;

    /// <summary>Gets the number of bytes appended so far (ever); the difference around an encode is its size.</summary>
    public long Appended { get; private set; }

    /// <summary>Gets whether nothing waits to be taken.</summary>
    public bool IsEmpty => _pendingCount == 0 && _tailLength == 0;

    public void Advance(int count)
    {
        _tailLength += count;
        Appended += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureTail(sizeHint);
        return _tail.AsMemory(_tailLength);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureTail(sizeHint);
        return _tail.AsSpan(_tailLength);
    }

    /// <summary>Queues a reference to a prepared message's frame. The caller already took a reference on <paramref name="message"/>; the queue releases it once written or discarded.</summary>
    public void AppendShared(WebSocketPreparedMessage message, ReadOnlyMemory<byte> frame)
    {
        SealTail();
        if (!MemoryMarshal.TryGetArray(frame, out ArraySegment<byte> segment))
        {
            throw new InvalidOperationException("A prepared frame is backed by an array.");
        }

        Add(ref _pending, ref _pendingCount, new Entry(segment.Array!, segment.Offset, segment.Count, message));
        Appended += frame.Length;
    }

    /// <summary>Moves everything queued to the in-flight batch and fills <paramref name="segments"/> with it. Returns the batch size in bytes (0 when empty).</summary>
    public int TakeBatch(List<ArraySegment<byte>> segments)
    {
        SealTail();
        (_pending, _inFlight) = (_inFlight, _pending);
        _inFlightCount = _pendingCount;
        _pendingCount = 0;
        segments.Clear();
        int total = 0;
        for (int i = 0; i < _inFlightCount; i++)
        {
            ref Entry e = ref _inFlight[i];
            segments.Add(new ArraySegment<byte>(e.Array, e.Offset, e.Length));
            total += e.Length;
        }

        return total;
    }

    /// <summary>Returns the in-flight batch's chunks to the pool and releases its shared frames.</summary>
    public void CompleteBatch()
    {
        for (int i = 0; i < _inFlightCount; i++)
        {
            Release(ref _inFlight[i]);
        }

        _inFlightCount = 0;
    }

    /// <summary>Discards everything (pending and in flight): the connection is gone.</summary>
    public void Clear()
    {
        CompleteBatch();
        SealTail();
        for (int i = 0; i < _pendingCount; i++)
        {
            Release(ref _pending[i]);
        }

        _pendingCount = 0;
    }

    private static void Release(ref Entry e)
    {
        if (e.Shared is { } shared)
        {
            shared.Release();
        }
        else
        {
            ArrayPool<byte>.Shared.Return(e.Array);
        }

        e = default;
    }

    private void EnsureTail(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_tail is not null && _tail.Length - _tailLength >= sizeHint)
        {
            return;
        }

        SealTail();
        _tail = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, MinChunkSize));
    }

    private void SealTail()
    {
        if (_tail is null)
        {
            return;
        }

        if (_tailLength == 0)
        {
            return;   // keep the empty chunk for the next frame
        }

        Add(ref _pending, ref _pendingCount, new Entry(_tail, 0, _tailLength, null));
        _tail = null;
        _tailLength = 0;
    }

    /// <summary>Returns an unused empty tail chunk to the pool (idle connections hold none).</summary>
    public void TrimTail()
    {
        if (_tail is not null && _tailLength == 0)
        {
            ArrayPool<byte>.Shared.Return(_tail);
            _tail = null;
        }
    }

    private static void Add(ref Entry[] entries, ref int count, Entry entry)
    {
        if (count == entries.Length)
        {
            Array.Resize(ref entries, Math.Max(4, entries.Length * 2));
        }

        entries[count++] = entry;
    }

    private readonly record struct Entry(byte[] Array, int Offset, int Length, WebSocketPreparedMessage? Shared);
}
