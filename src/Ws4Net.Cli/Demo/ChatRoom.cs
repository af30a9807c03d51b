namespace Ws4Net.Cli.Demo;

/// <summary>
/// The state behind <c>/chat</c>: the members and the last <see cref="HistorySize"/> messages. Every
/// text message is relayed verbatim to every member (sender included). Thread-safe: all members share
/// one instance.
/// </summary>
public sealed class ChatRoom
{
    /// <summary>How many past messages a newcomer receives (count).</summary>
    public const int HistorySize = 50;

    private readonly Lock _sync = new();
    private readonly HashSet<WebSocketConnection> _members = [];
    private readonly Queue<string> _history = new();

    /// <summary>Adds a member and queues the history to it, atomically with respect to <see cref="Publish"/>, so it misses nothing and sees nothing twice.</summary>
    /// <param name="connection">The new member.</param>
    public void Join(WebSocketConnection connection)
    {
        lock (_sync)
        {
            foreach (string line in _history)
            {
                Fanout.SendText(connection, line);
            }

            _members.Add(connection);
        }
    }

    /// <summary>Removes a member.</summary>
    /// <param name="connection">The member leaving.</param>
    public void Leave(WebSocketConnection connection)
    {
        lock (_sync)
        {
            _members.Remove(connection);
        }
    }

    /// <summary>Records <paramref name="text"/> in the history and sends it to every member without waiting for any of them.</summary>
    /// <param name="text">The message, relayed verbatim.</param>
    public void Publish(string text)
    {
        lock (_sync)
        {
            _history.Enqueue(text);
            while (_history.Count > HistorySize)
            {
                _history.Dequeue();
            }

            foreach (WebSocketConnection member in _members)
            {
                Fanout.SendText(member, text);
            }
        }
    }
}
