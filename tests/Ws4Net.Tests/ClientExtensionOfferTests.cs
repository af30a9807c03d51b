using System.Collections.Concurrent;
using Ws4Net.Client;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// <see cref="WebSocketClientOptions.ExtensionOffers"/> reaches the server's extension negotiator (RFC 6455
/// §9.1) and an accepted offer completes the handshake; a negotiator that names an extension the client did not
/// offer is a server error (500), never a response the client would have to refuse (§4.1, covered by the
/// client handshake vectors).
/// </summary>
public sealed class ClientExtensionOfferTests
{
    [Fact]
    public async Task An_offered_extension_reaches_the_route_negotiator_and_its_acceptance_completes_the_handshake()
    {
        var seen = new ConcurrentQueue<string>();
        var route = new WebSocketRoute("/ext", (_, _) => new EchoTestHandler())
        {
            ExtensionNegotiator = offers =>
            {
                foreach (WebSocketExtensionOffer offer in offers)
                {
                    seen.Enqueue(offer.ToString());
                }

                return offers.Any(o => o.Name == "x-trace") ? "x-trace; v=2" : null;
            },
        };
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map(route));
        WebSocketClientOptions options = server.ClientOptions();
        options.ExtensionOffers = "x-trace; v=2, x-other";

        await using WebSocketConnection client = await server.ConnectAsync("/ext", options);
        await client.SendTextAsync("still plain frames").AsTask().WithTimeout();
        WebSocketMessage? echo = await client.ReceiveAsync().AsTask().WithTimeout();

        Assert.Equal("still plain frames", echo?.GetText());
        Assert.Equal(["x-trace; v=2", "x-other"], seen.ToArray());
    }

    [Fact]
    public async Task A_route_negotiator_naming_an_extension_that_was_not_offered_is_a_server_error_500()
    {
        var route = new WebSocketRoute("/ext", (_, _) => new EchoTestHandler())
        {
            ExtensionNegotiator = _ => "x-never-offered",
        };
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map(route));
        WebSocketClientOptions options = server.ClientOptions();
        options.ExtensionOffers = "x-trace";

        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/ext", options));
        Assert.True(error.Error == WebSocketConnectError.HttpStatus, error.ToString());
        Assert.Equal(500, error.StatusCode);
    }
}
