using System.Diagnostics;
using Ws4Net.Client;
using Ws4Net.Protocol.Compression;
using static Ws4Net.Diagnostics.Ws4NetDiagnostics;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>The <c>Ws4Net</c> activity source: one activity per opening handshake on each side, with what was negotiated.</summary>
[Collection(DiagnosticsCollection.Name)]
public sealed class HandshakeActivityTests
{
    [Fact]
    public async Task A_successful_handshake_is_traced_on_both_sides_with_path_subprotocol_extensions_and_status()
    {
        using var activities = new ActivityRecorder();
        await using TestServer server = await TestServer.StartAsync(
            configure: o => o.PerMessageDeflate = new PerMessageDeflateOptions(),
            map: t => t.Server.Map("/traced", _ => new EchoTestHandler(), "chat.v1"));

        // The caller's trace continues on the server: W3C traceparent on the upgrade request.
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        WebSocketClientOptions options = server.ClientOptions();
        options.Subprotocols.Add("chat.v1");
        options.PerMessageDeflate = new PerMessageDeflateOptions();
        options.Headers.Add(new("traceparent", $"00-{traceId}-{spanId}-01"));
        await using (WebSocketConnection client = await server.ConnectAsync("/traced", options))
        {
            Assert.Equal("chat.v1", client.Subprotocol);
        }

        await activities.WaitForAsync(a => a.Stopped.Any(x => x.OperationName == ServerHandshakeActivity && Equals(x.GetTagItem(UrlPathTag), "/traced")), "the server handshake");
        Activity serverSide = Assert.Single(activities.Stopped, a => a.OperationName == ServerHandshakeActivity && Equals(a.GetTagItem(UrlPathTag), "/traced"));
        Assert.Equal(ActivityKind.Server, serverSide.Kind);
        Assert.Equal(101, serverSide.GetTagItem(HttpStatusCodeTag));
        Assert.Equal("chat.v1", serverSide.GetTagItem(SubprotocolTag));
        Assert.StartsWith("permessage-deflate", (string)serverSide.GetTagItem(ExtensionsTag)!, StringComparison.Ordinal);
        Assert.Equal(traceId, serverSide.TraceId);
        Assert.Equal(spanId, serverSide.ParentSpanId);
        Assert.NotEqual(ActivityStatusCode.Error, serverSide.Status);

        Activity clientSide = Assert.Single(activities.Stopped, a => a.OperationName == ClientHandshakeActivity && Equals(a.GetTagItem(UrlPathTag), "/traced"));
        Assert.Equal(ActivityKind.Client, clientSide.Kind);
        Assert.Equal(101, clientSide.GetTagItem(HttpStatusCodeTag));
        Assert.Equal("chat.v1", clientSide.GetTagItem(SubprotocolTag));
        Assert.Equal(serverSide.GetTagItem(ExtensionsTag), clientSide.GetTagItem(ExtensionsTag));
        Assert.Equal("127.0.0.1", clientSide.GetTagItem(ServerAddressTag));
        Assert.True(clientSide.Duration > TimeSpan.Zero);
    }
}
