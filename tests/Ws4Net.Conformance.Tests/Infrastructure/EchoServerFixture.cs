using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ws4Net.AspNetCore;
using Ws4Net.Cli.Demo;
using Ws4Net.Hosting;
using Ws4Net.Protocol.Compression;
using Ws4Net.Server;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// Our servers for the server-role half of a family: the demo server (<c>ws4net serve</c>, its /echo
/// endpoint) on an ephemeral port, plus, on demand, plain <see cref="WebSocketServer"/>s whose /echo
/// runs <see cref="EchoHandler"/> with <c>MaxSendFrameSize</c> set (auto-fragmentation cases). Each
/// accepted connection is filed under the raw client's port so a case can see how its connection ended.
/// The Kestrel roles run the same cases against ASP.NET Core: one <see cref="WebApplication"/> per frame-size
/// setting, with <c>/echo</c> (permessage-deflate accepted, as the demo server) and <c>/echo-plain</c>
/// (compression disabled), over HTTP/1.1.
/// </summary>
public sealed class EchoServerFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<(int Server, int Client), TaskCompletionSource<WebSocketConnection>> _connections = new();
    private readonly ConcurrentDictionary<int, Lazy<Task<WebSocketServer>>> _fragmenting = new();
    private readonly ConcurrentDictionary<int, Lazy<Task<WebApplication>>> _kestrel = new();
    private WebSocketServer? _demo;

    /// <summary>Gets the demo server's port.</summary>
    public int DemoPort { get; private set; }

    public async Task InitializeAsync()
    {
        _demo = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await StartTrackedAsync(_demo);
        DemoPort = ((IPEndPoint)_demo.LocalEndPoint!).Port;
    }

    /// <summary>The path of the echo endpoint for <paramref name="role"/>.</summary>
    public static string EchoPath(Role role) => role == Role.KestrelNoCompression ? "/echo-plain" : "/echo";

    /// <summary>The port of a server of <paramref name="role"/> configured as <paramref name="settings"/> asks.</summary>
    public async Task<int> PortForAsync(CaseSettings settings, Role role = Role.Server)
    {
        if (role is Role.Kestrel or Role.KestrelNoCompression)
        {
            WebApplication app = await _kestrel.GetOrAdd(
                settings.MaxSendFrameSize,
                size => new Lazy<Task<WebApplication>>(() => StartKestrelAsync(size))).Value.WaitAsync(Timeouts.Frame * 4);
            return new Uri(app.Urls.Single()).Port;
        }

        if (settings.MaxSendFrameSize == 0)
        {
            return DemoPort;
        }

        WebSocketServer server = await _fragmenting.GetOrAdd(
            settings.MaxSendFrameSize,
            size => new Lazy<Task<WebSocketServer>>(() => StartFragmentingAsync(size))).Value.WaitAsync(Timeouts.Frame);
        return ((IPEndPoint)server.LocalEndPoint!).Port;
    }

    private async Task<WebSocketServer> StartFragmentingAsync(int maxSendFrameSize)
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Connection.Protocol.MaxMessageSize = DemoServerOptions.DefaultMaxMessageSize;
        options.Connection.Protocol.MaxSendFrameSize = maxSendFrameSize;
        var server = new WebSocketServer(options);
        server.Map("/echo", _ => new EchoHandler());
        await StartTrackedAsync(server);
        return server;
    }

    private async Task<WebApplication> StartKestrelAsync(int maxSendFrameSize)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
        builder.Services.AddWs4Net(o =>
        {
            o.MaxMessageSize = DemoServerOptions.DefaultMaxMessageSize;
            o.KeepAliveInterval = TimeSpan.Zero;
        });
        builder.Services.AddSingleton(this);
        WebApplication app = builder.Build();
        WebSocketConnectionOptions Connection()
        {
            var options = new WebSocketConnectionOptions { KeepAliveInterval = TimeSpan.Zero };
            options.Protocol.MaxMessageSize = DemoServerOptions.DefaultMaxMessageSize;
            options.Protocol.MaxSendFrameSize = maxSendFrameSize;
            return options;
        }

        app.MapWebSocket<TrackingEchoHandler>("/echo", o =>
        {
            o.Connection = Connection();
            o.PerMessageDeflate = new PerMessageDeflateOptions { ServerNoContextTakeover = true };
        });
        app.MapWebSocket<TrackingEchoHandler>("/echo-plain", o =>
        {
            o.Connection = Connection();
            o.DisableCompression = true;
        });
        await app.StartAsync().WaitAsync(Timeouts.Frame * 4);
        return app;
    }

    /// <summary>Files a Kestrel-accepted connection under its ports (called by <see cref="TrackingEchoHandler"/>).</summary>
    internal void Track(WebSocketConnection connection)
    {
        if (connection.Request?.RemoteEndPoint is IPEndPoint remote && connection.Request.LocalEndPoint is IPEndPoint local)
        {
            Slot(local.Port, remote.Port).TrySetResult(connection);
        }
    }

    private async Task StartTrackedAsync(WebSocketServer server)
    {
        server.ConnectionOpened += connection =>
        {
            if (connection.Request?.RemoteEndPoint is IPEndPoint remote && connection.Request.LocalEndPoint is IPEndPoint local)
            {
                Slot(local.Port, remote.Port).TrySetResult(connection);
            }
        };
        await server.StartAsync().WaitAsync(Timeouts.Frame);
    }

    private TaskCompletionSource<WebSocketConnection> Slot(int serverPort, int clientPort)
        => _connections.GetOrAdd((serverPort, clientPort), _ => new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>The server-side connection of the raw client on <paramref name="clientPort"/>.</summary>
    public Task<WebSocketConnection> ConnectionFor(int serverPort, int clientPort) => Slot(serverPort, clientPort).Task;

    /// <summary>Drops the record of a finished connection (ephemeral ports get reused).</summary>
    public void Forget(int serverPort, int clientPort) => _connections.TryRemove((serverPort, clientPort), out _);

    public async Task DisposeAsync()
    {
        var stops = new List<Task>();
        if (_demo is not null)
        {
            stops.Add(_demo.DisposeAsync().AsTask());
        }

        foreach (Lazy<Task<WebSocketServer>> lazy in _fragmenting.Values)
        {
            if (lazy.IsValueCreated)
            {
                WebSocketServer server = await lazy.Value.WaitAsync(Timeouts.Frame);
                stops.Add(server.DisposeAsync().AsTask());
            }
        }

        foreach (Lazy<Task<WebApplication>> lazy in _kestrel.Values)
        {
            if (lazy.IsValueCreated)
            {
                WebApplication app = await lazy.Value.WaitAsync(Timeouts.Frame);
                stops.Add(app.DisposeAsync().AsTask());
            }
        }

        await Task.WhenAll(stops).WaitAsync(TimeSpan.FromSeconds(15));
    }
}
