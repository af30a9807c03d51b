namespace Ws4Net.Protocol;

/// <summary>
/// Per-message choices when sending a data message, in the manner of
/// <c>System.Net.WebSockets.WebSocketMessageFlags</c>: whether this part ends the message (RFC 6455 §5.4)
/// and, with permessage-deflate in force, whether the message is compressed (RFC 7692 §6: a sender may
/// leave any message uncompressed). Without a compression flag the agreed threshold decides.
/// </summary>
[Flags]
public enum WebSocketSendFlags
{
    /// <summary>More parts of the message follow; compression follows the threshold.</summary>
    None = 0,

    /// <summary>This part ends the message (FIN on its last frame).</summary>
    EndOfMessage = 1,

    /// <summary>
    /// Send the message uncompressed whatever its size: for secrets next to attacker-controlled data
    /// (CRIME/BREACH-style side channels) and for data that is already compressed. Only the first part of
    /// a message decides.
    /// </summary>
    DisableCompression = 2,

    /// <summary>Compress the message even below the threshold. Only the first part of a message decides.</summary>
    ForceCompression = 4,
}
