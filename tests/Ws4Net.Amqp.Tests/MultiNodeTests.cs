using System.Text.RegularExpressions;
using Ws4Net.Amqp.Tests.Infrastructure;
using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Amqp.Tests;

/// <summary>
/// Two and three <c>ws4net serve --amqp</c> processes on one private RabbitMQ node, with clients on each node: our
/// client, Python <c>websockets</c> and a Chromium tab. Every test uses its own exchange, so the nodes of one test never
/// see another's traffic. Bindings are made when a node gets its first local subscriber (asynchronously), so each test
/// first sends probes until every node has been reached, then checks the real traffic.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed partial class MultiNodeTests(RabbitMqBroker broker, BrowserFixture browser)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ChatSpansTwoNodesInPublisherOrderAndEachNodeKeepsItsHistory()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "chatA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "chatB");
        await using OurClient ourA = await OurClient.ConnectAsync("our client on A", a.WebSocketUri("/chat"));
        await using PythonClient pyA = await PythonClient.ConnectAsync("python on A", a.WebSocketUri("/chat"));
        await using OurClient ourB = await OurClient.ConnectAsync("our client on B", b.WebSocketUri("/chat"));
        await using PythonClient pyB = await PythonClient.ConnectAsync("python on B", b.WebSocketUri("/chat"));
        ITestClient[] everyone = [ourA, pyA, ourB, pyB];

        await ProbeAsync(ourA, [ourB, pyB], n => Chat("probe", $"probe-a-{n}"));
        await ProbeAsync(pyB, [ourA, pyA], n => Chat("probe", $"probe-b-{n}"));

        const int count = 30;
        Task fromA = SendSeriesAsync(ourA, count, i => Chat("ourA", $"a-{i}"));
        Task fromB = SendSeriesAsync(pyB, count, i => Chat("pyB", $"b-{i}"));
        await Task.WhenAll(fromA, fromB);
        foreach (ITestClient client in everyone)
        {
            await client.WaitUntilAsync(r => Series(r, "a").Count == count && Series(r, "b").Count == count, Wait, $"{count} messages from each node");
            AssertExactlyInOrder(client, "a", count);
            AssertExactlyInOrder(client, "b", count);
        }

        // History is per node: a newcomer on B gets the last 50 messages B saw, those from A included.
        await using PythonClient late = await PythonClient.ConnectAsync("late python on B", b.WebSocketUri("/chat"));
        await late.WaitUntilAsync(r => Series(r, "a").Contains(count - 1) && Series(r, "b").Contains(count - 1), Wait, "the history");
        Assert.Contains(late.Received, m => m.Contains("\"a-29\"", StringComparison.Ordinal));

        BackplaneCounts countsA = await a.StopAsync();
        Assert.True(countsA.SkippedOwn > 0, "node A's own publishes came back through its queue and were skipped, not delivered twice");
    }

    [Fact]
    public async Task BroadcastEndpointSpansTwoNodesInPublisherOrder()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "bcA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "bcB");
        await using PythonClient pyA = await PythonClient.ConnectAsync("python on A", a.WebSocketUri("/broadcast"));
        await using OurClient ourA = await OurClient.ConnectAsync("our client on A", a.WebSocketUri("/broadcast"));
        await using OurClient ourB = await OurClient.ConnectAsync("our client on B", b.WebSocketUri("/broadcast"));
        await using PythonClient pyB = await PythonClient.ConnectAsync("python on B", b.WebSocketUri("/broadcast"));

        await ProbeAsync(pyA, [ourB, pyB], n => $"probe-a-{n}");
        await ProbeAsync(ourB, [ourA, pyA], n => $"probe-b-{n}");

        const int count = 40;
        await Task.WhenAll(SendSeriesAsync(pyA, count, i => $"a-{i}"), SendSeriesAsync(ourB, count, i => $"b-{i}"));
        foreach (ITestClient client in new ITestClient[] { pyA, ourA, ourB, pyB })
        {
            await client.WaitUntilAsync(r => Series(r, "a").Count == count && Series(r, "b").Count == count, Wait, $"{count} broadcasts from each node");
            AssertExactlyInOrder(client, "a", count);
            AssertExactlyInOrder(client, "b", count);
        }
    }

    [Fact]
    public async Task ChatSpansThreeNodesWithOurClientPythonAndAChromiumTab()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "triA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "triB");
        await using ServeNode c = await ServeNode.StartAsync(broker, exchange, "triC");
        await using OurClient ourA = await OurClient.ConnectAsync("our client on A", a.WebSocketUri("/chat"));
        await using PythonClient pyB = await PythonClient.ConnectAsync("python on B", b.WebSocketUri("/chat"));
        await using ChatPage tab = await ChatPage.OpenAsync(browser, c.PageUrl);
        await tab.SetNickAsync("tab");
        await using OurClient watcherC = await OurClient.ConnectAsync("our client on C", c.WebSocketUri("/chat"));

        await ProbeAsync(ourA, [pyB, watcherC], n => Chat("probe", $"probe-a-{n}"));
        await ProbeAsync(pyB, [ourA], n => Chat("probe", $"probe-b-{n}"));

        const int count = 10;
        Task fromA = SendSeriesAsync(ourA, count, i => Chat("ourA", $"a-{i}"));
        Task fromB = SendSeriesAsync(pyB, count, i => Chat("pyB", $"b-{i}"));
        for (int i = 0; i < 5; i++)
        {
            await tab.SendAsync($"c-{i}");
        }

        await Task.WhenAll(fromA, fromB);
        foreach (ITestClient client in new ITestClient[] { ourA, pyB, watcherC })
        {
            await client.WaitUntilAsync(r => Series(r, "a").Count == count && Series(r, "b").Count == count && Series(r, "c").Count == 5, Wait, "every node's messages");
            AssertExactlyInOrder(client, "a", count);
            AssertExactlyInOrder(client, "b", count);
            AssertExactlyInOrder(client, "c", 5);
        }

        await tab.WaitForMessageAsync("ourA", $"a-{count - 1}");
        await tab.WaitForMessageAsync("pyB", $"b-{count - 1}");
        IReadOnlyList<(string Nick, string Text)> shown = await tab.GetMessagesAsync();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"a-{i}"), shown.Where(m => m.Nick == "ourA").Select(m => m.Text));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"b-{i}"), shown.Where(m => m.Nick == "pyB").Select(m => m.Text));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"c-{i}"), shown.Where(m => m.Nick == "tab").Select(m => m.Text));
        Assert.Empty(tab.PageErrors);
    }

    [Fact]
    public async Task TopicSubscribersReceiveOnlyTheTopicsTheySubscribedTo()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "topA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "topB");
        await using ServeNode c = await ServeNode.StartAsync(broker, exchange, "topC");
        await using OurClient publisher = await OurClient.ConnectAsync("publisher on A", a.WebSocketUri("/pubsub"));
        await using PythonClient red = await PythonClient.ConnectAsync("red subscriber on B", b.WebSocketUri("/pubsub"));
        await using OurClient blue = await OurClient.ConnectAsync("blue subscriber on C", c.WebSocketUri("/pubsub"));
        await red.SendAsync("sub red");
        await blue.SendAsync("sub blue");
        await red.WaitUntilAsync(r => r.Contains("ok sub Subscribed"), Wait, "the subscription");
        await blue.WaitUntilAsync(r => r.Contains("ok sub Subscribed"), Wait, "the subscription");

        await ProbeAsync(publisher, [red], n => $"pub red probe-r-{n}");
        await ProbeAsync(publisher, [blue], n => $"pub blue probe-u-{n}");

        const int count = 20;
        for (int i = 0; i < count; i++)
        {
            await publisher.SendAsync($"pub red r-{i}");
            await publisher.SendAsync($"pub blue u-{i}");
            await publisher.SendAsync($"pub green g-{i}");
        }

        await publisher.SendAsync("pub red end");
        await publisher.SendAsync("pub blue end");
        await red.WaitUntilAsync(r => r.Contains("red end"), Wait, "the end marker");
        await blue.WaitUntilAsync(r => r.Contains("blue end"), Wait, "the end marker");

        string[] redTopics = [.. red.Received.Where(IsTopicMessage)];
        string[] blueTopics = [.. blue.Received.Where(IsTopicMessage)];
        Assert.All(redTopics, m => Assert.StartsWith("red ", m, StringComparison.Ordinal));
        Assert.All(blueTopics, m => Assert.StartsWith("blue ", m, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"red r-{i}"), redTopics.Where(m => m.StartsWith("red r-", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"blue u-{i}"), blueTopics.Where(m => m.StartsWith("blue u-", StringComparison.Ordinal)));
        Assert.DoesNotContain(publisher.Received, IsTopicMessage);

        // Node-level: B's queue is bound to red only, so the node received exactly what its client got.
        BackplaneCounts countsB = await b.StopAsync();
        Assert.Equal(redTopics.Length, countsB.Received);
        BackplaneCounts countsC = await c.StopAsync();
        Assert.Equal(blueTopics.Length, countsC.Received);

        static bool IsTopicMessage(string m) => !m.StartsWith("id ", StringComparison.Ordinal) && !m.StartsWith("ok ", StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendToAndBroadcastReachConnectionsOnOtherNodes()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "dirA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "dirB");
        await using OurClient a1 = await OurClient.ConnectAsync("a1", a.WebSocketUri("/pubsub"));
        await using OurClient a2 = await OurClient.ConnectAsync("a2", a.WebSocketUri("/pubsub"));
        await using PythonClient b1 = await PythonClient.ConnectAsync("b1", b.WebSocketUri("/pubsub"));
        string idA2 = await IdOfAsync(a2);
        string idB1 = await IdOfAsync(b1);
        Assert.StartsWith("dirA-", idA2, StringComparison.Ordinal);
        Assert.StartsWith("dirB-", idB1, StringComparison.Ordinal);

        await a1.SendAsync($"to {idB1} hello-b1");
        await a1.WaitUntilAsync(r => r.Contains("ok to Forwarded"), Wait, "the forward outcome");
        await b1.WaitUntilAsync(r => r.Contains("hello-b1"), Wait, "the direct message from node A");

        await a1.SendAsync($"to {idA2} local-a2");
        await a1.WaitUntilAsync(r => r.Contains("ok to Sent"), Wait, "the local outcome");
        await a2.WaitUntilAsync(r => r.Contains("local-a2"), Wait, "the local direct message");

        await a1.SendAsync("to garbage x");
        await a1.WaitUntilAsync(r => r.Contains("ok to NotFound"), Wait, "NotFound for an id without a node");

        const int count = 20;
        for (int i = 0; i < count; i++)
        {
            await b1.SendAsync($"to {idA2} d-{i}");
        }

        await a2.WaitUntilAsync(r => Series(r, "d").Count == count, Wait, "the direct series from node B");
        AssertExactlyInOrder(a2, "d", count);

        await b1.SendAsync("all hello-everyone");
        foreach (ITestClient client in new ITestClient[] { a1, a2, b1 })
        {
            await client.WaitUntilAsync(r => r.Contains("hello-everyone"), Wait, "the broadcast");
        }

        await a1.SendAsync("all end");
        await b1.WaitUntilAsync(r => r.Contains("end"), Wait, "the end marker");
        Assert.Single(b1.Received, m => m == "hello-everyone");
        Assert.Single(a2.Received, m => m == "hello-everyone");
        Assert.DoesNotContain(a1.Received, m => m.StartsWith("d-", StringComparison.Ordinal) || m == "hello-b1");
    }

    [Fact]
    public async Task BrokerRestartKeepsLocalTrafficThenCrossNodeTrafficResumesAndTheLossIsLogged()
    {
        string exchange = NewExchange();
        await using ServeNode a = await ServeNode.StartAsync(broker, exchange, "rstA");
        await using ServeNode b = await ServeNode.StartAsync(broker, exchange, "rstB");
        await using OurClient a1 = await OurClient.ConnectAsync("our client on A", a.WebSocketUri("/chat"));
        await using PythonClient a2 = await PythonClient.ConnectAsync("python on A", a.WebSocketUri("/chat"));
        await using OurClient b1 = await OurClient.ConnectAsync("our client on B", b.WebSocketUri("/chat"));
        await ProbeAsync(a1, [b1], n => Chat("probe", $"probe-a-{n}"));
        await ProbeAsync(b1, [a1], n => Chat("probe", $"probe-b-{n}"));

        int linesA = a.Process.LineCount;
        int linesB = b.Process.LineCount;
        await broker.StopAsync();
        try
        {
            await a.Process.WaitForLineAsync(l => l.Contains("disconnected: serving this node's connections only", StringComparison.Ordinal), Wait, "the broker loss", linesA);
            await b.Process.WaitForLineAsync(l => l.Contains("disconnected: serving this node's connections only", StringComparison.Ordinal), Wait, "the broker loss", linesB);

            const int during = 10;
            await SendSeriesAsync(a1, during, i => Chat("a1", $"o-{i}"));
            await a2.WaitUntilAsync(r => Series(r, "o").Count == during, Wait, "local traffic during the outage");
            AssertExactlyInOrder(a2, "o", during);
            AssertExactlyInOrder(a1, "o", during);
        }
        finally
        {
            await broker.StartAgainAsync();
        }

        string reconnectedA = await a.Process.WaitForLineAsync(l => l.Contains("Backplane node rstA reconnected", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the reconnection", linesA);
        string reconnectedB = await b.Process.WaitForLineAsync(l => l.Contains("Backplane node rstB reconnected", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the reconnection", linesB);
        Assert.Equal(10, LostCount(reconnectedA));
        Assert.Equal(0, LostCount(reconnectedB));

        // The queue and its bindings were re-declared on reconnection: cross-node traffic resumes.
        const int after = 10;
        await SendSeriesAsync(a1, after, i => Chat("a1", $"n-{i}"));
        await b1.WaitUntilAsync(r => Series(r, "n").Count == after, Wait, "cross-node traffic after the outage");
        AssertExactlyInOrder(b1, "n", after);
        Assert.Empty(Series(b1.Received, "o"));
    }

    private static string NewExchange() => "ws4net-test-" + Guid.NewGuid().ToString("N")[..8];

    private static string Chat(string nick, string text) => $"{{\"nick\":\"{nick}\",\"text\":\"{text}\"}}";

    private static async Task SendSeriesAsync(ITestClient client, int count, Func<int, string> message)
    {
        for (int i = 0; i < count; i++)
        {
            await client.SendAsync(message(i));
        }
    }

    /// <summary>Sends probes from <paramref name="sender"/> every 200 ms until each receiver got one (the routes are bound).</summary>
    private static async Task ProbeAsync(ITestClient sender, ITestClient[] receivers, Func<int, string> probe)
    {
        using var deadline = new CancellationTokenSource(Wait);
        for (int n = 0; ; n++)
        {
            string text = probe(n);
            string marker = ProbeMarker().Match(text).Value;
            string prefix = marker[..(marker.LastIndexOf('-') + 1)];
            if (receivers.All(r => r.Received.Any(m => m.Contains(prefix, StringComparison.Ordinal))))
            {
                return;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"Probes from {sender.Name} did not reach {string.Join(", ", receivers.Where(r => !r.Received.Any(m => m.Contains(prefix, StringComparison.Ordinal))).Select(r => r.Name))} within {Wait.TotalSeconds} s.");
            }

            await sender.SendAsync(text);
            await Task.Delay(200);
        }
    }

    private static async Task<string> IdOfAsync(ITestClient client)
    {
        await client.WaitUntilAsync(r => r.Any(m => m.StartsWith("id ", StringComparison.Ordinal)), Wait, "its id");
        return client.Received.First(m => m.StartsWith("id ", StringComparison.Ordinal))[3..];
    }

    /// <summary>The numbers of the <c>series-N</c> messages received, in arrival order (probes excluded).</summary>
    private static List<int> Series(IReadOnlyList<string> received, string series)
    {
        var numbers = new List<int>();
        var pattern = new Regex($"(?<![A-Za-z-]){Regex.Escape(series)}-(\\d+)\\b");
        foreach (string message in received)
        {
            if (message.Contains("probe", StringComparison.Ordinal))
            {
                continue;
            }

            Match m = pattern.Match(message);
            if (m.Success)
            {
                numbers.Add(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return numbers;
    }

    private static void AssertExactlyInOrder(ITestClient client, string series, int count)
        => Assert.True(
            Series(client.Received, series).SequenceEqual(Enumerable.Range(0, count)),
            $"{client.Name} got {series}-* as [{string.Join(",", Series(client.Received, series))}], expected 0..{count - 1} once each, in order");

    private static long LostCount(string line)
    {
        Match m = LostPattern().Match(line);
        Assert.True(m.Success, line);
        return long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"probe-[a-z]+-\d+")]
    private static partial Regex ProbeMarker();

    [GeneratedRegex(@"(\d+) messages were not forwarded while disconnected")]
    private static partial Regex LostPattern();
}
