using System.Collections.Concurrent;
using System.Net;
using Ws4Net.Client;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// A <see cref="WebSocketServer"/> on 127.0.0.1 with an ephemeral port (plain ws, or wss with
/// <see cref="TestCertificate"/>), plus the means for a test to find the server-side handler of its
/// own connection: a route registered with <see cref="Track{THandler}"/> files each handler under the
/// <c>id</c> query parameter of its upgrade request, so tests can share one server in parallel.
/// </summary>
/// <remarks>
/// Standard routes (<see cref="MapStandardRoutes"/>): <c>/echo</c> (<see cref="EchoTestHandler"/>),
/// <c>/record</c> (<see cref="RecordingHandler"/>; <c>?delay=ms</c> slows its OnOpenAsync),
/// <c>/throw</c> (<see cref="ThrowingHandler"/>) and <c>/close</c> (<see cref="ClosingHandler"/>).
/// </remarks>
internal sealed class TestServer : IAsyncDisposable
{
    public const long LargeMessageLimit = 32L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<WebSocketHandler>> _handlers = new(StringComparer.Ordinal);

    private TestServer(WebSocketServer server, bool secure)
    {
        Server = server;
        IsSecure = secure;
    }

    public WebSocketServer Server { get; }

    public bool IsSecure { get; }

    /// <summary>Gets the bound port (captured at start, so it stays readable after the server stops).</summary>
    public int Port { get; private set; }

    /// <summary>Creates, configures and starts a server.</summary>
    /// <param name="secure">Serve wss with the generated test certificate.</param>
    /// <param name="configure">Adjusts the server options (limits, timeouts) before the server is created.</param>
    /// <param name="map">Adds routes (<see cref="MapStandardRoutes"/> is a good start).</param>
    public static async Task<TestServer> StartAsync(bool secure = false, Action<WebSocketServerOptions>? configure = null, Action<TestServer>? map = null)
    {
        var options = new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = secure ? TestCertificate.Certificate : null,
        };
        configure?.Invoke(options);
        var test = new TestServer(new WebSocketServer(options), secure);
        (map ?? (static t => t.MapStandardRoutes())).Invoke(test);
        await test.Server.StartAsync().WithTimeout();
        test.Port = ((IPEndPoint)test.Server.LocalEndPoint!).Port;
        return test;
    }

    public TestServer MapStandardRoutes()
    {
        Server.Map("/echo", request => Track(request, new EchoTestHandler()));
        Server.Map("/record", request => Track(request, new RecordingHandler(
            request.Query.TryGetValue("delay", out string? delay) ? TimeSpan.FromMilliseconds(int.Parse(delay, System.Globalization.CultureInfo.InvariantCulture)) : default)));
        Server.Map("/throw", request => Track(request, new ThrowingHandler()));
        Server.Map("/close", request => Track(request, new ClosingHandler()));
        return this;
    }

    /// <summary>Files <paramref name="handler"/> under the request's <c>id</c> query parameter (if any) and returns it.</summary>
    public THandler Track<THandler>(WebSocketUpgradeRequest request, THandler handler)
        where THandler : WebSocketHandler
    {
        if (request.Query.TryGetValue("id", out string? id))
        {
            Slot(id).TrySetResult(handler);
        }

        return handler;
    }

    /// <summary>Waits for the server to build the handler of the connection opened with <c>?id=</c><paramref name="id"/>.</summary>
    public async Task<THandler> HandlerAsync<THandler>(string id)
        where THandler : WebSocketHandler
        => (THandler)await Slot(id).Task.WithTimeout();

    /// <summary>Builds a URI on this server, ws or wss as configured.</summary>
    public Uri Uri(string pathAndQuery) => new($"{(IsSecure ? "wss" : "ws")}://127.0.0.1:{Port}{pathAndQuery}");

    /// <summary>Client options that trust exactly the test certificate (for wss), with room for the large-message tests.</summary>
    public WebSocketClientOptions ClientOptions(long maxMessageSize = LargeMessageLimit)
    {
        var options = new WebSocketClientOptions { ConnectTimeout = TimeSpan.FromSeconds(15) };
        if (IsSecure)
        {
            options.RemoteCertificateValidation = TestCertificate.Validate;
        }

        options.Connection.Protocol.MaxMessageSize = maxMessageSize;
        return options;
    }

    /// <summary>Connects our client to <paramref name="pathAndQuery"/>.</summary>
    public Task<WebSocketConnection> ConnectAsync(string pathAndQuery, WebSocketClientOptions? options = null)
        => WebSocketClient.ConnectAsync(Uri(pathAndQuery), options ?? ClientOptions()).WithTimeout();

    /// <summary>Connects with a fresh <c>id</c> and returns the connection together with its server-side handler.</summary>
    public async Task<(WebSocketConnection Client, THandler Handler)> ConnectTrackedAsync<THandler>(string path, WebSocketClientOptions? options = null, string? extraQuery = null)
        where THandler : WebSocketHandler
    {
        string id = NewId();
        WebSocketConnection client = await ConnectAsync($"{path}?id={id}{(extraQuery is null ? string.Empty : "&" + extraQuery)}", options);
        THandler handler = await HandlerAsync<THandler>(id);
        return (client, handler);
    }

    public static string NewId() => Guid.NewGuid().ToString("N");

    public async ValueTask DisposeAsync() => await Server.DisposeAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(30));

    private TaskCompletionSource<WebSocketHandler> Slot(string id)
        => _handlers.GetOrAdd(id, static _ => new TaskCompletionSource<WebSocketHandler>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>
/// Class fixture: one plain (ws) and one TLS (wss) <see cref="TestServer"/> with the standard routes
/// and a 32 MiB message limit, shared by the tests of a class.
/// </summary>
public sealed class LoopbackFixture : IAsyncLifetime
{
    private TestServer? _plain;
    private TestServer? _secure;

    internal TestServer Plain => _plain ?? throw new InvalidOperationException("Not started.");

    internal TestServer Secure => _secure ?? throw new InvalidOperationException("Not started.");

    internal TestServer Get(bool secure) => secure ? Secure : Plain;

    public async Task InitializeAsync()
    {
        _plain = await TestServer.StartAsync(false, Configure);
        _secure = await TestServer.StartAsync(true, Configure);
    }

    public async Task DisposeAsync()
    {
        if (_plain is not null)
        {
            await _plain.DisposeAsync();
        }

        if (_secure is not null)
        {
            await _secure.DisposeAsync();
        }
    }

    internal static void Configure(WebSocketServerOptions options)
        => options.Connection.Protocol.MaxMessageSize = TestServer.LargeMessageLimit;
}
