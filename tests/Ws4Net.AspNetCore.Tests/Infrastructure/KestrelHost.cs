using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net.Hosting;

namespace Ws4Net.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A real Kestrel on loopback with two listeners: cleartext HTTP/1.1 (<see cref="Http1Port"/>) and cleartext
/// HTTP/2 with prior knowledge (<see cref="H2cPort"/>), plus the test services (a header authentication scheme,
/// authorization, a singleton <see cref="Greeting"/>, a scoped <see cref="ScopedProbe"/>).
/// </summary>
public sealed class KestrelHost : IAsyncDisposable
{
    private KestrelHost(WebApplication app, int http1Port, int h2cPort)
    {
        App = app;
        Http1Port = http1Port;
        H2cPort = h2cPort;
    }

    public WebApplication App { get; }

    public int Http1Port { get; }

    public int H2cPort { get; }

    public IServiceProvider Services => App.Services;

    public Uri Url(string pathAndQuery, bool http2) => new($"ws://127.0.0.1:{(http2 ? H2cPort : Http1Port)}{pathAndQuery}");

    public static async Task<KestrelHost> StartAsync(
        Action<WebApplication> map,
        Action<Ws4NetOptions>? configure = null,
        TimeSpan? hostShutdownTimeout = null,
        Action<IServiceCollection>? configureServices = null,
        Action<WebApplication>? configureApp = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = hostShutdownTimeout ?? TimeSpan.FromSeconds(10));
        builder.Services.AddWs4Net(o =>
        {
            o.KeepAliveInterval = TimeSpan.Zero;
            configure?.Invoke(o);
        });
        builder.Services.AddSingleton(new Greeting { Text = "injected" });
        builder.Services.AddScoped<ScopedProbe>();
        builder.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(o => o.AddPolicy("admins", p => p.RequireClaim("role", "admin")));
        configureServices?.Invoke(builder.Services);
        WebApplication app = builder.Build();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        configureApp?.Invoke(app);
        map(app);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        int[] ports = app.Urls.Select(u => new Uri(u).Port).ToArray();
        return new KestrelHost(app, ports[0], ports[1]);
    }

    /// <summary>Connects .NET's <see cref="ClientWebSocket"/> over HTTP/1.1, or over HTTP/2 (RFC 8441) with an invoker that speaks h2c by prior knowledge.</summary>
    public async Task<ClientWebSocket> ConnectAsync(string pathAndQuery, bool http2, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(client.Options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        if (http2)
        {
            client.Options.HttpVersion = HttpVersion.Version20;
            client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
            await client.ConnectAsync(Url(pathAndQuery, http2: true), invoker, timeout.Token);
        }
        else
        {
            await client.ConnectAsync(Url(pathAndQuery, http2: false), timeout.Token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
