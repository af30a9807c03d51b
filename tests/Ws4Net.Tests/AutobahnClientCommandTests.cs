using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Ws4Net.Cli;
using Ws4Net.Protocol;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// `ws4net autobahn-client` against a stand-in for Autobahn's fuzzing server: the same three endpoints
/// (/getCaseCount, /runCase?case=N&amp;agent=A, /updateReports?agent=A), with cases that send text,
/// binary and fragmented messages and check that every one comes back unchanged with the same opcode.
/// </summary>
public sealed class AutobahnClientCommandTests
{
    [Fact]
    public async Task Runs_every_case_echoing_each_message_then_updates_reports()
    {
        var results = new ConcurrentDictionary<int, string>();
        var reports = new ConcurrentBag<string>();
        await using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Map("/getCaseCount", _ => new CaseCountHandler(3));
        server.Map("/runCase", request => new CaseHandler(int.Parse(request.Query["case"]), request.Query["agent"], results));
        server.Map("/updateReports", request => new ReportsHandler(request.Query["agent"], reports));
        await server.StartAsync();
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;

        int exitCode = await Program.Main(["autobahn-client", "--url", $"ws://127.0.0.1:{port}", "--agent", "Ws4Net test", "--cases", "2"])
            .WithTimeout(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.Equal(new Dictionary<int, string> { [1] = "ok", [2] = "ok" }, results.OrderBy(p => p.Key).ToDictionary());
        Assert.Equal(["Ws4Net test"], reports);
    }

    private sealed class CaseCountHandler(int count) : WebSocketHandler
    {
        protected override async ValueTask OnOpenAsync()
        {
            await SendTextAsync(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await CloseAsync();
        }
    }

    private sealed class ReportsHandler(string agent, ConcurrentBag<string> reports) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync()
        {
            reports.Add(agent);
            return CloseAsync();
        }
    }

    /// <summary>Sends a case's messages and checks the echoes in order; closes 1000 when all match, 4000 on a mismatch.</summary>
    private sealed class CaseHandler(int caseNumber, string agent, ConcurrentDictionary<int, string> results) : WebSocketHandler
    {
        private readonly Queue<(WebSocketMessageKind Type, byte[] Payload)> _expected = new();

        protected override async ValueTask OnOpenAsync()
        {
            Assert.Equal("Ws4Net test", agent);
            byte[] text = Encoding.UTF8.GetBytes($"case {caseNumber}: héllo ✓");
            byte[] binary = [.. Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7 + caseNumber))];
            _expected.Enqueue((WebSocketMessageKind.Text, text));
            _expected.Enqueue((WebSocketMessageKind.Binary, binary));
            _expected.Enqueue((WebSocketMessageKind.Text, text));
            await Connection.SendAsync(text, WebSocketMessageKind.Text, true);
            await Connection.SendAsync(binary, WebSocketMessageKind.Binary, true);

            // The third message in three fragments, as Autobahn's fragmentation cases do.
            await Connection.SendAsync(text.AsMemory(0, 3), WebSocketMessageKind.Text, false);
            await Connection.SendAsync(text.AsMemory(3, 4), WebSocketMessageKind.Text, false);
            await Connection.SendAsync(text.AsMemory(7), WebSocketMessageKind.Text, true);
        }

        protected override async ValueTask OnMessageAsync(WebSocketMessage message)
        {
            (WebSocketMessageKind type, byte[] payload) = _expected.Dequeue();
            if (message.Type != type || !message.Payload.Span.SequenceEqual(payload))
            {
                results[caseNumber] = $"mismatch: got {message.Type} {message.Payload.Length} B";
                await CloseAsync((WebSocketCloseCode)4000, "mismatch");
                return;
            }

            if (_expected.Count == 0)
            {
                results.TryAdd(caseNumber, "ok");
                await CloseAsync();
            }
        }
    }
}
