namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>Upper bounds for every await in these tests (generous: the machine may be busy).</summary>
internal static class Timeouts
{
    /// <summary>One network step: a connect, a message round trip, a close handshake.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(20);

    /// <summary>Starting a peer server until it prints LISTENING.</summary>
    public static readonly TimeSpan PeerStartup = TimeSpan.FromSeconds(30);

    /// <summary>A whole peer client script (it has 10 s per step itself).</summary>
    public static readonly TimeSpan PeerScript = TimeSpan.FromSeconds(120);

    /// <summary>Stopping the in-process server.</summary>
    public static readonly TimeSpan Shutdown = TimeSpan.FromSeconds(15);
}
