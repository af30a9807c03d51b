using Ws4Net.Protocol;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// Fan-out sends that never throw at the publisher and never wait for a slow member: a send that did
/// not finish synchronously is awaited in the background so a failure (a member that left) is observed.
/// </summary>
internal static class Fanout
{
    public static void SendText(WebSocketConnection member, string text)
    {
        try
        {
            Observe(member.SendTextAsync(text));
        }
        catch (WebSocketClosedException)
        {
            // The member is closing; its handler removes it.
        }
    }

    public static void Send(WebSocketConnection member, WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        try
        {
            Observe(member.SendAsync(payload, type, true));
        }
        catch (WebSocketClosedException)
        {
            // The member is closing; its handler removes it.
        }
    }

    private static void Observe(ValueTask send)
    {
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return;
        }

        _ = ObserveAsync(send);
    }

    private static async Task ObserveAsync(ValueTask send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (WebSocketClosedException)
        {
            // The member left; its handler removes it.
        }
    }
}
