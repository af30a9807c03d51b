// One chat across several processes: every node publishes to the "chat" topic of its manager, and the
// RabbitMQ backplane carries each message to the other nodes (see README.md for the three commands).
//   dotnet run --project samples/MultiNodeChat -- --Ws4Net:Port=9101
//   dotnet run --project samples/MultiNodeChat -- --Ws4Net:Port=9102
// then open http://127.0.0.1:9101/ and http://127.0.0.1:9102/ in a browser.
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ws4Net;
using Ws4Net.Amqp;
using Ws4Net.Hosting;
using Ws4Net.Management;
using Ws4Net.Server;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWs4Net(builder.Configuration.GetSection(Ws4NetOptions.SectionName))
    .AddRabbitMqBackplane(builder.Configuration.GetSection(RabbitMqBackplaneOptions.SectionName));
builder.Services.AddWs4NetServer(server => server
    .Map<ChatHandler>("/chat")
    .ConfigureServer((options, _) => options.HttpFallback = request => request.Path == "/"
        ? new HttpFallbackResponse(200, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(Page.Html))
        : null));

using IHost host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
{
    var bound = (IPEndPoint)host.Services.GetRequiredService<Ws4NetHostedServer>().Server.LocalEndPoint!;
    Console.WriteLine($"Node {WebSocketConnection.NodeId}: open http://{bound}/ (chat on ws://{bound}/chat)");
});
await host.RunAsync();

/// <summary>One chat member: every text it sends goes to every member of every node.</summary>
internal sealed class ChatHandler(WebSocketConnectionManager manager) : WebSocketHandler
{
    protected override ValueTask OnOpenAsync()
    {
        manager.Subscribe(Connection, "chat");
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText && message.Payload.Length <= 4096)
        {
            // Local members get it at once (encoded once); the backplane forwards it to the other nodes.
            manager.Publish("chat", $"[{WebSocketConnection.NodeId}] {message.GetText()}");
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The page: a list of messages and an input box.</summary>
internal static class Page
{
    public const string Html = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>MultiNodeChat</title>
        <style>body{font:15px system-ui;margin:2em}#log{list-style:none;padding:0}#log li{padding:2px 0}</style></head>
        <body><h1>MultiNodeChat</h1><p id="state">connecting...</p>
        <form id="f"><input id="m" autocomplete="off" size="50" placeholder="say something"><button>Send</button></form>
        <ul id="log"></ul>
        <script>
        const ws = new WebSocket(`ws://${location.host}/chat`);
        const log = document.getElementById('log');
        ws.onopen = () => document.getElementById('state').textContent = 'connected to ' + location.host;
        ws.onclose = e => document.getElementById('state').textContent = 'closed (' + e.code + ')';
        ws.onmessage = e => { const li = document.createElement('li'); li.textContent = e.data; log.appendChild(li); };
        document.getElementById('f').onsubmit = e => { e.preventDefault(); const m = document.getElementById('m'); if (m.value) ws.send(m.value); m.value = ''; };
        </script></body></html>
        """;
}
