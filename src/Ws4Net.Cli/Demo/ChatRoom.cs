using Ws4Net.Backplane;
using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The state behind <c>/chat</c>: the <see cref="Topic"/> topic of the manager and the last
/// <see cref="HistorySize"/> messages, each kept as a prepared (encode-once) message. Every text is
/// relayed verbatim to every member (sender included) with non-waiting sends, so a slow member meets
/// its connection's backpressure policy instead of growing the server's memory. With a backplane (<c>--amqp</c>)
/// the room spans nodes: messages from other nodes join this node's history and reach its members, in the
/// order each node published them (the history is per node: a node started later has only what it saw). Thread-safe.
/// </summary>
internal sealed class ChatRoom
{
    /// <summary>How many past messages a newcomer receives (count).</summary>
    public const int HistorySize = 50;

    /// <summary>The manager topic the members subscribe to.</summary>
    public const string Topic = "chat";

    private readonly WebSocketConnectionManager _manager;
    private readonly Lock _sync = new();
    private readonly Queue<WebSocketPreparedMessage> _history = new();

    /// <summary>Creates the room on a manager.</summary>
    /// <param name="manager">The manager whose <see cref="Topic"/> topic holds the members.</param>
    public ChatRoom(WebSocketConnectionManager manager)
    {
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        _manager.RemoteMessageHandler = OnRemoteMessage;
    }

    /// <summary>Queues the history to a new member and subscribes it, atomically with respect to <see cref="Publish"/>, so it misses nothing and sees nothing twice.</summary>
    /// <param name="connection">The new member (registered with the manager).</param>
    /// <returns>The subscription outcome.</returns>
    public WebSocketSubscribeResult Join(WebSocketConnection connection)
    {
        lock (_sync)
        {
            foreach (WebSocketPreparedMessage line in _history)
            {
                connection.TrySend(line);
            }

            return _manager.Subscribe(connection, Topic);
        }
    }

    /// <summary>Records <paramref name="text"/> in the history and publishes it to every member without waiting for any of them.</summary>
    /// <param name="text">The message, relayed verbatim.</param>
    /// <returns>The per-member outcome counts.</returns>
    public WebSocketBroadcastResult Publish(string text)
    {
        lock (_sync)
        {
            WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(text);
            Remember(message);
            return _manager.Publish(Topic, message);
        }
    }

    /// <summary>A chat message from another node: kept in this node's history and sent to the local members only.</summary>
    private bool OnRemoteMessage(in WebSocketBackplaneMessage message)
    {
        if (message.Kind != WebSocketBackplaneMessageKind.Topic || !string.Equals(message.Topic, Topic, StringComparison.Ordinal))
        {
            return false;
        }

        lock (_sync)
        {
            WebSocketPreparedMessage prepared = WebSocketPreparedMessage.Create(message.MessageType, message.Payload.Span);
            Remember(prepared);
            _manager.PublishLocal(Topic, prepared);
        }

        return true;
    }

    private void Remember(WebSocketPreparedMessage message)
    {
        _history.Enqueue(message);
        if (_history.Count > HistorySize)
        {
            _history.Dequeue().Dispose();
        }
    }
}
