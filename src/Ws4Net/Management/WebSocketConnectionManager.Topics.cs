using Microsoft.Extensions.Logging;
using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Management;

public sealed partial class WebSocketConnectionManager
{
    /// <summary>Gets the number of live topics (topics with at least one subscriber).</summary>
    public int TopicCount => Volatile.Read(ref _topicCount);

    /// <summary>
    /// Subscribes a registered connection to a topic (created on first use). The subscription ends
    /// with <see cref="Unsubscribe"/> or when the connection leaves. Caps give a status, not an exception,
    /// so a handler may pass a peer's request straight through.
    /// </summary>
    /// <param name="connection">A connection registered with this manager.</param>
    /// <param name="topic">The topic name (ordinal, case-sensitive; at most <see cref="WebSocketConnectionManagerOptions.MaxTopicLength"/> characters).</param>
    /// <returns>What happened.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="topic"/> is empty.</exception>
    public WebSocketSubscribeResult Subscribe(WebSocketConnection connection, string topic)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (topic.Length > _options.MaxTopicLength)
        {
            return WebSocketSubscribeResult.TopicNameTooLong;
        }

        if (!TryGetEntry(connection, out ManagedConnection? entry))
        {
            return WebSocketSubscribeResult.NotRegistered;
        }

        lock (entry)
        {
            if (entry.Removed)
            {
                return WebSocketSubscribeResult.NotRegistered;
            }

            if (entry.IndexOfTopic(topic) >= 0)
            {
                return WebSocketSubscribeResult.AlreadySubscribed;
            }

            if (entry.Topics.Length >= _options.MaxTopicsPerConnection)
            {
                return WebSocketSubscribeResult.TooManyTopicsForConnection;
            }

            while (true)
            {
                Topic? live = GetOrCreateTopic(topic);
                if (live is null)
                {
                    return WebSocketSubscribeResult.TooManyTopics;
                }

                int slot = live.Subscribers.TryAdd(connection, _options.MaxSubscribersPerTopic);
                if (slot == SlotTable.Closed)
                {
                    continue;   // its last subscriber just left; GetOrCreateTopic replaces it
                }

                if (slot == SlotTable.Full)
                {
                    return WebSocketSubscribeResult.TooManySubscribers;
                }

                entry.Topics = [.. entry.Topics, new TopicSubscription(live, slot)];
                LogSubscribed(_logger, connection.Id, topic);
                return WebSocketSubscribeResult.Subscribed;
            }
        }
    }

    /// <summary>Ends a subscription. A topic left without subscribers is released.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="topic">The topic name.</param>
    /// <returns><see langword="true"/> when the connection was a subscriber.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public bool Unsubscribe(WebSocketConnection connection, string topic)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(topic);
        if (!TryGetEntry(connection, out ManagedConnection? entry))
        {
            return false;
        }

        lock (entry)
        {
            int index = entry.IndexOfTopic(topic);
            if (index < 0 || entry.Removed)
            {
                return false;
            }

            TopicSubscription subscription = entry.Topics[index];
            TopicSubscription[] rest = new TopicSubscription[entry.Topics.Length - 1];
            entry.Topics.AsSpan(0, index).CopyTo(rest);
            entry.Topics.AsSpan(index + 1).CopyTo(rest.AsSpan(index));
            entry.Topics = rest;
            ReleaseSubscription(entry, subscription);
            return true;
        }
    }

    /// <summary>Sends a text message to every subscriber of a topic (or all but one), encoded once.</summary>
    /// <param name="topic">The topic name.</param>
    /// <param name="text">The text.</param>
    /// <param name="except">A subscriber to skip (typically the sender), or <see langword="null"/>.</param>
    /// <returns>The per-subscriber outcome counts (all zero when the topic has no subscribers).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> or <paramref name="text"/> is null.</exception>
    public WebSocketBroadcastResult Publish(string topic, string text, WebSocketConnection? except = null)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(text);
        if (!_topics.ContainsKey(topic) && !_backplane.IsForwarding)
        {
            return default;
        }

        using WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(text);
        return Publish(topic, message, except);
    }

    /// <summary>Sends a message to every subscriber of a topic (or all but one), encoded once.</summary>
    /// <param name="topic">The topic name.</param>
    /// <param name="data">The payload.</param>
    /// <param name="messageType">Text (UTF-8 payload) or binary.</param>
    /// <param name="except">A subscriber to skip, or <see langword="null"/>.</param>
    /// <returns>The per-subscriber outcome counts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is null.</exception>
    public WebSocketBroadcastResult Publish(string topic, ReadOnlySpan<byte> data, WebSocketMessageKind messageType, WebSocketConnection? except = null)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!_topics.ContainsKey(topic) && !_backplane.IsForwarding)
        {
            return default;
        }

        using WebSocketPreparedMessage message = WebSocketPreparedMessage.Create(messageType, data);
        return Publish(topic, message, except);
    }

    /// <summary>
    /// Sends a prepared message to every subscriber of a topic (or all but one), here and, through the backplane,
    /// on the other nodes that have subscribers of it: each local one gets a reference to
    /// the same frame through its non-waiting send, after whatever was sent to it before. No lock, no
    /// allocation per subscriber. The caller disposes <paramref name="message"/> afterwards.
    /// </summary>
    /// <param name="topic">The topic name.</param>
    /// <param name="message">The prepared message.</param>
    /// <param name="except">A subscriber to skip, or <see langword="null"/>.</param>
    /// <returns>The per-subscriber outcome counts.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public WebSocketBroadcastResult Publish(string topic, WebSocketPreparedMessage message, WebSocketConnection? except = null)
    {
        WebSocketBroadcastResult result = PublishLocal(topic, message, except);
        Forward(WebSocketBackplaneMessageKind.Topic, topic, message);
        return result;
    }

    /// <summary>Gets a snapshot of a topic's subscribers.</summary>
    /// <param name="topic">The topic name.</param>
    /// <returns>A new list; empty when the topic has none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is null.</exception>
    public IReadOnlyList<WebSocketConnection> GetSubscribers(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!_topics.TryGetValue(topic, out Topic? live))
        {
            return [];
        }

        var list = new List<WebSocketConnection>(live.Subscribers.Count);
        foreach (WebSocketConnection? subscriber in live.Subscribers.Items)
        {
            if (subscriber is not null)
            {
                list.Add(subscriber);
            }
        }

        return list;
    }

    /// <summary>Gets the number of subscribers of a topic (0 when it does not exist).</summary>
    /// <param name="topic">The topic name.</param>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="topic"/> is null.</exception>
    public int GetSubscriberCount(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return _topics.TryGetValue(topic, out Topic? live) ? live.Subscribers.Count : 0;
    }

    /// <summary>Gets the topics a connection is subscribed to, in subscription order.</summary>
    /// <param name="connection">The connection.</param>
    /// <returns>A new array; empty when the connection is not registered or has none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    public IReadOnlyList<string> GetTopics(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!TryGetEntry(connection, out ManagedConnection? entry))
        {
            return [];
        }

        TopicSubscription[] topics = Volatile.Read(ref entry.Topics);
        var names = new string[topics.Length];
        for (int i = 0; i < topics.Length; i++)
        {
            names[i] = topics[i].Topic.Name;
        }

        return names;
    }

    /// <summary>Gets the live topics' names (a snapshot).</summary>
    /// <returns>A new array.</returns>
    public IReadOnlyList<string> GetTopicNames() => _topics.Keys.ToArray();

    /// <summary>Takes a subscriber out of a topic; releases the topic when that was its last one. Called under the entry's lock.</summary>
    private void ReleaseSubscription(ManagedConnection entry, TopicSubscription subscription)
    {
        Topic topic = subscription.Topic;
        if (topic.Subscribers.Remove(subscription.Slot, entry.Connection))
        {
            lock (_bindingSync)
            {
                // Under the lock, so that the backplane sees topic starts and ends in the order the table changed.
                if (_topics.TryRemove(new KeyValuePair<string, Topic>(topic.Name, topic)))
                {
                    _backplane.RemoveTopic(topic.Name);
                }
            }

            Interlocked.Decrement(ref _topicCount);
            LogTopicReleased(_logger, topic.Name);
        }
    }

    /// <summary>Returns the live topic of that name, creating it (or replacing a dead one); <see langword="null"/> at <see cref="WebSocketConnectionManagerOptions.MaxTopics"/>.</summary>
    private Topic? GetOrCreateTopic(string name)
    {
        while (true)
        {
            if (_topics.TryGetValue(name, out Topic? existing) && !existing.Subscribers.IsClosed)
            {
                return existing;
            }

            if (Interlocked.Increment(ref _topicCount) > _options.MaxTopics)
            {
                Interlocked.Decrement(ref _topicCount);
                return null;
            }

            var fresh = new Topic(name);
            lock (_bindingSync)
            {
                bool published = existing is null ? _topics.TryAdd(name, fresh) : _topics.TryUpdate(name, fresh, existing);
                if (published)
                {
                    _backplane.AddTopic(name);
                    return fresh;
                }
            }

            Interlocked.Decrement(ref _topicCount);
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} subscribed to {Topic}")]
    private static partial void LogSubscribed(ILogger logger, string connectionId, string topic);

    [LoggerMessage(EventId = 311, Level = LogLevel.Debug, Message = "Topic {Topic} released (no subscribers)")]
    private static partial void LogTopicReleased(ILogger logger, string topic);
}
