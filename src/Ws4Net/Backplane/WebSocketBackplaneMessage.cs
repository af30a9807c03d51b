using Ws4Net.Protocol;

namespace Ws4Net.Backplane;

/// <summary>
/// One application message carried between nodes by an <see cref="IWebSocketBackplane"/>: what it is
/// (text or binary payload, not WebSocket frames, because each node may negotiate other extensions
/// with its peers, RFC 7692), where it goes (broadcast, a topic, or one connection) and which node
/// published it. Each receiving node encodes it once into a <see cref="WebSocketPreparedMessage"/> for
/// its local recipients.
/// </summary>
/// <remarks>A value type that borrows <see cref="Payload"/>: it is valid only during the call it is passed to
/// (<see cref="IWebSocketBackplane.Publish"/> copies what it keeps; <see cref="IWebSocketBackplaneReceiver.Deliver"/>
/// must not keep it). Immutable, so thread-safe to read.</remarks>
public readonly struct WebSocketBackplaneMessage
{
    /// <summary>Creates a message.</summary>
    /// <param name="kind">Where it goes.</param>
    /// <param name="topic">The topic name for <see cref="WebSocketBackplaneMessageKind.Topic"/>; otherwise <see langword="null"/>.</param>
    /// <param name="messageType">Text (UTF-8 payload) or binary.</param>
    /// <param name="payload">The payload bytes (borrowed).</param>
    /// <param name="originNodeId">The publishing node's id.</param>
    /// <param name="targetConnectionId">The connection id for <see cref="WebSocketBackplaneMessageKind.Direct"/>; otherwise <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The topic or target does not match <paramref name="kind"/>, or <paramref name="originNodeId"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not text or binary.</exception>
    public WebSocketBackplaneMessage(WebSocketBackplaneMessageKind kind, string? topic, WebSocketMessageKind messageType, ReadOnlyMemory<byte> payload, string originNodeId, string? targetConnectionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(originNodeId);
        if (messageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType), messageType, "A backplane message is text or binary.");
        }

        if ((kind == WebSocketBackplaneMessageKind.Topic) != !string.IsNullOrEmpty(topic))
        {
            throw new ArgumentException("A topic message has a topic name; other kinds have none.", nameof(topic));
        }

        if ((kind == WebSocketBackplaneMessageKind.Direct) != !string.IsNullOrEmpty(targetConnectionId))
        {
            throw new ArgumentException("A direct message has a target connection id; other kinds have none.", nameof(targetConnectionId));
        }

        Kind = kind;
        Topic = topic;
        MessageType = messageType;
        Payload = payload;
        OriginNodeId = originNodeId;
        TargetConnectionId = targetConnectionId;
    }

    /// <summary>Gets where the message goes.</summary>
    public WebSocketBackplaneMessageKind Kind { get; }

    /// <summary>Gets the topic name (<see cref="WebSocketBackplaneMessageKind.Topic"/> only), else <see langword="null"/>.</summary>
    public string? Topic { get; }

    /// <summary>Gets the message type: text (the payload is UTF-8) or binary.</summary>
    public WebSocketMessageKind MessageType { get; }

    /// <summary>Gets the payload bytes; borrowed, valid only during the call the message was passed to.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Gets the id of the node that published the message (a node ignores its own messages: it delivered them locally already).</summary>
    public string OriginNodeId { get; }

    /// <summary>Gets the target connection's <see cref="WebSocketConnection.Id"/> (<see cref="WebSocketBackplaneMessageKind.Direct"/> only), else <see langword="null"/>.</summary>
    public string? TargetConnectionId { get; }
}
