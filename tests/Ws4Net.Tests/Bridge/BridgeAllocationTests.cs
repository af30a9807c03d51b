using Ws4Net.Bridge;
using Ws4Net.Client;
using Ws4Net.Tests.Compression;
using Xunit.Abstractions;

namespace Ws4Net.Tests.Bridge;

using WebSocketMessageKind = System.Net.WebSockets.WebSocketMessageType;

/// <summary>
/// The bridge's Memory overloads allocate nothing per message in steady state: pipelined echoes through a
/// real loopback socket, the client seen as a System.Net.WebSockets.WebSocket. Runs alone (the count is
/// process-wide). Not a timing test.
/// </summary>
[Collection(MemoryCollection.Name)]
public sealed class BridgeAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Echoes_through_the_bridge_allocate_nothing_per_message()
    {
        const int Messages = 200_000;
        const int Pipeline = 16;
        await using TestServer server = await TestServer.StartAsync();
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Connection.KeepAliveInterval = TimeSpan.Zero;
        using Ws4NetWebSocket client = (await server.ConnectAsync("/echo", clientOptions)).AsWebSocket();
        byte[] payload = new byte[64];
        byte[] buffer = new byte[256];

        await EchoAsync(client, payload, buffer, 20_000, Pipeline);   // warm up: JIT, tiering, pools
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await EchoAsync(client, payload, buffer, Messages, Pipeline);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        output.WriteLine($"{allocated:N0} bytes allocated over {Messages:N0} echoes ({(double)allocated / Messages:0.000} B/message)");
        // Under 5 B per message: one object per message would be at least 24 B (4.8 MB here). What remains is
        // process-wide noise (thread pool growth on a busy machine, timers: 8 KB to 330 KB measured), which a
        // shorter run than AllocationTests' does not amortise.
        Assert.True(allocated < Messages * 5L, $"{allocated:N0} bytes allocated over {Messages:N0} echoes");
    }

    private static async Task EchoAsync(Ws4NetWebSocket client, byte[] payload, byte[] buffer, int messages, int pipeline)
    {
        for (int done = 0; done < messages; done += pipeline)
        {
            for (int i = 0; i < pipeline; i++)
            {
                await client.SendAsync(payload.AsMemory(), WebSocketMessageKind.Binary, true, CancellationToken.None);
            }

            for (int i = 0; i < pipeline; i++)
            {
                System.Net.WebSockets.ValueWebSocketReceiveResult echo = await client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (echo.MessageType != WebSocketMessageKind.Binary || echo.Count != payload.Length || !echo.EndOfMessage)
                {
                    throw new InvalidOperationException("the echo differs");
                }
            }
        }
    }
}
