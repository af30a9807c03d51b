namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// The Kestrel roles' echo handler: echoes every message (or fragment) with its type, as the demo server's
/// /echo does, and files its connection with the fixture so a case can see how it ended.
/// </summary>
public sealed class TrackingEchoHandler(EchoServerFixture fixture) : WebSocketHandler
{
    /// <inheritdoc />
    protected override ValueTask OnOpenAsync()
    {
        fixture.Track(Connection);
        return default;
    }

    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
        => Connection.SendAsync(message.Payload, message.Type, message.EndOfMessage);
}
