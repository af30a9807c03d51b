using System.Net;
using Ws4Net.Cli.Demo;
using Ws4Net.Client;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>The <c>ws4net serve</c> server in-process: /chat (relay and history), /broadcast and /echo.</summary>
public sealed class DemoServerTests : IAsyncLifetime
{
    private WebSocketServer _server = null!;
    private readonly List<WebSocketConnection> _clients = [];

    private int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

    public async Task InitializeAsync()
    {
        _server = DemoServer.Create(new DemoServerOptions { Port = 0 });
        await _server.StartAsync().WithTimeout();
    }

    public async Task DisposeAsync()
    {
        foreach (WebSocketConnection client in _clients)
        {
            await client.DisposeAsync().AsTask().WithTimeout();
        }

        await _server.DisposeAsync().AsTask().WithTimeout();
    }

    private async Task<MessageCollector> ConnectAsync(string path)
    {
        WebSocketConnection client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}{path}")).WithTimeout();
        _clients.Add(client);
        return new MessageCollector(client);
    }

    /// <summary>Joins /chat and returns once the room relays to us (our own probe came back).</summary>
    private async Task<MessageCollector> JoinChatAsync(string name)
    {
        MessageCollector member = await ConnectAsync("/chat");
        await member.Connection.SendTextAsync($"{name} joined").WithTimeout();
        ReceivedMessage first;
        do
        {
            first = await member.NextAsync();
        }
        while (first.Text != $"{name} joined"); // skip the history
        return member;
    }

    [Fact]
    public async Task Chat_AMessageFromOneMemberReachesEveryMemberVerbatim()
    {
        MessageCollector alice = await JoinChatAsync("alice");
        MessageCollector bob = await JoinChatAsync("bob");
        Assert.Equal("bob joined", (await alice.NextAsync()).Text);

        string[] lines = ["hello bob 👋", "  spaces, <b>markup</b> & \"quotes\"  ", "multi\nline\r\ntext", "{\"json\":true}"];
        foreach (string line in lines)
        {
            await alice.Connection.SendTextAsync(line).WithTimeout();
        }

        // Two senders on two connections have no order between them: bob answers once alice's lines are back.
        foreach (MessageCollector member in new[] { alice, bob })
        {
            List<ReceivedMessage> got = await member.NextAsync(lines.Length);
            Assert.All(got, m => Assert.Equal(WebSocketMessageKind.Text, m.Type));
            Assert.Equal(lines, got.Select(m => m.Text));
        }

        await bob.Connection.SendTextAsync("hi alice").WithTimeout();
        Assert.Equal("hi alice", (await alice.NextAsync()).Text);
        Assert.Equal("hi alice", (await bob.NextAsync()).Text);
    }

    [Fact]
    public async Task Chat_ALateJoinerReceivesTheLast50MessagesOldestFirst_ThenLiveMessages()
    {
        MessageCollector alice = await JoinChatAsync("alice");
        MessageCollector bob = await JoinChatAsync("bob");
        Assert.Equal("bob joined", (await alice.NextAsync()).Text);

        string[] published = Enumerable.Range(1, 60).Select(i => $"message {i:D2} ✓").ToArray();
        foreach (string text in published)
        {
            await alice.Connection.SendTextAsync(text).WithTimeout();
        }

        // Both members got all 60, so all are in the room's history.
        Assert.Equal(published, (await alice.NextAsync(60)).Select(m => m.Text));
        Assert.Equal(published, (await bob.NextAsync(60)).Select(m => m.Text));

        MessageCollector carol = await ConnectAsync("/chat");
        List<ReceivedMessage> history = await carol.NextAsync(ChatRoom.HistorySize);
        Assert.Equal(published[^ChatRoom.HistorySize..], history.Select(m => m.Text));

        await bob.Connection.SendTextAsync("live after carol joined").WithTimeout();
        Assert.Equal("live after carol joined", (await carol.NextAsync()).Text);
        Assert.Equal("live after carol joined", (await alice.NextAsync()).Text);
        Assert.Equal("live after carol joined", (await bob.NextAsync()).Text);
    }

    [Fact]
    public async Task Chat_BinaryIsRefusedWith1003()
    {
        MessageCollector member = await JoinChatAsync("dave");
        await member.Connection.SendBinaryAsync(new byte[] { 1, 2, 3 }).WithTimeout();
        await member.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.UnsupportedData, member.Connection.CloseStatus!.Value.Code);
    }

    [Fact]
    public async Task Chat_TextOverTheChatLimitIsRefusedWith1009()
    {
        MessageCollector member = await JoinChatAsync("erin");
        await member.Connection.SendTextAsync(new string('x', ChatHandler.MaxChatMessageBytes + 1)).WithTimeout();
        await member.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.MessageTooBig, member.Connection.CloseStatus!.Value.Code);
    }

    [Fact]
    public async Task Broadcast_RelaysBinaryAndTextToEveryMemberIncludingTheSender()
    {
        var members = new List<MessageCollector>();
        for (int i = 0; i < 3; i++)
        {
            MessageCollector member = await ConnectAsync("/broadcast");
            await member.Connection.SendTextAsync($"probe {i}").WithTimeout();
            Assert.Equal($"probe {i}", (await member.NextAsync()).Text); // joined: the hub relays to it
            members.Add(member);
        }

        // Earlier members also got the later probes.
        Assert.Equal(["probe 1", "probe 2"], (await members[0].NextAsync(2)).Select(m => m.Text));
        Assert.Equal(["probe 2"], (await members[1].NextAsync(1)).Select(m => m.Text));

        byte[] blob = Payloads.Binary(70_000, seed: 42);
        await members[1].Connection.SendBinaryAsync(blob).WithTimeout();
        foreach (MessageCollector member in members)
        {
            ReceivedMessage got = await member.NextAsync();
            Assert.Equal(WebSocketMessageKind.Binary, got.Type);
            Assert.Equal(blob, got.Payload);
        }

        await members[2].Connection.SendTextAsync("text too ✓").WithTimeout();
        foreach (MessageCollector member in members)
        {
            ReceivedMessage got = await member.NextAsync();
            Assert.Equal(WebSocketMessageKind.Text, got.Type);
            Assert.Equal("text too ✓", got.Text);
        }

        // A member leaves; the others keep receiving.
        await members[0].Connection.CloseAsync().WithTimeout();
        await members[0].Loop.WithTimeout();
        await members[1].Connection.SendBinaryAsync(new byte[] { 0xFF }).WithTimeout();
        Assert.Equal(new byte[] { 0xFF }, (await members[1].NextAsync()).Payload);
        Assert.Equal(new byte[] { 0xFF }, (await members[2].NextAsync()).Payload);
    }

    [Fact]
    public async Task Echo_ReturnsTextAndBinaryUnchanged()
    {
        MessageCollector client = await ConnectAsync("/echo");
        await client.Connection.SendTextAsync("démo ✓").WithTimeout();
        await client.Connection.SendBinaryAsync(Payloads.Binary(1000)).WithTimeout();
        ReceivedMessage text = await client.NextAsync();
        Assert.Equal(WebSocketMessageKind.Text, text.Type);
        Assert.Equal("démo ✓", text.Text);
        ReceivedMessage binary = await client.NextAsync();
        Assert.Equal(WebSocketMessageKind.Binary, binary.Type);
        Assert.Equal(Payloads.Binary(1000), binary.Payload);
    }
}
