namespace Ws4Net.Management;

/// <summary>The outcome of <see cref="WebSocketManager.Subscribe"/>. A peer-driven subscription that hits a cap gets a status, never an exception.</summary>
public enum WebSocketSubscribeResult
{
    /// <summary>The connection is now a subscriber of the topic.</summary>
    Subscribed,

    /// <summary>The connection was already a subscriber; nothing changed.</summary>
    AlreadySubscribed,

    /// <summary>The connection is not registered with this manager (never added, or already left).</summary>
    NotRegistered,

    /// <summary>The connection holds <see cref="WebSocketManagerOptions.MaxTopicsPerConnection"/> topics already.</summary>
    TooManyTopicsForConnection,

    /// <summary>The topic has <see cref="WebSocketManagerOptions.MaxSubscribersPerTopic"/> subscribers already.</summary>
    TooManySubscribers,

    /// <summary>The manager holds <see cref="WebSocketManagerOptions.MaxTopics"/> topics already and this one is new.</summary>
    TooManyTopics,

    /// <summary>The topic name is longer than <see cref="WebSocketManagerOptions.MaxTopicLength"/> characters.</summary>
    TopicNameTooLong,
}
