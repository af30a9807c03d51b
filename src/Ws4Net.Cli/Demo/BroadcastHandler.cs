namespace Ws4Net.Cli.Demo;

/// <summary>The <c>/broadcast</c> endpoint: relays every message to every member of the shared <see cref="BroadcastHub"/>.</summary>
public sealed class BroadcastHandler : WebSocketHandler
{
    private readonly BroadcastHub _hub;

    /// <summary>Creates the handler for one connection.</summary>
    /// <param name="hub">The shared hub.</param>
    public BroadcastHandler(BroadcastHub hub) => _hub = hub;

    /// <inheritdoc />
    protected override ValueTask OnOpenAsync()
    {
        _hub.Add(Connection);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        _hub.Relay(message.Type, message.Payload);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnCloseAsync(WebSocketCloseStatus status)
    {
        _hub.Remove(Connection);
        return ValueTask.CompletedTask;
    }
}
