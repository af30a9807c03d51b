using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The <c>/pubsub</c> endpoint, a text protocol over the manager (and, with <c>--amqp</c>, across nodes). On open
/// the server sends <c>id &lt;connection id&gt;</c>. Commands (one per text message):
/// <c>sub &lt;topic&gt;</c>, <c>unsub &lt;topic&gt;</c>, <c>pub &lt;topic&gt; &lt;text&gt;</c> (every subscriber receives
/// <c>&lt;topic&gt; &lt;text&gt;</c>), <c>all &lt;text&gt;</c> (<see cref="WebSocketConnectionManager.Broadcast(string, WebSocketConnection?)"/>: every
/// connection of every node receives <c>&lt;text&gt;</c>) and <c>to &lt;connection id&gt; &lt;text&gt;</c>
/// (<see cref="WebSocketConnectionManager.SendToAsync(string, string, CancellationToken)"/>: that connection receives <c>&lt;text&gt;</c>).
/// <c>sub</c>, <c>unsub</c> and <c>to</c> are answered with <c>ok &lt;command&gt; &lt;outcome&gt;</c>; an unknown command closes with 1003.
/// </summary>
internal sealed class PubSubHandler : WebSocketHandler
{
    private readonly WebSocketConnectionManager _manager;

    /// <summary>Creates the handler for one connection.</summary>
    /// <param name="manager">The server's manager.</param>
    public PubSubHandler(WebSocketConnectionManager manager) => _manager = manager;

    /// <inheritdoc />
    protected override ValueTask OnOpenAsync() => SendTextAsync("id " + Connection.Id);

    /// <inheritdoc />
    protected override async ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (!message.IsText || message.Payload.Length > ChatHandler.MaxChatMessageBytes)
        {
            await CloseAsync(WebSocketCloseCode.UnsupportedData, "pubsub accepts short text commands").ConfigureAwait(false);
            return;
        }

        string text = message.GetText();
        string[] parts = text.Split(' ', 3);
        switch (parts[0])
        {
            case "sub" when parts.Length >= 2:
                await SendTextAsync($"ok sub {_manager.Subscribe(Connection, parts[1])}").ConfigureAwait(false);
                break;
            case "unsub" when parts.Length >= 2:
                await SendTextAsync($"ok unsub {_manager.Unsubscribe(Connection, parts[1])}").ConfigureAwait(false);
                break;
            case "pub" when parts.Length == 3:
                _manager.Publish(parts[1], parts[1] + " " + parts[2]);
                break;
            case "all":
                _manager.Broadcast(text.Length > 4 ? text[4..] : string.Empty);
                break;
            case "to" when parts.Length == 3:
                WebSocketSendToResult result = await _manager.SendToAsync(parts[1], parts[2]).ConfigureAwait(false);
                await SendTextAsync($"ok to {result}").ConfigureAwait(false);
                break;
            default:
                await CloseAsync(WebSocketCloseCode.UnsupportedData, "unknown command").ConfigureAwait(false);
                break;
        }
    }
}
