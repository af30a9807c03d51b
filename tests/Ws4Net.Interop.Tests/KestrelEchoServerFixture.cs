using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net.Interop.Tests.Infrastructure;
using NetCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// Kestrel (ASP.NET Core's server) with <c>app.UseWebSockets()</c>, in-process on an ephemeral
/// loopback port, one instance shared by the tests of a class. Any path is a WebSocket echo:
/// each received piece is sent back with its type and EndOfMessage flag, so the message
/// boundaries and the fragmentation survive the round trip. Pings are answered by Kestrel's
/// WebSocket; the peer's close frame is answered with the same code and reason. Compression and
/// keep-alive pings are off. Understands the <see cref="IReportingEchoPeer"/> query parameters
/// <c>id=TAG</c> and <c>close=CODE</c>.
/// </summary>
public sealed class KestrelEchoServerFixture : IAsyncLifetime, IReportingEchoPeer
{
    /// <summary>How long one server-side connection may live before it is cancelled (every server await is bounded).</summary>
    private static readonly TimeSpan s_connectionLifetime = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, TaskCompletionSource<PeerCloseRecord>> _closes = new();
    private readonly ConcurrentQueue<string> _events = new();
    private WebApplication? _app;

    public int Port { get; private set; }

    public string Name => "Kestrel";

    public string ServerCloseReason => "kestrel closing";

    public string Transcript => $"--- Kestrel echo server events:\n{string.Join('\n', _events)}";

    public Uri Uri(string pathAndQuery = "/echo") => new($"ws://127.0.0.1:{Port}{pathAndQuery}");

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        WebApplication app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(HandleAsync);
        _app = app;

        await app.StartAsync().WaitAsync(Timeouts.PeerStartup);
        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        Port = new Uri(addresses.Addresses.Single()).Port;
        Assert.NotEqual(0, Port);
    }

    public async Task DisposeAsync()
    {
        if (_app is null)
        {
            return;
        }

        using var stopTimeout = new CancellationTokenSource(Timeouts.Shutdown);
        await _app.StopAsync(stopTimeout.Token).WaitAsync(Timeouts.Shutdown * 2);
        await _app.DisposeAsync().AsTask().WaitAsync(Timeouts.Shutdown);
    }

    public async Task<PeerCloseRecord> WaitForCloseAsync(string id, TimeSpan timeout)
    {
        try
        {
            return await CloseSlot(id).Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Kestrel did not report the end of connection {id} within {timeout.TotalSeconds:0} s.\n{Transcript}");
        }
    }

    private TaskCompletionSource<PeerCloseRecord> CloseSlot(string id)
        => _closes.GetOrAdd(id, _ => new TaskCompletionSource<PeerCloseRecord>(TaskCreationOptions.RunContinuationsAsynchronously));

    private void Report(string id, bool clean, NetCloseStatus? code, string? reason)
    {
        var record = new PeerCloseRecord(id, clean, code is null ? null : (int)code.Value, reason ?? string.Empty);
        _events.Enqueue($"CLOSED id={id} clean={clean} code={record.Code?.ToString(CultureInfo.InvariantCulture) ?? "none"} reason={record.Reason}");
        CloseSlot(id).TrySetResult(record);
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }

        string id = context.Request.Query["id"].FirstOrDefault() ?? "-";
        int? closeCode = int.TryParse(context.Request.Query["close"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out int code) ? code : null;

        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        lifetime.CancelAfter(s_connectionLifetime);
        CancellationToken token = lifetime.Token;

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = false,
            KeepAliveInterval = TimeSpan.Zero,
        }).WaitAsync(Timeouts.Step, token);
        _events.Enqueue($"OPEN id={id} path={context.Request.Path}{context.Request.QueryString}");

        var buffer = new byte[64 * 1024];
        int messagesEchoed = 0;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    NetCloseStatus? status = socket.CloseStatus;
                    string? description = socket.CloseStatusDescription;
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        // The peer started the close: answer with its code and reason (RFC 6455 §5.5.1).
                        await socket.CloseOutputAsync(status ?? NetCloseStatus.Empty, status is null ? null : description, token);
                    }

                    Report(id, clean: true, status, description);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, token);
                if (received.EndOfMessage && ++messagesEchoed == 1 && closeCode is { } serverClose)
                {
                    await socket.CloseOutputAsync((NetCloseStatus)serverClose, ServerCloseReason, token);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            _events.Enqueue($"ERROR id={id}: {ex.GetType().Name}: {ex.Message} (state {socket.State})");
            Report(id, clean: false, socket.CloseStatus ?? (NetCloseStatus)1006, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
