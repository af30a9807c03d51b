// A chat server in the Generic Host: rooms are manager topics, handlers come from DI.
//   dotnet run --project samples/HostedChat            (settings: appsettings.json, Ws4Net__Port=..., --Ws4Net:Port=...)
//   then: ws4net connect ws://127.0.0.1:9001/chat?room=lobby&name=ann
// Ctrl-C or SIGTERM: every client gets 1001 "going away" after what was queued for it.
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net;
using Ws4Net.Hosting;
using Ws4Net.Management;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWs4Net(builder.Configuration.GetSection(Ws4NetOptions.SectionName));
builder.Services.AddWs4NetServer(server => server.Map<ChatHandler>("/chat"));

using IHost host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
{
    var bound = (IPEndPoint)host.Services.GetRequiredService<Ws4NetHostedServer>().Server.LocalEndPoint!;
    Console.WriteLine($"Chat on ws://{bound}/chat?room=lobby&name=you");
});
await host.RunAsync();

/// <summary>One chat member: joins the room of its query string, relays its texts to the room.</summary>
internal sealed partial class ChatHandler(WebSocketConnectionManager manager, ILogger<ChatHandler> logger) : WebSocketHandler
{
    private string _room = "lobby";
    private string _name = "anonymous";

    protected override ValueTask OnOpenAsync()
    {
        _room = Request!.Query.GetValueOrDefault("room") ?? "lobby";
        _name = Request.Query.GetValueOrDefault("name") ?? Connection.Id;
        WebSocketSubscribeResult joined = manager.Subscribe(Connection, _room);
        if (joined != WebSocketSubscribeResult.Subscribed)
        {
            return CloseAsync(Ws4Net.Protocol.WebSocketCloseCode.PolicyViolation, $"cannot join: {joined}");
        }

        LogJoined(logger, _name, _room, manager.GetSubscriberCount(_room));
        manager.Publish(_room, $"* {_name} joined ({manager.GetSubscriberCount(_room)} here)");
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText)
        {
            // Encoded once for the whole room; a member that stopped reading misses messages instead of growing memory.
            manager.Publish(_room, $"{_name}: {message.GetText()}");
        }

        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnCloseAsync(WebSocketCloseInfo status)
    {
        // The manager has already dropped the subscription.
        manager.Publish(_room, $"* {_name} left");
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Name} joined {Room} ({Count} members)")]
    private static partial void LogJoined(ILogger logger, string name, string room, int count);
}
