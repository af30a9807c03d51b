using System.Collections.Concurrent;
using System.Net;
using Ws4Net.Client;
using Ws4Net.Management;
using Ws4Net.Server;

namespace Ws4Net.Tests.Management;

/// <summary>
/// A loopback server whose <c>/m</c> route subscribes each connection to the topics named in its
/// <c>topics</c> query parameter (comma-separated) and lets a test find the server side of its own
/// connection through the <c>id</c> query parameter.
/// </summary>
internal sealed class ManagedServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<WebSocketConnection>> _serverSides = new(StringComparer.Ordinal);

    private ManagedServer(WebSocketServer server) => Server = server;

    public WebSocketServer Server { get; }

    public WebSocketConnectionManager Manager => Server.Manager;

    public int Port { get; private set; }

    public static async Task<ManagedServer> StartAsync(WebSocketConnectionManager? manager = null, Action<WebSocketServerOptions>? configure = null)
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Manager = manager, MaxConcurrentHandshakes = 1024 };
        configure?.Invoke(options);
        var test = new ManagedServer(new WebSocketServer(options));
        test.Server.Map("/m", request => new TopicHandler(test, request.Query.TryGetValue("topics", out string? t) ? t : null, request.Query.TryGetValue("id", out string? id) ? id : null));
        await test.Server.StartAsync().WithTimeout();
        test.Port = ((IPEndPoint)test.Server.LocalEndPoint!).Port;
        return test;
    }

    public Uri Uri(string? topics = null, string? id = null)
        => new($"ws://127.0.0.1:{Port}/m?topics={topics ?? string.Empty}&id={id ?? string.Empty}");

    /// <summary>Connects our client and returns it with a collector draining it and the server side of the connection.</summary>
    public async Task<(WebSocketConnection Client, MessageCollector Messages, WebSocketConnection ServerSide)> ConnectAsync(string? topics = null)
    {
        string id = Guid.NewGuid().ToString("N");
        WebSocketConnection client = await WebSocketClient.ConnectAsync(Uri(topics, id), new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(30) }).WithTimeout();
        WebSocketConnection serverSide = await ServerSideAsync(id);
        return (client, new MessageCollector(client), serverSide);
    }

    public Task<WebSocketConnection> ServerSideAsync(string id) => Slot(id).Task.WithTimeout();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(30));

    private TaskCompletionSource<WebSocketConnection> Slot(string id)
        => _serverSides.GetOrAdd(id, static _ => new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously));

    private sealed class TopicHandler(ManagedServer owner, string? topics, string? id) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync()
        {
            foreach (string topic in (topics ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.Equal(WebSocketSubscribeResult.Subscribed, owner.Manager.Subscribe(Connection, topic));
            }

            if (!string.IsNullOrEmpty(id))
            {
                owner.Slot(id).TrySetResult(Connection);
            }

            return ValueTask.CompletedTask;
        }
    }
}
