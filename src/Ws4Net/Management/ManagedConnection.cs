namespace Ws4Net.Management;

/// <summary>
/// The manager's record of one registered connection: its slot in the registry and its topic
/// subscriptions. <see cref="Topics"/> is copy-on-write and changed only under a lock on this object.
/// </summary>
internal sealed class ManagedConnection(WebSocketConnectionManager manager, WebSocketConnection connection)
{
    public readonly WebSocketConnectionManager Manager = manager;
    public readonly WebSocketConnection Connection = connection;
    public int Slot = -1;
    public bool Removed;
    public TopicSubscription[] Topics = [];

    public int IndexOfTopic(string name)
    {
        TopicSubscription[] topics = Topics;
        for (int i = 0; i < topics.Length; i++)
        {
            if (string.Equals(topics[i].Topic.Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
