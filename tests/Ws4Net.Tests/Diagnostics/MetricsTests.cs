using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Ws4Net.Client;
using Ws4Net.Protocol.Compression;
using static Ws4Net.Diagnostics.Ws4NetDiagnostics;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>
/// Every instrument of the Ws4Net meter, observed through a <see cref="System.Diagnostics.Metrics.MeterListener"/>
/// over real loopback connections (our client, our server). The meter is process-wide, so these tests run
/// alone and count only what carries their own marks (message sizes and close codes no other test uses).
/// </summary>
[Collection(DiagnosticsCollection.Name)]
public sealed class MetricsTests
{
    private const int TextSize = 1717;
    private const int BinarySize = 1234;

    [Fact]
    public void Every_instrument_is_published_with_its_unit()
    {
        // Touch the meter (it is created with the first connection otherwise).
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(Ws4Net.Diagnostics.Ws4NetMetrics).TypeHandle);
        using var recorder = new MeterRecorder();
        var expected = new Dictionary<string, string>
        {
            [ConnectionsActive] = "{connection}",
            [ConnectionsOpened] = "{connection}",
            [ConnectionsClosed] = "{connection}",
            [ConnectionDuration] = "s",
            [HandshakeFailures] = "{handshake}",
            [MessagesReceived] = "{message}",
            [MessagesSent] = "{message}",
            [BytesReceived] = "By",
            [BytesSent] = "By",
            [SendQueueSize] = "By",
            [MessagesDropped] = "{message}",
            [PingRoundTripTime] = "s",
            [CompressionUncompressedBytes] = "By",
            [CompressionWireBytes] = "By",
        };

