namespace Ws4Net.Cli.Demo;

/// <summary>
/// The <c>/echo</c> endpoint: sends every message back unchanged, with the same opcode (text stays
/// text, binary stays binary). This is what the Autobahn fuzzing client tests against. One instance
/// per connection; callbacks run one at a time.
/// </summary>
internal sealed class EchoHandler : WebSocketHandler
{
    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
        => Connection.SendAsync(message.Payload, message.Type, message.EndOfMessage);
}
