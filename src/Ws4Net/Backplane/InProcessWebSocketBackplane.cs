using System.Collections.Concurrent;

namespace Ws4Net.Backplane;

/// <summary>
/// The default <see cref="IWebSocketBackplane"/>: nodes in one process. Created alone it has no other
/// node, so a manager's broadcasts and publishes stay local and cost nothing more; created with a
/// <c>peer</c>, it joins that backplane's group and forwards to every other member synchronously, on the
/// publishing thread (each member receives only the topics it has local subscribers for), which is how
/// several managers in one process (or tests of multi-node logic) share broadcasts, topics and direct sends.
/// </summary>
/// <remarks>
/// <para>Guarantees: exactly-once and in publish order within the group (delivery is a direct call);
/// nothing is buffered, so there is no cap to reach.</para>
/// <para>Thread-safety: every member is thread-safe. A receiver's <see cref="IWebSocketBackplaneReceiver.Deliver"/>
/// runs on the publisher's thread; publishes from several threads may interleave, but each publisher's order holds.</para>
/// </remarks>
public sealed class InProcessWebSocketBackplane : IWebSocketBackplane
{
    private readonly Group _group;
    private readonly ConcurrentDictionary<string, byte> _topics = new(StringComparer.Ordinal);
    private IWebSocketBackplaneReceiver? _receiver;

    /// <summary>Creates a standalone backplane (no other node) for this process's <see cref="WebSocketConnection.NodeId"/>.</summary>
    public InProcessWebSocketBackplane()
        : this(WebSocketConnection.NodeId, null)
    {
    }

    /// <summary>Creates a backplane node, alone or in the group of <paramref name="peer"/>.</summary>
    /// <param name="nodeId">This node's id (unique in the group; no '-', like <see cref="WebSocketConnection.NodeId"/>).</param>
    /// <param name="peer">A backplane whose group to join, or <see langword="null"/> to start a new group.</param>
    /// <exception cref="ArgumentException"><paramref name="nodeId"/> is empty, contains '-', or is already taken in the group.</exception>
    public InProcessWebSocketBackplane(string nodeId, InProcessWebSocketBackplane? peer)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        if (nodeId.Contains('-', StringComparison.Ordinal))
        {
            throw new ArgumentException("A node id may not contain '-'.", nameof(nodeId));
        }

        NodeId = nodeId;
        _group = peer?._group ?? new Group();
        _group.Join(this);
    }

    /// <inheritdoc />
    public string NodeId { get; }

    /// <inheritdoc />
    public bool IsForwarding => _group.Members.Length > 1;

    /// <summary>Gets the topics this node receives from the others (a snapshot).</summary>
    public IReadOnlyCollection<string> Topics => _topics.Keys.ToArray();

    /// <inheritdoc />
    public void Attach(IWebSocketBackplaneReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("A receiver is already attached to this backplane.");
        }
    }

    /// <inheritdoc />
    public WebSocketBackplanePublishStatus Publish(in WebSocketBackplaneMessage message)
    {
        InProcessWebSocketBackplane[] members = _group.Members;
        if (members.Length <= 1)
        {
            return WebSocketBackplanePublishStatus.NoRemoteNodes;
        }

        foreach (InProcessWebSocketBackplane member in members)
        {
            if (ReferenceEquals(member, this) || member._receiver is not { } receiver)
            {
                continue;
            }

            bool wanted = message.Kind switch
            {
                WebSocketBackplaneMessageKind.Topic => member._topics.ContainsKey(message.Topic!),
                WebSocketBackplaneMessageKind.Direct => IsNodeOf(member.NodeId, message.TargetConnectionId!),
                _ => true,
            };
            if (wanted)
            {
                receiver.Deliver(message);
            }
        }

        return WebSocketBackplanePublishStatus.Forwarded;
    }

    /// <inheritdoc />
    public void AddTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        _topics.TryAdd(topic, 0);
    }

    /// <inheritdoc />
    public void RemoveTopic(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        _topics.TryRemove(topic, out _);
    }

    /// <summary>Whether a connection id (<c>node-counter</c>) belongs to <paramref name="nodeId"/>.</summary>
    internal static bool IsNodeOf(string nodeId, string connectionId)
    {
        int dash = connectionId.LastIndexOf('-');
        return dash > 0 && connectionId.AsSpan(0, dash).SequenceEqual(nodeId);
    }

    /// <summary>The members of one in-process group: a copy-on-write array.</summary>
    private sealed class Group
    {
        private readonly Lock _sync = new();

        public InProcessWebSocketBackplane[] Members { get; private set; } = [];

        public void Join(InProcessWebSocketBackplane member)
        {
            lock (_sync)
            {
                foreach (InProcessWebSocketBackplane existing in Members)
                {
                    if (string.Equals(existing.NodeId, member.NodeId, StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"Node id '{member.NodeId}' is already taken in this group.", "nodeId");
                    }
                }

                Members = [.. Members, member];
            }
        }
    }
}
