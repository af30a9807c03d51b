namespace Ws4Net.DoS.Tests;

/// <summary>
/// The correctness bounds every case asserts (docs/limits.md, "What the denial-of-service suite proves").
/// Generous on purpose: they separate "served" from "starved" on a loaded shared machine; they are not
/// performance targets (those are benchmarks).
/// </summary>
internal static class Bounds
{
    /// <summary>The healthy client's echo round trip, 99th percentile over the case.</summary>
    public static readonly TimeSpan EchoP99 = TimeSpan.FromSeconds(2);

    /// <summary>Every new healthy client's opening handshake (TCP connect, TLS when used, HTTP upgrade).</summary>
    public static readonly TimeSpan NewConnection = TimeSpan.FromSeconds(2);

    /// <summary>Slack added to a server timeout before a hostile peer is declared "not dealt with": the server's
    /// timers run on a 100 ms tick and the machine may be busy.</summary>
    public static readonly TimeSpan TimeoutSlack = TimeSpan.FromSeconds(3);

    /// <summary>The server's default opening-handshake deadline (WebSocketServerOptions.HandshakeTimeout).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The server's default close-handshake deadline (WebSocketConnectionOptions.CloseTimeout).</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
}
