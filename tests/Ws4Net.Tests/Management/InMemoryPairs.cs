using Ws4Net.Management;

namespace Ws4Net.Tests.Management;

/// <summary>Connection pairs over in-memory pipes registered with a standalone manager (no server).</summary>
internal static class InMemoryPairs
{
    public static List<(WebSocketConnection Client, WebSocketConnection Server)> Create(WebSocketConnectionManager manager, int count)
    {
        var pairs = new List<(WebSocketConnection, WebSocketConnection)>(count);
        for (int i = 0; i < count; i++)
        {
            (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
            Assert.True(manager.Add(server));
            pairs.Add((client, server));
        }

        return pairs;
    }

    public static async Task DisposeAsync(IEnumerable<(WebSocketConnection Client, WebSocketConnection Server)> pairs)
    {
        foreach ((WebSocketConnection client, WebSocketConnection server) in pairs)
        {
            client.Abort();
            server.Abort();
            await client.DisposeAsync();
            await server.DisposeAsync();
        }
    }
}
