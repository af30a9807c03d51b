namespace Ws4Net.Bridge;

/// <summary>Exposes a <see cref="WebSocketConnection"/> as a <see cref="System.Net.WebSockets.WebSocket"/>. Thread-safe.</summary>
public static class WebSocketConnectionBridgeExtensions
{
    /// <summary>
    /// Wraps an open connection in a <see cref="Ws4NetWebSocket"/>, a <see cref="System.Net.WebSockets.WebSocket"/>
    /// with the BCL's semantics (see the type's remarks for the differences). The WebSocket owns the
    /// connection from then on: receive only through it (no handler loop, no pull API), and dispose it.
    /// </summary>
    /// <param name="connection">An open connection, client or server role.</param>
    /// <returns>The WebSocket view; each call returns a new wrapper, so call it once per connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    public static Ws4NetWebSocket AsWebSocket(this WebSocketConnection connection) => new(connection);
}
