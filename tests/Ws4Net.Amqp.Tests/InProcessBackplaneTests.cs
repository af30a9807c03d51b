using Ws4Net.Backplane;
using Ws4Net.Management;
using Ws4Net.Protocol;

namespace Ws4Net.Amqp.Tests;

/// <summary>
/// The backplane abstraction without a broker: managers joined by <see cref="InProcessWebSocketBackplane"/> groups,
/// with in-memory connections. Broadcasts, publishes and direct sends reach the other nodes; topics reach only nodes
/// with subscribers; a node never delivers its own publish twice; a standalone manager forwards nothing.
/// </summary>
public sealed class InProcessBackplaneTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void AStandaloneManagerHasABackplaneThatForwardsNothing()
    {
        var manager = new WebSocketConnectionManager();
        Assert.IsType<InProcessWebSocketBackplane>(manager.Backplane);
        Assert.False(manager.Backplane.IsForwarding);
        Assert.Equal(WebSocketConnection.NodeId, manager.Backplane.NodeId);
    }

    [Fact]
    public async Task BroadcastAndPublishReachTheOtherNodeOnceAndInOrder()
    {
        var planeA = new InProcessWebSocketBackplane("ipa", null);
        var planeB = new InProcessWebSocketBackplane("ipb", planeA);
        var managerA = new WebSocketConnectionManager(backplane: planeA);
        var managerB = new WebSocketConnectionManager(backplane: planeB);
        (WebSocketConnection clientA, WebSocketConnection serverA) = InMemoryWebSocket.CreatePair();
        (WebSocketConnection clientB, WebSocketConnection serverB) = InMemoryWebSocket.CreatePair();
        Assert.True(managerA.Add(serverA));
        Assert.True(managerB.Add(serverB));
        Assert.Equal(WebSocketSubscribeResult.Subscribed, managerA.Subscribe(serverA, "room"));
        Assert.Equal(WebSocketSubscribeResult.Subscribed, managerB.Subscribe(serverB, "room"));

        for (int i = 0; i < 5; i++)
        {
            managerA.Publish("room", $"p{i}");
        }

        managerB.Broadcast("all");
        string[] expected = ["p0", "p1", "p2", "p3", "p4", "all"];
        Assert.Equal(expected, await ReceiveTextsAsync(clientA, expected.Length));
        Assert.Equal(expected, await ReceiveTextsAsync(clientB, expected.Length));

        // Nothing more: A's own publishes were not delivered to it a second time.
        managerA.Broadcast("end");
        Assert.Equal(["end"], await ReceiveTextsAsync(clientA, 1));
        Assert.Equal(["end"], await ReceiveTextsAsync(clientB, 1));
    }

    [Fact]
    public async Task ATopicReachesOnlyNodesWithSubscribersAndBindingsFollowTheFirstAndLastSubscriber()
    {
        var planeA = new InProcessWebSocketBackplane("tpa", null);
        var planeB = new InProcessWebSocketBackplane("tpb", planeA);
        var managerA = new WebSocketConnectionManager(backplane: planeA);
        var managerB = new WebSocketConnectionManager(backplane: planeB);
        (WebSocketConnection clientB, WebSocketConnection serverB) = InMemoryWebSocket.CreatePair();
        (WebSocketConnection clientB2, WebSocketConnection serverB2) = InMemoryWebSocket.CreatePair();
        managerB.Add(serverB);
        managerB.Add(serverB2);

        Assert.Empty(planeB.Topics);
        managerB.Subscribe(serverB, "red");
        managerB.Subscribe(serverB2, "red");
        Assert.Equal(["red"], planeB.Topics);

        managerA.Publish("blue", "b0");   // B has no blue subscriber: not delivered there
        Assert.Equal(default, managerA.Publish(string.Empty, "nobody can subscribe to an empty topic"));
        managerA.Publish("red", "r0");
        Assert.Equal(["r0"], await ReceiveTextsAsync(clientB, 1));
        Assert.Equal(["r0"], await ReceiveTextsAsync(clientB2, 1));

        managerB.Unsubscribe(serverB, "red");
        Assert.Equal(["red"], planeB.Topics);   // one subscriber left
        managerB.Unsubscribe(serverB2, "red");
        Assert.Empty(planeB.Topics);            // unbound after the last
        managerA.Publish("red", "r1");
        managerA.Broadcast("end");
        Assert.Equal(["end"], await ReceiveTextsAsync(clientB, 1));
        Assert.Equal(["end"], await ReceiveTextsAsync(clientB2, 1));
    }

    [Fact]
    public async Task SendToFindsTheNodeByTheConnectionIdPrefix()
    {
        // Connections made in this process carry WebSocketConnection.NodeId: node A uses it, node B another id.
        var planeA = new InProcessWebSocketBackplane(WebSocketConnection.NodeId, null);
        var planeB = new InProcessWebSocketBackplane("sendtob", planeA);
        var managerA = new WebSocketConnectionManager(backplane: planeA);
        var managerB = new WebSocketConnectionManager(backplane: planeB);
        (WebSocketConnection clientA, WebSocketConnection serverA) = InMemoryWebSocket.CreatePair();
        managerA.Add(serverA);

        Assert.Equal(WebSocketSendToResult.Forwarded, await managerB.SendToAsync(serverA.Id, "via B"));
        Assert.Equal(WebSocketSendToResult.Sent, await managerA.SendToAsync(serverA.Id, "via A"));
        Assert.Equal(["via B", "via A"], await ReceiveTextsAsync(clientA, 2));
        Assert.Equal(WebSocketSendToResult.NotFound, await managerA.SendToAsync(WebSocketConnection.NodeId + "-ffffff", "nobody"));
        Assert.Equal(WebSocketSendToResult.NotFound, await managerA.SendToAsync("garbage", "x"));

        var standalone = new WebSocketConnectionManager();
        Assert.Equal(WebSocketSendToResult.NotFound, await standalone.SendToAsync("othernode-1", "x"));
    }

    [Fact]
    public async Task OwnMessagesAreIgnoredByTheReceiver()
    {
        var plane = new InProcessWebSocketBackplane("ownnode", null);
        var manager = new WebSocketConnectionManager(backplane: plane);
        (WebSocketConnection client, WebSocketConnection server) = InMemoryWebSocket.CreatePair();
        manager.Add(server);
        byte[] payload = "own"u8.ToArray();
        ((IWebSocketBackplaneReceiver)manager).Deliver(new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageKind.Text, payload, "ownnode", null));
        ((IWebSocketBackplaneReceiver)manager).Deliver(new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, null, WebSocketMessageKind.Text, "other"u8.ToArray(), "othernode", null));
        Assert.Equal(["other"], await ReceiveTextsAsync(client, 1));
    }

    [Fact]
    public async Task ARemoteMessageHandlerCanDeliverItself()
    {
        var planeA = new InProcessWebSocketBackplane("hda", null);
        var planeB = new InProcessWebSocketBackplane("hdb", planeA);
        var managerA = new WebSocketConnectionManager(backplane: planeA);
        var managerB = new WebSocketConnectionManager(backplane: planeB);
        (WebSocketConnection clientB, WebSocketConnection serverB) = InMemoryWebSocket.CreatePair();
        managerB.Add(serverB);
        managerB.Subscribe(serverB, "room");
        var seen = new List<string>();
        managerB.RemoteMessageHandler = (in WebSocketBackplaneMessage m) =>
        {
            seen.Add(System.Text.Encoding.UTF8.GetString(m.Payload.Span));
            using WebSocketPreparedMessage prepared = WebSocketPreparedMessage.CreateText("handled " + seen[^1]);
            managerB.PublishLocal(m.Topic!, prepared);
            return true;
        };
        managerA.Publish("room", "hello");
        Assert.Equal(["hello"], seen);
        Assert.Equal(["handled hello"], await ReceiveTextsAsync(clientB, 1));
    }

    [Fact]
    public void BackplaneMessagesAndGroupsRejectBadInput()
    {
        byte[] payload = [1];
        Assert.Throws<ArgumentException>(() => new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Topic, null, WebSocketMessageKind.Text, payload, "n", null));
        Assert.Throws<ArgumentException>(() => new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Direct, null, WebSocketMessageKind.Text, payload, "n", null));
        Assert.Throws<ArgumentException>(() => new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, "t", WebSocketMessageKind.Text, payload, "n", null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, null, (WebSocketMessageKind)8, payload, "n", null));
        var first = new InProcessWebSocketBackplane("dup", null);
        Assert.Throws<ArgumentException>(() => new InProcessWebSocketBackplane("dup", first));
        Assert.Throws<ArgumentException>(() => new InProcessWebSocketBackplane("a-b", null));
        _ = new WebSocketConnectionManager(backplane: first);
        Assert.Throws<InvalidOperationException>(() => new WebSocketConnectionManager(backplane: first));
    }

    private static async Task<string[]> ReceiveTextsAsync(WebSocketConnection client, int count)
    {
        var texts = new string[count];
        for (int i = 0; i < count; i++)
        {
            WebSocketMessage? message = await client.ReceiveAsync().AsTask().WaitAsync(Wait);
            Assert.NotNull(message);
            texts[i] = message.Value.GetText();
        }

        return texts;
    }
}
