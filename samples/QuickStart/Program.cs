// The README's quick start, compiled and run: a ws4py-style server handler and a pull-style client.
// dotnet run --project samples/QuickStart
using System.Net;
using Ws4Net;
using Ws4Net.Client;
using Ws4Net.Server;

var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new(IPAddress.Loopback, 0) });
server.Map("/echo", request => new EchoHandler(prefix: "echo: "));
await server.StartAsync();
var url = new Uri($"ws://127.0.0.1:{((IPEndPoint)server.LocalEndPoint!).Port}/echo");

await using (WebSocketConnection ws = await WebSocketClient.ConnectAsync(url))
{
    await ws.SendTextAsync("hi");
    int received = 0;
    await foreach (WebSocketMessage message in ws.ReadMessagesAsync())
    {
        Console.WriteLine(message.GetText());           // payload is valid until the next message
        if (++received == 2)
        {
            await ws.CloseAsync();                       // 1000; waits for the server's close (bounded)
        }
    }

    Console.WriteLine($"closed: {(int)ws.CloseStatus!.Value.Code}");
}

await server.StopAsync();

internal sealed class EchoHandler(string prefix) : WebSocketHandler
{
    protected override ValueTask OnOpenAsync() => SendTextAsync($"hello {Request!.RemoteEndPoint}");

    protected override ValueTask OnMessageAsync(WebSocketMessage message) => message.IsText
        ? SendTextAsync(prefix + message.GetText())
        : SendBinaryAsync(message.Payload);
}
