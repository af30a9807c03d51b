using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The <c>/chat</c> endpoint: joins the shared <see cref="ChatRoom"/>, receives the history, and
/// publishes each text message to everyone. Binary messages are refused with 1003 (unsupported data);
/// texts over <see cref="MaxChatMessageBytes"/> with 1009. Leaving is automatic (the manager drops the
/// subscription when the connection closes).
/// </summary>
internal sealed class ChatHandler : WebSocketHandler
{
    /// <summary>The largest chat message accepted, in UTF-8 bytes.</summary>
    public const int MaxChatMessageBytes = 16 * 1024;

    private readonly ChatRoom _room;

    /// <summary>Creates the handler for one connection.</summary>
    /// <param name="room">The shared room.</param>
    public ChatHandler(ChatRoom room) => _room = room;

    /// <inheritdoc />
    protected override ValueTask OnOpenAsync()
    {
        _room.Join(Connection);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (!message.IsText)
        {
            return CloseAsync(WebSocketCloseCode.UnsupportedData, "chat accepts text only");
        }

        if (message.Payload.Length > MaxChatMessageBytes)
        {
            return CloseAsync(WebSocketCloseCode.MessageTooBig, "chat message too long");
        }

        _room.Publish(message.GetText());
        return ValueTask.CompletedTask;
    }
}
