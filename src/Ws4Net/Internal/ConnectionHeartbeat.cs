namespace Ws4Net.Internal;

/// <summary>
/// The one timer behind every connection's timeouts (send, close, keepalive, idle): a process-wide tick
/// that visits the registered connections, as Kestrel's heartbeat does, instead of a timer or a
/// <see cref="CancellationTokenSource"/> per connection. Registration is O(1) (a slot in an array with a
/// free list); a tick reads the slot array without locking. Thread-safe.
/// </summary>
internal static class ConnectionHeartbeat
{
    /// <summary>Milliseconds between ticks: the resolution of every timeout.</summary>
    public const int IntervalMs = 100;

    private static readonly Lock s_sync = new();
    private static WebSocketConnection?[] s_slots = new WebSocketConnection?[64];
    private static int[] s_free = new int[64];
    private static int s_freeCount;
    private static int s_used;
    private static Timer? s_timer;
    private static int s_ticking;

    /// <summary>Gets the number of registered connections.</summary>
    public static int Count
    {
        get
        {
            lock (s_sync)
            {
                return s_used - s_freeCount;
            }
        }
    }

    /// <summary>Registers a connection; returns its slot, to pass to <see cref="Unregister"/>.</summary>
    public static int Register(WebSocketConnection connection)
    {
        lock (s_sync)
        {
            int slot;
            if (s_freeCount > 0)
            {
                slot = s_free[--s_freeCount];
            }
            else
            {
                if (s_used == s_slots.Length)
                {
                    var bigger = new WebSocketConnection?[s_slots.Length * 2];
                    s_slots.AsSpan().CopyTo(bigger);
                    Volatile.Write(ref s_slots, bigger);
                    Array.Resize(ref s_free, bigger.Length);
                }

                slot = s_used++;
            }

            Volatile.Write(ref s_slots[slot], connection);
            s_timer ??= new Timer(static _ => Tick(), null, IntervalMs, IntervalMs);
            return slot;
        }
    }

    /// <summary>Frees a slot taken by <see cref="Register"/>. Idempotent per slot holder (pass -1 to do nothing).</summary>
    public static void Unregister(int slot, WebSocketConnection connection)
    {
        if (slot < 0)
        {
            return;
        }

        lock (s_sync)
        {
            if (ReferenceEquals(s_slots[slot], connection))
            {
                Volatile.Write(ref s_slots[slot], null);
                s_free[s_freeCount++] = slot;
            }
        }
    }

    /// <summary>Sums <see cref="WebSocketConnection.BufferedAmount"/> over every registered connection (bytes); read without locks, for the send-queue gauge.</summary>
    public static long SumBufferedAmount()
    {
        long total = 0;
        WebSocketConnection?[] slots = Volatile.Read(ref s_slots);
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is { } connection)
            {
                total += connection.BufferedAmount;
            }
        }

        return total;
    }

    private static void Tick()
    {
        // Ticks never overlap: a slow tick (thousands of connections doing work) skips the next one.
        if (Interlocked.Exchange(ref s_ticking, 1) != 0)
        {
            return;
        }

        try
        {
            long now = Environment.TickCount64;
            WebSocketConnection?[] slots = Volatile.Read(ref s_slots);
            for (int i = 0; i < slots.Length; i++)
            {
                if (Volatile.Read(ref slots[i]) is { } connection)
                {
                    try
                    {
                        connection.OnHeartbeat(now);
                    }
                    catch (Exception)
                    {
                        // A timer thread must never die of one connection's failure: that connection ends.
                        connection.Abort();
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref s_ticking, 0);
        }
    }
}
