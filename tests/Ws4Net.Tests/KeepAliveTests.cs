using System.Net;
using System.Net.Sockets;
using Ws4Net.Client;
using Ws4Net.Protocol;

namespace Ws4Net.Tests;

/// <summary>
/// Heartbeats on the shared timer: a quiet connection is pinged, a peer that never answers is closed
/// with 1011 "keepalive ping timeout", a live peer stays open and its round-trip time is measured, and
/// an idle timeout closes a connection without traffic with 1001.
/// </summary>
public sealed class KeepAliveTests
{
    [Fact]
    public async Task A_silent_peer_that_never_answers_pings_is_closed_with_1011()
    {
        await using var sink = await BackpressureTests.SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage, o =>
        {
            o.Connection.KeepAliveInterval = TimeSpan.FromMilliseconds(300);
            o.Connection.KeepAliveTimeout = TimeSpan.FromMilliseconds(300);
            o.Connection.CloseTimeout = TimeSpan.FromMilliseconds(500);
        });

        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, sink.Port).WithTimeout();
        await BackpressureTests.RawHandshakeAsync(silent, sink.Port);
        WebSocketConnection server = await sink.NextConnectionAsync();

        // Read what the server sends as it comes (the final abort resets the connection).
        byte[] seen = new byte[256];
        int length = 0;
        Task reading = Task.Run(async () =>
        {
            try
            {
                while (length < seen.Length)
                {
                    int read = await silent.ReceiveAsync(seen.AsMemory(length));
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }
            catch (SocketException)
            {
                // The abort after the close timeout.
            }
        });

        WebSocketCloseInfo status = await server.Completion.WithTimeout(TimeSpan.FromSeconds(10));
        // The server sent its close (1011) and, the peer not answering, aborted after the close timeout.
        Assert.Equal(WebSocketCloseCode.AbnormalClosure, status.Code);
        await reading.WithTimeout();

        // On the wire: a ping (0x89) with an 8-byte payload, then a close (0x88) with 1011 and the reason.
        Assert.Equal(0x89, seen[0]);
        Assert.Equal(8, seen[1]);
        int close = Array.IndexOf(seen, (byte)0x88, 10);
        Assert.True(close > 0, "a close frame follows the ping");
        Assert.Equal(1011, (seen[close + 2] << 8) | seen[close + 3]);
        Assert.Equal("keepalive ping timeout", System.Text.Encoding.UTF8.GetString(seen, close + 4, seen[close + 1] - 2));
    }

    [Fact]
    public async Task A_live_peer_stays_open_across_many_intervals_and_its_latency_is_measured()
    {
        await using var sink = await BackpressureTests.SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage, o =>
        {
            o.Connection.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            o.Connection.KeepAliveTimeout = TimeSpan.FromMilliseconds(500);
        });
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Connection.KeepAliveInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(sink.Uri, clientOptions).WithTimeout();
        WebSocketConnection server = await sink.NextConnectionAsync();
        Task<WebSocketMessage?> reading = client.ReceiveAsync().AsTask();   // answers the pings

        await Task.Delay(2000);
        Assert.Equal(WebSocketConnectionState.Open, server.State);
        Assert.NotNull(server.Latency);
        Assert.InRange(server.Latency!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.False(reading.IsCompleted);
    }

    [Fact]
    public async Task PingAsync_returns_the_round_trip_time_of_its_own_pong()
    {
        await using var sink = await BackpressureTests.SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage);
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(sink.Uri).WithTimeout();
        WebSocketConnection server = await sink.NextConnectionAsync();
        Task<WebSocketMessage?> reading = client.ReceiveAsync().AsTask();

        // The server's handler loop sees the pong; the client answers the ping from its receive.
        TimeSpan rtt = await server.PingAsync().WithTimeout();
        Assert.InRange(rtt, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(rtt, server.Latency);
        Assert.False(reading.IsCompleted);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_with_1001_after_the_idle_timeout()
    {
        await using var sink = await BackpressureTests.SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage, o =>
        {
            o.Connection.KeepAliveInterval = TimeSpan.Zero;
            o.Connection.IdleTimeout = TimeSpan.FromMilliseconds(400);
        });
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Connection.KeepAliveInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(sink.Uri, clientOptions).WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseCode.GoingAway, client.CloseStatus!.Value.Code);
        Assert.Equal("idle timeout", client.CloseStatus!.Value.Reason);
    }

    [Fact]
    public async Task Keepalive_pings_count_as_traffic_so_a_pinged_connection_is_not_idle()
    {
        await using var sink = await BackpressureTests.SinkServer.StartAsync(WebSocketBackpressurePolicy.DropMessage, o =>
        {
            o.Connection.KeepAliveInterval = TimeSpan.FromMilliseconds(150);
            o.Connection.IdleTimeout = TimeSpan.FromMilliseconds(600);
        });
        var clientOptions = new WebSocketClientOptions();
        clientOptions.Connection.KeepAliveInterval = TimeSpan.Zero;
        await using WebSocketConnection client = await WebSocketClient.ConnectAsync(sink.Uri, clientOptions).WithTimeout();
        WebSocketConnection server = await sink.NextConnectionAsync();
        Task<WebSocketMessage?> reading = client.ReceiveAsync().AsTask();
        await Task.Delay(1500);
        Assert.Equal(WebSocketConnectionState.Open, server.State);
        Assert.False(reading.IsCompleted);
    }
}
