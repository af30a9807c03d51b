namespace Ws4Net.Protocol;

/// <summary>
/// One thing that happened on the receive side, produced by <see cref="WebSocketProtocol.TryReadEvent"/>.
/// A small immutable value; <see cref="Payload"/> points into either the caller's input buffer or the
/// core's reassembly buffer and is valid only until the next call to
/// <see cref="WebSocketProtocol.TryReadEvent"/> (copy it to keep it).
/// </summary>
public readonly struct WebSocketEvent
{
    internal WebSocketEvent(WebSocketEventType type, WebSocketMessageKind messageType, ReadOnlyMemory<byte> payload, bool endOfMessage, WebSocketCloseCode closeCode, string? reason)
    {
        Type = type;
        MessageType = messageType;
        Payload = payload;
        EndOfMessage = endOfMessage;
        CloseCode = closeCode;
        Reason = reason;
    }

    /// <summary>Gets what happened.</summary>
    public WebSocketEventType Type { get; }

    /// <summary>Gets, for <see cref="WebSocketEventType.Message"/> and <see cref="WebSocketEventType.Fragment"/>, whether the message is text or binary.</summary>
    public WebSocketMessageKind MessageType { get; }

    /// <summary>
    /// Gets the unmasked payload: the whole message, the fragment's bytes, or the ping/pong
    /// application data (0-125 bytes). Empty for close and failure events. Valid until the next
    /// <see cref="WebSocketProtocol.TryReadEvent"/> call.
    /// </summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Gets, for a fragment, whether it is the last part of its message; <see langword="true"/> for whole messages.</summary>
    public bool EndOfMessage { get; }

    /// <summary>
    /// Gets, for <see cref="WebSocketEventType.Close"/>, the code the peer sent
    /// (<see cref="WebSocketCloseCode.NoStatusReceived"/> when its close frame was empty); for
    /// <see cref="WebSocketEventType.Failed"/>, the code we send to fail the connection (1002, 1007, 1009).
    /// </summary>
    public WebSocketCloseCode CloseCode { get; }

    /// <summary>Gets the peer's close reason (Close) or a description of the violation (Failed); otherwise <see langword="null"/>.</summary>
    public string? Reason { get; }

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        WebSocketEventType.Message or WebSocketEventType.Fragment => $"{Type} {MessageType} {Payload.Length} B{(EndOfMessage ? string.Empty : " (more)")}",
        WebSocketEventType.Ping or WebSocketEventType.Pong => $"{Type} {Payload.Length} B",
        WebSocketEventType.Close or WebSocketEventType.Failed => $"{Type} {(int)CloseCode} {Reason}",
        _ => Type.ToString(),
    };
}
