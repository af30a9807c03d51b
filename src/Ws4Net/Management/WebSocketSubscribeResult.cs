namespace Ws4Net.Management;

/// <summary>The outcome of <see cref="WebSocketConnectionManager.Subscribe"/>. A peer-driven subscription that hits a cap gets a status, never an exception.</summary>
public enum WebSocketSubscribeResult
{
    /// <summary>The connection is now a subscriber of the topic.</summary>
    Subscribed,

    /// <summary>The connection was already a subscriber; nothing changed.</summary>
    AlreadySubscribed,

    /// <summary>The connection is not registered with this manager (never added, or already left).</summary>
    NotRegistered,

    /// <summary>The connection holds <see cref="WebSocketConnectionManagerOptions.MaxTopicsPerConnection"/> topics already.</summary>
    TooManyTopicsForConnection,

    /// <summary>The topic has <see cref="WebSocketConnectionManagerOptions.MaxSubscribersPerTopic"/> subscribers already.</summary>
    TooManySubscribers,

    /// <summary>The manager holds <see cref="WebSocketConnectionManagerOptions.MaxTopics"/> topics already and this one is new.</summary>
    TooManyTopics,

    /// <summary>The topic name is longer than <see cref="WebSocketConnectionManagerOptions.MaxTopicLength"/> characters.</summary>
    TopicNameTooLong,
}
