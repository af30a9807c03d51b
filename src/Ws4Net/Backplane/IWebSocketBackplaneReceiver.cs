namespace Ws4Net.Backplane;

/// <summary>
/// Receives the messages an <see cref="IWebSocketBackplane"/> brings from other nodes. Implemented by
/// <see cref="Management.WebSocketConnectionManager"/>, which delivers them to its local connections (encoded once per node).
/// </summary>
public interface IWebSocketBackplaneReceiver
{
    /// <summary>
    /// Delivers one message from another node to the local recipients, with non-waiting sends (a slow local
    /// peer meets its backpressure policy; it never delays the backplane). Messages from one publishing node
    /// must be delivered in the order that node published them, so a backplane calls this from one thread at a
    /// time per origin. Must not throw for a recipient that left.
    /// </summary>
    /// <param name="message">The message; its payload is borrowed for the duration of the call.</param>
    void Deliver(in WebSocketBackplaneMessage message);
}
