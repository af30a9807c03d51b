namespace Ws4Net.Protocol;

/// <summary>
/// The side of a WebSocket connection an endpoint plays (RFC 6455 §1.3, §5.1).
/// The role decides masking: a client masks every frame it sends and rejects masked frames;
/// a server never masks and rejects unmasked frames (close code 1002).
/// </summary>
public enum WebSocketRole
{
    /// <summary>The endpoint that sent the opening handshake request; masks its frames (RFC 6455 §5.3).</summary>
    Client = 0,

    /// <summary>The endpoint that accepted the opening handshake; never masks its frames (RFC 6455 §5.1).</summary>
    Server = 1,
}
