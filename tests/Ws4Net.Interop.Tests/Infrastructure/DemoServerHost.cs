using System.Net;
using Ws4Net.Cli.Demo;
using Ws4Net.Server;

namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>The <c>ws4net serve</c> demo server, in-process on an ephemeral loopback port.</summary>
internal sealed class DemoServerHost : IAsyncDisposable
{
    private DemoServerHost(WebSocketServer server, int port)
    {
        Server = server;
        Port = port;
    }

    public WebSocketServer Server { get; }

    public int Port { get; }

    public static async Task<DemoServerHost> StartAsync()
    {
        WebSocketServer server = DemoServer.Create(new DemoServerOptions { Host = IPAddress.Loopback, Port = 0 });
        try
        {
            await server.StartAsync().WaitAsync(Timeouts.Step).ConfigureAwait(false);
            var endPoint = (IPEndPoint)(server.LocalEndPoint ?? throw new InvalidOperationException("The server did not report its bound endpoint."));
            Assert.NotEqual(0, endPoint.Port);
            return new DemoServerHost(server, endPoint.Port);
        }
        catch
        {
            await server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown).ConfigureAwait(false);
            throw;
        }
    }

    public Uri WebSocketUri(string path) => new($"ws://127.0.0.1:{Port}{path}");

    public async ValueTask DisposeAsync()
        => await Server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown).ConfigureAwait(false);
}
