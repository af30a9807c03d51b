namespace Ws4Net.Server;

/// <summary>
/// The table of opening handshakes in progress. Accepting never waits: every accepted socket starts its
/// handshake at once, under its <see cref="WebSocketServerOptions.HandshakeTimeout"/> deadline. The table
/// holds at most <see cref="WebSocketServerOptions.MaxConcurrentHandshakes"/> entries, in accept order; a
/// socket accepted while it is full cuts off the handshake that has been pending longest (the likeliest
/// slow or stalled peer: a healthy client completes its handshake within a few round trips), so slow
/// peers can neither hold the server's handshake capacity nor make new clients queue behind them.
/// </summary>
public sealed partial class WebSocketServer
{
    private readonly LinkedList<CancellationTokenSource> _pendingHandshakes = new();
    private readonly Lock _pendingLock = new();
    private long _handshakesEvicted;

    /// <summary>
    /// Gets how many opening handshakes were cut off (disconnected without an answer) because
    /// <see cref="WebSocketServerOptions.MaxConcurrentHandshakes"/> handshakes were already in progress when
    /// another socket was accepted (count since the server was created). Thread-safe.
    /// </summary>
    public long HandshakesEvicted => Interlocked.Read(ref _handshakesEvicted);

    /// <summary>Gets how many opening handshakes (TLS and HTTP) are in progress now (count). Thread-safe.</summary>
    public int PendingHandshakes
    {
        get
        {
            lock (_pendingLock)
            {
                return _pendingHandshakes.Count;
            }
        }
    }

    /// <summary>Registers a handshake that starts now; at the cap, the oldest pending one is cancelled to make room.</summary>
    /// <param name="deadline">The new handshake's token source (its deadline already set); cancelling it ends the handshake.</param>
    /// <returns>The entry to pass to <see cref="EndHandshake"/>.</returns>
    private LinkedListNode<CancellationTokenSource> BeginHandshake(CancellationTokenSource deadline)
    {
        CancellationTokenSource? evicted = null;
        LinkedListNode<CancellationTokenSource> node;
        lock (_pendingLock)
        {
            if (_pendingHandshakes.Count >= _options.MaxConcurrentHandshakes)
            {
                evicted = _pendingHandshakes.First!.Value;
                _pendingHandshakes.RemoveFirst();
            }

            node = _pendingHandshakes.AddLast(deadline);
        }

        if (evicted is not null)
        {
            Interlocked.Increment(ref _handshakesEvicted);
            try
            {
                // Outside the lock: cancellation runs the evicted handshake's callbacks (its pending read ends),
                // which may end that handshake on this thread.
                evicted.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That handshake finished meanwhile.
            }
        }

        return node;
    }

    /// <summary>Removes a handshake from the table (it completed, failed or was evicted).</summary>
    /// <param name="node">The entry from <see cref="BeginHandshake"/>.</param>
    private void EndHandshake(LinkedListNode<CancellationTokenSource> node)
    {
        lock (_pendingLock)
        {
            if (node.List is not null)
            {
                _pendingHandshakes.Remove(node);
            }
        }
    }
}
