namespace Ws4Net.Management;

/// <summary>
/// A set of connections stored in an array of slots (the connections themselves, not the manager's
/// records, so that a broadcast touches one object per recipient): adding and removing are O(1)
/// under a short lock (a free list reuses slots), and readers walk the published array without a lock
/// and without allocating. A reader may see an entry that was just removed or miss one just added;
/// sends to such an entry report <see cref="WebSocketSendStatus.Closed"/>. When it is emptied, the
/// array is released; a table created with <c>closeWhenEmpty</c> then refuses further entries (a topic
/// that died is replaced, never revived).
/// </summary>
internal sealed class SlotTable(bool closeWhenEmpty)
{
    public const int Closed = -1;
    public const int Full = -2;

    private readonly Lock _lock = new();
    private WebSocketConnection?[] _slots = [];
    private int[] _free = [];
    private int _freeCount;
    private int _used;
    private int _count;
    private bool _closed;

    public int Count => Volatile.Read(ref _count);

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Gets the occupied range of the current array (entries may be null); no lock, no allocation.</summary>
    public ReadOnlySpan<WebSocketConnection?> Items
    {
        get
        {
            WebSocketConnection?[] slots = Volatile.Read(ref _slots);
            return slots.AsSpan(0, Math.Min(Volatile.Read(ref _used), slots.Length));
        }
    }

    /// <summary>Adds <paramref name="entry"/>; returns its slot, <see cref="Full"/> at <paramref name="max"/> entries, or <see cref="Closed"/>.</summary>
    public int TryAdd(WebSocketConnection entry, int max)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return Closed;
            }

            if (_count >= max)
            {
                return Full;
            }

            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                slot = _used;
                if (slot == _slots.Length)
                {
                    var bigger = new WebSocketConnection?[Math.Max(4, slot * 2)];
                    Array.Copy(_slots, bigger, slot);
                    Volatile.Write(ref _slots, bigger);
                }

                Volatile.Write(ref _used, slot + 1);
            }

            Volatile.Write(ref _slots[slot], entry);
            Volatile.Write(ref _count, _count + 1);
            return slot;
        }
    }

    /// <summary>Removes the entry at <paramref name="slot"/>; returns <see langword="true"/> when this emptied a close-when-empty table.</summary>
    public bool Remove(int slot, WebSocketConnection entry)
    {
        lock (_lock)
        {
            if ((uint)slot >= (uint)_used || !ReferenceEquals(_slots[slot], entry))
            {
                return false;
            }

            Volatile.Write(ref _slots[slot], null);
            Volatile.Write(ref _count, _count - 1);
            if (_count == 0)
            {
                // Release the arrays: an emptied table costs nothing.
                Volatile.Write(ref _used, 0);
                Volatile.Write(ref _slots, []);
                _free = [];
                _freeCount = 0;
                if (closeWhenEmpty)
                {
                    Volatile.Write(ref _closed, true);
                    return true;
                }

                return false;
            }

            if (_freeCount == _free.Length)
            {
                Array.Resize(ref _free, Math.Max(4, _free.Length * 2));
            }

            _free[_freeCount++] = slot;
            return false;
        }
    }
}
