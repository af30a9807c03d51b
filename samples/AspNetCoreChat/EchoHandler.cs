using Ws4Net;

namespace AspNetCoreChat;

/// <summary>Echoes every message back, text as text and binary as binary.</summary>
internal sealed class EchoHandler : WebSocketHandler
{
    protected override async ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText)
        {
            await SendTextAsync(message.GetText());
        }
        else
        {
            await SendBinaryAsync(message.ToArray());
        }
    }
}