        Assert.Equal(expected.OrderBy(p => p.Key), recorder.Published.Select(p => KeyValuePair.Create(p.Key, p.Value!)).OrderBy(p => p.Key));
    }

    [Fact]
    public async Task Open_echo_and_a_close_from_each_side_are_counted_with_code_and_initiator()
    {
        using var recorder = new MeterRecorder();
        await using TestServer server = await TestServer.StartAsync();

        // Echo text and binary, then the client closes with 4100.
        WebSocketConnection client = await server.ConnectAsync("/echo");
        await using (client)
        {
            string text = new('t', TextSize);
            byte[] binary = new byte[BinarySize];
            for (int i = 0; i < 3; i++)
            {
                await client.SendTextAsync(text).WithTimeout();
                Assert.Equal(TextSize, (await client.ReceiveAsync().WithTimeout())!.Value.Payload.Length);
            }

            for (int i = 0; i < 2; i++)
            {
                await client.SendBinaryAsync(binary).WithTimeout();
                Assert.Equal(BinarySize, (await client.ReceiveAsync().WithTimeout())!.Value.Payload.Length);
            }

            await client.CloseAsync((WebSocketCloseCode)4100, "client bye").WithTimeout();
        }

        // The server closes with 4001 (ClosingHandler).
        WebSocketConnection second = await server.ConnectAsync("/close");
        await using (second)
        {
            Assert.Null(await second.ReceiveAsync().WithTimeout());
            Assert.Equal((WebSocketCloseCode)ClosingHandler.Code, second.CloseStatus!.Value.Code);
        }

        await recorder.WaitForAsync(r => r.Of(ConnectionsClosed, m => m.Has(CloseCodeTag, 4100) || m.Has(CloseCodeTag, ClosingHandler.Code)).Count == 4, "the four closes");

        // Each side of each connection: the close code, and who started it.
        Measurement Closed(int code, string role) => Assert.Single(recorder.Of(ConnectionsClosed, m => m.Has(CloseCodeTag, code) && m.Has(RoleTag, role)));
        Assert.Equal("local", Closed(4100, "client").Tag(CloseInitiatorTag));
        Assert.Equal("remote", Closed(4100, "server").Tag(CloseInitiatorTag));
        Assert.Equal("local", Closed(ClosingHandler.Code, "server").Tag(CloseInitiatorTag));
        Assert.Equal("remote", Closed(ClosingHandler.Code, "client").Tag(CloseInitiatorTag));
        Assert.All(recorder.Of(ConnectionsClosed, m => m.Has(CloseCodeTag, 4100)), m => Assert.Equal(1, m.Value));

        IReadOnlyList<Measurement> durations = recorder.Of(ConnectionDuration, m => m.Has(CloseCodeTag, 4100));
        Assert.Equal(2, durations.Count);
        Assert.All(durations, m => Assert.InRange(m.Value, 1e-6, 60));

        // Opened and active move together: +1 per open, -1 per close.
        Assert.True(recorder.Sum(ConnectionsOpened, m => m.Has(RoleTag, "client")) >= 2);
        Assert.True(recorder.Sum(ConnectionsOpened, m => m.Has(RoleTag, "server")) >= 2);
        Assert.Equal(recorder.Sum(ConnectionsOpened), recorder.Of(ConnectionsActive, m => m.Value == 1).Count);
        Assert.Equal(recorder.Sum(ConnectionsClosed), recorder.Of(ConnectionsActive, m => m.Value == -1).Count);

        // Three text and two binary messages each way, counted on both ends: payload bytes per message type.
        Assert.Equal(6, recorder.Of(BytesReceived, m => m.Value == TextSize && m.Has(MessageTypeTag, "text")).Count);
        Assert.Equal(6, recorder.Of(BytesSent, m => m.Value == TextSize && m.Has(MessageTypeTag, "text")).Count);
        Assert.Equal(4, recorder.Of(BytesReceived, m => m.Value == BinarySize && m.Has(MessageTypeTag, "binary")).Count);
        Assert.Equal(4, recorder.Of(BytesSent, m => m.Value == BinarySize && m.Has(MessageTypeTag, "binary")).Count);
        Assert.True(recorder.Sum(MessagesReceived, m => m.Has(MessageTypeTag, "text")) >= 6);
        Assert.True(recorder.Sum(MessagesSent, m => m.Has(MessageTypeTag, "binary")) >= 4);

        // Not compressed: no compression counters for these sizes.
        Assert.Empty(recorder.Of(CompressionUncompressedBytes, m => m.Value is TextSize or BinarySize));
    }

    [Fact]
    public async Task A_fragmented_message_counts_once_with_all_its_bytes()
    {
        using var recorder = new MeterRecorder();
        await using TestServer server = await TestServer.StartAsync();
        await using WebSocketConnection client = await server.ConnectAsync("/echo");
        await client.SendAsync(new byte[1111], WebSocketMessageKind.Binary, endOfMessage: false).WithTimeout();
        await client.SendAsync(new byte[2222], WebSocketMessageKind.Binary, endOfMessage: true).WithTimeout();
        Assert.Equal(3333, (await client.ReceiveAsync().WithTimeout())!.Value.Payload.Length);

        // The client sent two parts of one message; the server received one message of 3333 bytes.
        Assert.Single(recorder.Of(BytesSent, m => m.Value == 1111));
        Assert.Single(recorder.Of(BytesSent, m => m.Value == 2222));
        Assert.Equal(2, recorder.Of(BytesReceived, m => m.Value == 3333).Count);   // server, then client (the echo)
        Assert.Single(recorder.Of(BytesSent, m => m.Value == 3333));               // the server's echo
    }

    [Fact]
    public async Task Rejected_handshakes_are_counted_logged_and_traced_on_both_sides()
    {
        using var recorder = new MeterRecorder();
        using var activities = new ActivityRecorder();
        using ILoggerFactory serverLogs = CapturingLoggerProvider.CreateFactory(out CapturingLoggerProvider serverLog);
        using ILoggerFactory clientLogs = CapturingLoggerProvider.CreateFactory(out CapturingLoggerProvider clientLog);
        await using TestServer server = await TestServer.StartAsync(configure: o =>
        {
            o.LoggerFactory = serverLogs;
            o.AllowedOrigins = ["https://good.example"];
        });

        WebSocketClientOptions options = server.ClientOptions();
        options.Logger = clientLogs.CreateLogger("client");
        var notFound = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/nowhere", options));
        Assert.Equal(404, notFound.StatusCode);
        options.Origin = "https://evil.example";
        var forbidden = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", options));
        Assert.Equal(403, forbidden.StatusCode);

        await recorder.WaitForAsync(r => r.Of(HandshakeFailures).Count >= 4, "four handshake failures");
        foreach (int status in new[] { 404, 403 })
        {
            Measurement serverSide = Assert.Single(recorder.Of(HandshakeFailures, m => m.Has(RoleTag, "server") && m.Has(HttpStatusCodeTag, status)));
            Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), serverSide.Tag(ErrorTypeTag));
            Measurement clientSide = Assert.Single(recorder.Of(HandshakeFailures, m => m.Has(RoleTag, "client") && m.Has(HttpStatusCodeTag, status)));
            Assert.Equal("http_status", clientSide.Tag(ErrorTypeTag));
        }

        // Activities: one per handshake on each side, failed, with the status.
        await activities.WaitForAsync(a => a.Stopped.Count(x => x.OperationName == ServerHandshakeActivity) >= 2, "server handshake activities");
        // Log (once both server activities stopped, the server has logged): why the server rejected (event 103) and why the client failed (event 44).
        LogEntry rejected404 = Assert.Single(serverLog.Entries, e => e.EventId.Id == 103 && e.Message.Contains("/nowhere", StringComparison.Ordinal));
        Assert.Contains("404", rejected404.Message, StringComparison.Ordinal);
        LogEntry rejected403 = Assert.Single(serverLog.Entries, e => e.EventId.Id == 103 && e.Message.Contains("403", StringComparison.Ordinal));
        Assert.Contains("/echo", rejected403.Message, StringComparison.Ordinal);
        Assert.Equal(2, clientLog.Entries.Count(e => e.EventId.Id == 44 && e.Message.Contains("http_status", StringComparison.Ordinal)));

        System.Diagnostics.Activity serverActivity = Assert.Single(activities.Stopped, a => a.OperationName == ServerHandshakeActivity && Equals(a.GetTagItem(UrlPathTag), "/nowhere"));
        Assert.Equal(System.Diagnostics.ActivityKind.Server, serverActivity.Kind);
        Assert.Equal(404, serverActivity.GetTagItem(HttpStatusCodeTag));
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, serverActivity.Status);
        System.Diagnostics.Activity clientActivity = Assert.Single(activities.Stopped, a => a.OperationName == ClientHandshakeActivity && Equals(a.GetTagItem(UrlPathTag), "/nowhere"));
        Assert.Equal(System.Diagnostics.ActivityKind.Client, clientActivity.Kind);
        Assert.Equal("http_status", clientActivity.GetTagItem(ErrorTypeTag));
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, clientActivity.Status);
    }

    [Fact]
    public async Task Backpressure_drops_are_counted_and_the_send_queue_gauge_sees_the_backlog()
    {
        using var recorder = new MeterRecorder();
        await using TestServer server = await TestServer.StartAsync(configure: o =>
        {
            o.Connection.MaxBufferedAmount = 64 * 1024;
            o.Connection.BackpressurePolicy = WebSocketBackpressurePolicy.DropMessage;
        });

        // A peer that completes the handshake and never reads (a small receive window fills fast).
        string id = TestServer.NewId();
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, server.Port).WithTimeout();
        await stalled.SendAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET /record?id={id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        RecordingHandler handler = await server.HandlerAsync<RecordingHandler>(id);
        WebSocketConnection connection = handler.Connection;

        byte[] payload = new byte[4321];
        int dropped = 0;
        for (int i = 0; i < 20_000 && dropped < 5; i++)
        {
            if (connection.TrySend(payload, WebSocketMessageKind.Binary) == WebSocketSendStatus.Dropped)
            {
                dropped++;
            }
            else if (i % 64 == 0)
            {
                await Task.Delay(1);
            }
        }

        Assert.Equal(5, dropped);
        Assert.Equal(5, recorder.Of(MessagesDropped, m => m.Has(BackpressurePolicyTag, "drop_message") && m.Has(MessageTypeTag, "binary")).Count);

        // The stalled connection's backlog shows in the gauge (summed over every open connection).
        recorder.Collect();
        Measurement gauge = recorder.Of(SendQueueSize).Last();
        long backlog = connection.BufferedAmount;   // read after: the backlog can only shrink meanwhile
        Assert.True(backlog > 0);
        Assert.True(gauge.Value >= backlog, $"gauge {gauge.Value} < backlog {backlog}");
        connection.Abort();
    }

    [Fact]
    public async Task A_ping_round_trip_is_recorded_in_seconds()
    {
        using var recorder = new MeterRecorder();
        await using TestServer server = await TestServer.StartAsync();
        await using WebSocketConnection client = await server.ConnectAsync("/echo");
        ValueTask<WebSocketMessage?> receiving = client.ReceiveAsync();   // a receive must run to see the pong
        TimeSpan rtt = await client.PingAsync().WithTimeout();

        Measurement measured = Assert.Single(recorder.Of(PingRoundTripTime, m => m.Has(RoleTag, "client") && m.Value == rtt.TotalSeconds));
        Assert.Equal("s", measured.Unit);
        Assert.InRange(measured.Value, 1e-7, 10);
        await client.CloseAsync().WithTimeout();
        Assert.Null(await receiving.WithTimeout());
    }

    [Fact]
    public async Task Compression_counts_bytes_before_and_after_deflate_both_ways()
    {
        using var recorder = new MeterRecorder();
        await using TestServer server = await TestServer.StartAsync(configure: o => o.PerMessageDeflate = new PerMessageDeflateOptions());
        WebSocketClientOptions options = server.ClientOptions();
        options.PerMessageDeflate = new PerMessageDeflateOptions();
        await using WebSocketConnection client = await server.ConnectAsync("/echo", options);
        Assert.NotNull(client.PerMessageDeflate);

        const int Size = 100_003;
        byte[] compressible = new byte[Size];
        for (int i = 0; i < compressible.Length; i++)
        {
            compressible[i] = (byte)('a' + (i % 7));
        }

        await client.SendBinaryAsync(compressible).WithTimeout();
        Assert.Equal(Size, (await client.ReceiveAsync().WithTimeout())!.Value.Payload.Length);

        // Sent by the client and by the server (the echo), received by both: before and after deflate.
        foreach (string direction in new[] { "transmit", "receive" })
        {
            IReadOnlyList<Measurement> uncompressed = recorder.Of(CompressionUncompressedBytes, m => m.Has(DirectionTag, direction) && m.Value == Size);
            Assert.Equal(2, uncompressed.Count);
            double wire = recorder.Sum(CompressionWireBytes, m => m.Has(DirectionTag, direction));
            Assert.True(wire > 0 && wire < Size / 10.0, $"{direction}: {wire} bytes on the wire for 2 x {Size} bytes of repetitive data");
        }
    }

    [Fact]
    public async Task Protocol_violations_and_handler_exceptions_are_logged_with_their_close_codes()
    {
        using var recorder = new MeterRecorder();
        using ILoggerFactory logs = CapturingLoggerProvider.CreateFactory(out CapturingLoggerProvider log);
        await using TestServer server = await TestServer.StartAsync(configure: o => o.LoggerFactory = logs);

        // An unmasked frame from a client: the core fails the connection with 1002.
        string id = TestServer.NewId();
        await using (RawClient raw = await RawClient.HandshakeAsync(server.Port, $"/record?id={id}"))
        {
            RecordingHandler handler = await server.HandlerAsync<RecordingHandler>(id);
            await raw.WriteAsync(RawClient.Frame(0x1, "hi"u8, mask: false));
            await raw.ReadToEndAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(WebSocketCloseCode.ProtocolError, (await handler.Closed.WithTimeout()).Code);
        }

        // A handler that throws: 1011.
        await using (WebSocketConnection client = await server.ConnectAsync("/throw"))
        {
            await client.SendTextAsync("throw").WithTimeout();
            Assert.Null(await client.ReceiveAsync().WithTimeout());
            Assert.Equal(WebSocketCloseCode.InternalError, client.CloseStatus!.Value.Code);
        }

        await recorder.WaitForAsync(r => r.Of(ConnectionsClosed, m => m.Has(RoleTag, "server") && (m.Has(CloseCodeTag, 1002) || m.Has(CloseCodeTag, 1011))).Count >= 2, "the server's 1002 and 1011 closes");
        Assert.Equal("local", recorder.Of(ConnectionsClosed, m => m.Has(RoleTag, "server") && m.Has(CloseCodeTag, 1002)).Last().Tag(CloseInitiatorTag));

        LogEntry violation = Assert.Single(log.Entries, e => e.EventId.Id == 2);
        Assert.Contains("1002", violation.Message, StringComparison.Ordinal);
        Assert.Contains("mask", violation.Message, StringComparison.OrdinalIgnoreCase);   // the rule the core enforced
        LogEntry thrown = Assert.Single(log.Entries, e => e.EventId.Id == 10);
        Assert.IsType<TestHandlerException>(thrown.Exception);

        // Opened (9) and closed (1) events: path, code, reason, initiator, duration.
        Assert.Contains(log.Entries, e => e.EventId.Id == 9 && e.Message.Contains("path /throw", StringComparison.Ordinal));
        LogEntry closed = Assert.Single(log.Entries, e => e.EventId.Id == 1 && e.Message.Contains(": 1011 ", StringComparison.Ordinal));
        Assert.Matches(@"initiator: local, open \d+ ms", closed.Message);
    }
}
