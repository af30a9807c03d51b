using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The <c>/broadcast</c> endpoint: every message, text or binary, is relayed unchanged to every
/// member of the <see cref="Topic"/> topic (sender included), encoded once and sent without waiting
/// (a slow member meets the backpressure policy). No history. Used by load tests.
/// </summary>
internal sealed class BroadcastHandler : WebSocketHandler
{
    /// <summary>The manager topic of the <c>/broadcast</c> members.</summary>
    public const string Topic = "broadcast";

    private readonly WebSocketConnectionManager _manager;

    /// <summary>Creates the handler for one connection.</summary>
    /// <param name="manager">The server's manager.</param>
    public BroadcastHandler(WebSocketConnectionManager manager) => _manager = manager;

    /// <inheritdoc />
    protected override ValueTask OnOpenAsync()
    {
        _manager.Subscribe(Connection, Topic);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        using WebSocketPreparedMessage prepared = WebSocketPreparedMessage.Create(message.Type, message.Payload.Span);
        _manager.Publish(Topic, prepared);
        return ValueTask.CompletedTask;
    }
}
