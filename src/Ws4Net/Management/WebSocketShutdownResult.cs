namespace Ws4Net.Management;

/// <summary>The outcome of <see cref="WebSocketConnectionManager.ShutdownAsync(TimeSpan, CancellationToken)"/> (counts of connections). Immutable.</summary>
/// <param name="Closed">Connections that finished (close handshake or transport end) before the deadline.</param>
/// <param name="Aborted">Connections still open at the deadline, whose transport was then aborted.</param>
public readonly record struct WebSocketShutdownResult(int Closed, int Aborted)
{
    /// <summary>Gets the number of connections the shutdown dealt with.</summary>
    public int Total => Closed + Aborted;
}
