namespace Ws4Net;

/// <summary>
/// What a send that never waits does when a peer's send queue is at its cap
/// (<see cref="WebSocketConnectionOptions.MaxBufferedAmount"/>): the slow-consumer policy.
/// </summary>
public enum WebSocketBackpressurePolicy
{
    /// <summary>Drop that message for that peer (<see cref="WebSocketSendStatus.Dropped"/>); the connection stays open. The default.</summary>
    DropMessage = 0,

    /// <summary>Close the peer with 1008 (policy violation, RFC 6455 §7.4.1) and the reason "send queue full".</summary>
    ClosePolicyViolation,

    /// <summary>Close the peer with 1013 (try again later, IANA WebSocket close code registry) and the reason "send queue full".</summary>
    CloseTryAgainLater,
}
