namespace Ws4Net.Protocol;

/// <summary>The two kinds of data message (RFC 6455 §5.6).</summary>
public enum WebSocketMessageKind
{
    /// <summary>A text message: its payload is UTF-8, validated on receipt (close code 1007 otherwise).</summary>
    Text = 1,

    /// <summary>A binary message: arbitrary bytes.</summary>
    Binary = 2,
}
