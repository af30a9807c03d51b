using System.Text;
using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// A received data message (RFC 6455 §5.6), or one fragment of it when the connection delivers
/// fragments. <see cref="Payload"/> points into the connection's buffers and is valid only until the
/// next receive on the same connection (or until the handler callback returns): copy it with
/// <see cref="ToArray"/> or decode it with <see cref="GetText"/> to keep it.
/// </summary>
public readonly struct WebSocketMessage
{
    /// <summary>Creates a message view.</summary>
    /// <param name="type">Text or binary.</param>
    /// <param name="payload">The payload bytes (UTF-8 for text, already validated).</param>
    /// <param name="endOfMessage"><see langword="false"/> when more fragments of the same message follow.</param>
    public WebSocketMessage(WebSocketMessageKind type, ReadOnlyMemory<byte> payload, bool endOfMessage = true)
    {
        Type = type;
        Payload = payload;
        EndOfMessage = endOfMessage;
    }

    /// <summary>Gets whether the message is text or binary.</summary>
    public WebSocketMessageKind Type { get; }

    /// <summary>Gets the payload bytes; valid until the next receive.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Gets whether this is the whole message or its last fragment.</summary>
    public bool EndOfMessage { get; }

    /// <summary>Gets whether the message is text.</summary>
    public bool IsText => Type == WebSocketMessageKind.Text;

    /// <summary>Decodes the payload as UTF-8 into a new string (one allocation).</summary>
    /// <returns>The text.</returns>
    public string GetText() => Encoding.UTF8.GetString(Payload.Span);

    /// <summary>Copies the payload into a new array.</summary>
    /// <returns>A copy of the payload bytes.</returns>
    public byte[] ToArray() => Payload.ToArray();

    /// <inheritdoc />
    public override string ToString() => $"{Type} message, {Payload.Length} B";
}
