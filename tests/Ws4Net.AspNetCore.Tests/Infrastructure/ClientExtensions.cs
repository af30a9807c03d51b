using System.Net.WebSockets;
using BclCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;
using System.Text;

namespace Ws4Net.AspNetCore.Tests.Infrastructure;

public static class ClientExtensions
{
    public static async Task<string> ReceiveTextAsync(this ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        int length = 0;
        while (true)
        {
            ValueWebSocketReceiveResult result = await client.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"Closed: {client.CloseStatus} {client.CloseStatusDescription}");
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
    }

    public static Task SendTextAsync(this ClientWebSocket client, string text) =>
        client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Reads until the close frame and returns its status.</summary>
    public static async Task<BclCloseStatus?> ReceiveCloseAsync(this ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        while (true)
        {
            ValueWebSocketReceiveResult result = await client.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return client.CloseStatus;
            }
        }
    }

    /// <summary>Parses the handler's "k=v;k=v" info line.</summary>
    public static Dictionary<string, string> ParseInfo(string line) =>
        line.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
