using System.Net;
using Ws4Net.Cli.Commands;
using Ws4Net.Cli.Demo;
using Ws4Net.Protocol;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary><c>ws4net serve</c> as a host app: its options, its icon, and its chat room on the manager.</summary>
public sealed class ServeHostTests
{
    [Fact]
    public void Serve_help_lists_the_keepalive_idle_timeout_and_backpressure_options()
    {
        string[] names = ServeCommand.Create().Options.Select(o => o.Name).ToArray();
        Assert.Contains("--keepalive", names);
        Assert.Contains("--keepalive-timeout", names);
        Assert.Contains("--idle-timeout", names);
        Assert.Contains("--backpressure", names);
        Assert.Contains("--shutdown-timeout", names);
    }

    [Fact]
    public async Task The_page_icon_is_served_at_favicon_ico()
    {
        await using WebSocketServer server = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await server.StartAsync().WithTimeout();
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/favicon.ico")).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/x-icon", response.Content.Headers.ContentType?.MediaType);
        byte[] icon = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(DemoServer.Favicon.ToArray(), icon);
        Assert.Equal([0, 0, 1, 0], icon[..4]);   // ICO header: reserved 0, type 1 (icon)
    }

    [Fact]
    public async Task Chat_and_broadcast_members_are_topics_of_the_server_manager_and_leave_it_on_close()
    {
        await using WebSocketServer server = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await server.StartAsync().WithTimeout();
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        WebSocketConnection chat = await Client.WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/chat")).WithTimeout();
        WebSocketConnection hub = await Client.WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/broadcast")).WithTimeout();
        await Management.ManagerRegistryTests.WaitUntilAsync(
            () => server.Manager.GetSubscriberCount(ChatRoom.Topic) == 1 && server.Manager.GetSubscriberCount(BroadcastHandler.Topic) == 1, TimeSpan.FromSeconds(10));
        await chat.DisposeAsync();
        await hub.DisposeAsync();
        await Management.ManagerRegistryTests.WaitUntilAsync(() => server.Manager.Count == 0 && server.Manager.TopicCount == 0, TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(WebSocketBackpressurePolicy.ClosePolicyViolation, 1008)]
    [InlineData(WebSocketBackpressurePolicy.CloseTryAgainLater, 1013)]
    public async Task A_broadcast_member_that_stops_reading_is_closed_by_the_chosen_policy_while_the_others_keep_receiving(WebSocketBackpressurePolicy policy, int expectedCode)
    {
        await using WebSocketServer server = DemoServer.Create(new DemoServerOptions { Port = 0, BackpressurePolicy = policy, PerMessageDeflate = null });
        await server.StartAsync().WithTimeout();
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var firstOpened = new TaskCompletionSource<WebSocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.ConnectionOpened += c => firstOpened.TrySetResult(c);
        await using RawClient stalled = await RawClient.HandshakeAsync(port, "/broadcast");
        WebSocketConnection stalledSide = await firstOpened.Task.WithTimeout();
        WebSocketConnection sender = await Client.WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/broadcast")).WithTimeout();
        var inbox = new MessageCollector(sender);
        await Management.ManagerRegistryTests.WaitUntilAsync(() => server.Manager.GetSubscriberCount(BroadcastHandler.Topic) == 2, TimeSpan.FromSeconds(10));

        // 32 MiB through /broadcast: far beyond the stalled member's socket buffers and its 1 MiB queue cap.
        byte[] block = new byte[64 * 1024];
        for (int i = 0; i < 512; i++)
        {
            block[0] = (byte)i;
            await sender.SendBinaryAsync(block).WithTimeout();
            Assert.Equal((byte)i, (await inbox.NextAsync()).Payload[0]);   // the sender, a member too, is not held back
        }

        Assert.NotEqual(WebSocketConnectionState.Open, stalledSide.State);
        Assert.InRange(stalledSide.BufferedAmount, 0, new WebSocketConnectionOptions().MaxBufferedAmount + 1024);

        // The stalled member, reading at last (within the close timeout), finds what it had been sent, then our close with the policy's code.
        RawFrame frame;
        do
        {
            frame = await stalled.ReadFrameAsync();
        }
        while (frame.Opcode != 8);
        Assert.Equal(expectedCode, frame.CloseCode);
        await Management.ManagerRegistryTests.WaitUntilAsync(() => server.Manager.GetSubscriberCount(BroadcastHandler.Topic) == 1, TimeSpan.FromSeconds(20));
        await sender.DisposeAsync();
    }
}
