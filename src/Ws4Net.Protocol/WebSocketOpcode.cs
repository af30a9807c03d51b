namespace Ws4Net.Protocol;

/// <summary>
/// Frame opcodes defined by RFC 6455 §5.2 (4 bits on the wire). Values 3-7 and 11-15 are reserved
/// and a frame carrying one fails the connection with close code 1002.
/// </summary>
public enum WebSocketOpcode : byte
{
    /// <summary>0x0: a continuation frame of a fragmented data message (RFC 6455 §5.4).</summary>
    Continuation = 0x0,

    /// <summary>0x1: the first frame of a text message; the payload is UTF-8 (RFC 6455 §5.6).</summary>
    Text = 0x1,

    /// <summary>0x2: the first frame of a binary message (RFC 6455 §5.6).</summary>
    Binary = 0x2,

    /// <summary>0x8: a close control frame (RFC 6455 §5.5.1).</summary>
    Close = 0x8,

    /// <summary>0x9: a ping control frame (RFC 6455 §5.5.2).</summary>
    Ping = 0x9,

    /// <summary>0xA: a pong control frame (RFC 6455 §5.5.3).</summary>
    Pong = 0xA,
}
