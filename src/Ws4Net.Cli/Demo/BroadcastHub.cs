using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The state behind <c>/broadcast</c>: every message, text or binary, is relayed unchanged to every
/// connected client (sender included), with no history. Used by load tests. Thread-safe.
/// </summary>
public sealed class BroadcastHub
{
    private readonly Lock _sync = new();
    private WebSocketConnection[] _members = [];

    /// <summary>Adds a member.</summary>
    /// <param name="connection">The connection.</param>
    public void Add(WebSocketConnection connection)
    {
        lock (_sync)
        {
            _members = [.. _members, connection];
        }
    }

    /// <summary>Removes a member.</summary>
    /// <param name="connection">The connection.</param>
    public void Remove(WebSocketConnection connection)
    {
        lock (_sync)
        {
            _members = Array.FindAll(_members, m => m != connection);
        }
    }

    /// <summary>Sends the message to every member without waiting for slow ones (each connection's send queue bounds its memory).</summary>
    /// <param name="type">Text or binary.</param>
    /// <param name="payload">The payload, copied into each member's send queue before this returns.</param>
    public void Relay(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        foreach (WebSocketConnection member in Volatile.Read(ref _members))
        {
            Fanout.Send(member, type, payload);
        }
    }
}
