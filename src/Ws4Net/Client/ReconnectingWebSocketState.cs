namespace Ws4Net.Client;

/// <summary>The state of a <see cref="ReconnectingWebSocketClient"/>.</summary>
public enum ReconnectingWebSocketState
{
    /// <summary>Created; <see cref="ReconnectingWebSocketClient.StartAsync(CancellationToken)"/> has not been called.</summary>
    Idle = 0,

    /// <summary>A connection attempt is running (TCP, proxy, TLS, handshake).</summary>
    Connecting,

    /// <summary>Connected, the reconnect hook has run and the send buffer has been flushed: sends go straight to the connection.</summary>
    Open,

    /// <summary>Disconnected, waiting out the backoff delay before the next attempt; sends are buffered (if configured).</summary>
    WaitingToReconnect,

    /// <summary>Stopped for good: closed by the application, by a close code that forbids reconnecting, or after a permanent or too many connect failures.</summary>
    Closed,
}
