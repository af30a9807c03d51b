using Ws4Net;
using Ws4Net.AspNetCore;
using Ws4Net.Management;

namespace AspNetCoreChat;

/// <summary>One chat member: named by the "nick" cookie or the X-User header; its texts go to everyone on /chat.</summary>
internal sealed class ChatHandler(WebSocketConnectionManager manager) : WebSocketHandler
{
    private const string Room = "chat";
    private string _name = "anonymous";

    protected override ValueTask OnOpenAsync()
    {
        WebSocketUpgradeRequest request = Request!;
        _name = request.Cookies.GetValueOrDefault("nick")
            ?? (request.Headers.TryGetValue("X-User", out string? user) ? user : null)
            ?? "anonymous";
        string protocol = request.GetHttpContext()?.Request.Protocol ?? "?";
        manager.Subscribe(Connection, Room);
        manager.Publish(Room, $"* {_name} joined over {protocol}{(Connection.PerMessageDeflate is null ? "" : " with permessage-deflate")}");
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText)
        {
            manager.Publish(Room, $"{_name}: {message.GetText()}");
        }

        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnCloseAsync(WebSocketCloseInfo status)
    {
        manager.Publish(Room, $"* {_name} left");
        return ValueTask.CompletedTask;
    }
}
