using System.Net;
using Ws4Net.Cli.Demo;
using Ws4Net.Server;

namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>The <c>ws4net serve</c> demo server, in-process on a loopback port (ephemeral unless one is given).</summary>
internal sealed class DemoServerHost : IAsyncDisposable
{
    private bool _stopped;

    private DemoServerHost(WebSocketServer server, int port)
    {
        Server = server;
        Port = port;
    }

    public WebSocketServer Server { get; }

    public int Port { get; }

    /// <summary>The chat page's address.</summary>
    public string PageUrl => $"http://127.0.0.1:{Port}/";

    public static async Task<DemoServerHost> StartAsync(int port = 0)
    {
        WebSocketServer server = DemoServer.Create(new DemoServerOptions { Host = IPAddress.Loopback, Port = port });
        try
        {
            await server.StartAsync().WaitAsync(Timeouts.Step).ConfigureAwait(false);
            var endPoint = (IPEndPoint)(server.LocalEndPoint ?? throw new InvalidOperationException("The server did not report its bound endpoint."));
            return new DemoServerHost(server, endPoint.Port);
        }
        catch
        {
            await server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown).ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await Server.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().WaitAsync(Timeouts.Shutdown * 2).ConfigureAwait(false);
}
