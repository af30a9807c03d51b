using System.Net;
using System.Net.Sockets;
using System.Text;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>A peer that stops reading must not hold a writer forever: the send timeout aborts the connection.</summary>
public sealed class SendTimeoutTests
{
    [Fact]
    public async Task A_peer_that_stops_reading_is_aborted_after_the_send_timeout()
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Connection.SendTimeout = TimeSpan.FromMilliseconds(500);
        var opened = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new WebSocketServer(options);
        server.Map("/flood", _ => new FloodHandler(opened));
        await server.StartAsync();

        // A raw client: completes the handshake, then never reads again.
        using var client = new TcpClient();
        client.ReceiveBufferSize = 4096;
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)server.LocalEndPoint!).Port).WithTimeout();
        NetworkStream stream = client.GetStream();
        string key = WebSocketAccept.GenerateKey();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /flood HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")).AsTask().WithTimeout();
        byte[] head = new byte[512];
        int read = await stream.ReadAsync(head).AsTask().WithTimeout();
        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(head, 0, read), StringComparison.Ordinal);

        WebSocketConnection connection = await opened.Task.WithTimeout();
        WebSocketCloseInfo status = await connection.Completion.WithTimeout(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, status.Code);
        Assert.Equal(WebSocketConnectionState.Aborted, connection.State);
    }

    /// <summary>Sends 256 KiB messages until the transport gives up.</summary>
    private sealed class FloodHandler(TaskCompletionSource<WebSocketConnection> opened) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync()
        {
            opened.TrySetResult(Connection);
            _ = FloodAsync();
            return ValueTask.CompletedTask;
        }

        private async Task FloodAsync()
        {
            byte[] chunk = new byte[256 * 1024];
            try
            {
                while (true)
                {
                    await Connection.SendBinaryAsync(chunk);
                }
            }
            catch (WebSocketClosedException)
            {
                // The send timeout aborted the connection: what the test waits for.
            }
        }
    }
}
