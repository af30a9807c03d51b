using System.Net;
using System.Net.WebSockets;
using BclCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using Ws4Net.Management;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>MapWebSocket on a real Kestrel over loopback, from .NET's ClientWebSocket over HTTP/1.1 and HTTP/2 (RFC 8441).</summary>
public sealed class KestrelWebSocketTests
{
    private static void MapAll(WebApplication app)
    {
        app.MapWebSocket<InfoHandler>("/info", o => o.Subprotocols.Add("chat.v1"));
        app.MapWebSocket<InfoHandler>("/rooms/{name:alpha}");
        app.MapWebSocket<InfoHandler>("/secure").RequireAuthorization();
        app.MapWebSocket<InfoHandler>("/admin").RequireAuthorization("admins");
        app.MapWebSocket<EchoHandler>("/origin", o => o.AllowedOrigins.Add("https://good.example"));
        app.MapWebSocket<EchoHandler>("/page", o => o.NonWebSocketRequest = ctx => ctx.Response.WriteAsync("a page"));
        app.MapWebSocket("/factory", (ctx, request) => new EchoHandler());
        app.MapWebSocket("/broken", (ctx, request) => throw new InvalidOperationException("no handler"));
        app.MapWebSocket<EchoHandler>("/hooked", o =>
        {
            o.Subprotocols.Add("a");
            o.SubprotocolSelector = offered => offered.Contains("b") ? "b" : null;
            o.OnHandshake = context =>
            {
                string? token = context.Request.Headers.TryGetValue("X-Token", out string? t) ? t : null;
                if (token is null)
                {
                    context.RejectUnauthorized("Bearer realm=\"chat\"");
                }
                else if (token == "busy")
                {
                    context.RejectTooManyRequests(TimeSpan.FromSeconds(7));
                }
                else
                {
                    Assert.NotNull(context.Services?.GetService(typeof(ScopedProbe)));
                    context.AddResponseHeader("X-Session", "s-" + token);
                }

                return ValueTask.CompletedTask;
            };
        });
    }

    [Theory]
    [InlineData(false, "HTTP/1.1")]
    [InlineData(true, "HTTP/2")]
    public async Task Echoes_and_shows_the_request_over_both_http_versions(bool http2, string protocol)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);
        using ClientWebSocket client = await host.ConnectAsync("/info?q=a%20b", http2, o =>
        {
            o.AddSubProtocol("other");
            o.AddSubProtocol("chat.v1");
            o.SetRequestHeader("X-Test", "header-value");
            o.SetRequestHeader("Cookie", "nick=zoe");
        });

        Assert.Equal(http2 ? HttpStatusCode.OK : HttpStatusCode.SwitchingProtocols, client.HttpStatusCode);
        Dictionary<string, string> info = ClientExtensions.ParseInfo(await client.ReceiveTextAsync());
        Assert.Equal(protocol, info["proto"]);
        Assert.Equal("chat.v1", info["sub"]);
        Assert.Equal("chat.v1", client.SubProtocol);
        Assert.Equal("a b", info["query"]);
        Assert.Equal("header-value", info["header"]);
        Assert.Equal("zoe", info["cookie"]);
        Assert.Equal("injected", info["greeting"]);
        Assert.Equal("True", info["scoped"]);
        Assert.Equal("True", info["remote"]);
        Assert.Equal("False", info["deflate"]);

        await client.SendTextAsync("ping over " + protocol);
        Assert.Equal("ping over " + protocol, await client.ReceiveTextAsync());
        byte[] big = new byte[200_000];
        Random.Shared.NextBytes(big);
        await client.SendAsync(big, WebSocketMessageType.Binary, true, CancellationToken.None);
        byte[] echoed = new byte[big.Length];
        int read = 0;
        while (read < echoed.Length)
        {
            read += (await client.ReceiveAsync(echoed.AsMemory(read), CancellationToken.None)).Count;
        }

        Assert.Equal(big, echoed);
        await client.CloseAsync(BclCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(BclCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Permessage_deflate_is_negotiated_over_both_http_versions(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll, o => o.Compression = true);
        using ClientWebSocket client = await host.ConnectAsync("/info", http2, o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());

        Assert.Contains("permessage-deflate", client.HttpResponseHeaders!["Sec-WebSocket-Extensions"].Single(), StringComparison.Ordinal);
        Dictionary<string, string> info = ClientExtensions.ParseInfo(await client.ReceiveTextAsync());
        Assert.Equal("True", info["deflate"]);
        string text = string.Concat(Enumerable.Repeat("compressible text ", 2000));
        await client.SendTextAsync(text);
        Assert.Equal(text, await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task An_endpoint_can_decline_compression_that_is_on_globally()
    {
        await using KestrelHost host = await KestrelHost.StartAsync(
            app => app.MapWebSocket<InfoHandler>("/plain", o => o.DisableCompression = true), o => o.Compression = true);
        using ClientWebSocket client = await host.ConnectAsync("/plain", http2: true, o => o.DangerousDeflateOptions = new WebSocketDeflateOptions());

        Assert.False(client.HttpResponseHeaders!.ContainsKey("Sec-WebSocket-Extensions"));
        Assert.Equal("False", ClientExtensions.ParseInfo(await client.ReceiveTextAsync())["deflate"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Route_template_values_reach_the_handler_and_constraints_apply(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);
        using ClientWebSocket client = await host.ConnectAsync("/rooms/lobby", http2);
        Assert.Equal("lobby", ClientExtensions.ParseInfo(await client.ReceiveTextAsync())["room"]);

        var rejected = await Assert.ThrowsAsync<WebSocketException>(() => host.ConnectAsync("/rooms/123", http2));
        Assert.Contains("404", rejected.Message + rejected.InnerException?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequireAuthorization_rejects_anonymous_and_admits_a_user_whose_claims_the_handler_sees(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);

        HttpStatusCode anonymous = await RejectedStatusAsync(host, "/secure", http2);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        HttpStatusCode notAdmin = await RejectedStatusAsync(host, "/admin", http2, o => o.SetRequestHeader("X-User", "bob"));
        Assert.Equal(HttpStatusCode.Forbidden, notAdmin);

        using ClientWebSocket client = await host.ConnectAsync("/admin", http2, o =>
        {
            o.SetRequestHeader("X-User", "alice");
            o.SetRequestHeader("X-Role", "admin");
        });
        Dictionary<string, string> info = ClientExtensions.ParseInfo(await client.ReceiveTextAsync());
        Assert.Equal("alice", info["user"]);
        Assert.Equal("admin", info["role"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_foreign_origin_gets_403_and_a_listed_one_connects(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);

        Assert.Equal(HttpStatusCode.Forbidden, await RejectedStatusAsync(host, "/origin", http2, o => o.SetRequestHeader("Origin", "https://evil.example")));
        Assert.Equal(HttpStatusCode.Forbidden, await RejectedStatusAsync(host, "/origin", http2));
        using ClientWebSocket client = await host.ConnectAsync("/origin", http2, o => o.SetRequestHeader("Origin", "https://good.example"));
        await client.SendTextAsync("ok");
        Assert.Equal("ok", await client.ReceiveTextAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plain_requests_get_426_or_the_configured_fallback(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);
        using var http = new HttpClient(new SocketsHttpHandler());
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{(http2 ? host.H2cPort : host.Http1Port)}/info")
        {
            Version = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using HttpResponseMessage response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Equal("13", response.Headers.GetValues("Sec-WebSocket-Version").Single());
        Assert.Equal(!http2, response.Headers.Contains("Upgrade"));

        string page = await http.GetStringAsync($"http://127.0.0.1:{host.Http1Port}/page");
        Assert.Equal("a page", page);
    }

    [Fact]
    public async Task A_handler_factory_that_throws_answers_500_and_the_delegate_overload_works()
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);

        Assert.Equal(HttpStatusCode.InternalServerError, await RejectedStatusAsync(host, "/broken", http2: false));
        using ClientWebSocket client = await host.ConnectAsync("/factory", http2: true);
        await client.SendTextAsync("from a delegate");
        Assert.Equal("from a delegate", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Kestrel_connections_join_the_manager_of_AddWs4Net_and_get_its_broadcasts_and_scopes_end_with_them()
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);
        WebSocketConnectionManager manager = host.Services.GetRequiredService<WebSocketConnectionManager>();
        int disposedBefore = ScopedProbe.Disposed;

        using ClientWebSocket h1 = await host.ConnectAsync("/info", http2: false);
        using ClientWebSocket h2 = await host.ConnectAsync("/info", http2: true);
        await h1.ReceiveTextAsync();
        await h2.ReceiveTextAsync();
        Assert.Equal(2, manager.Count);

        manager.Broadcast("to everyone");
        Assert.Equal("to everyone", await h1.ReceiveTextAsync());
        Assert.Equal("to everyone", await h2.ReceiveTextAsync());

        await h1.CloseAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
        await h2.CloseAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
        await WaitUntilAsync(() => manager.Count == 0 && ScopedProbe.Disposed >= disposedBefore + 2);
    }

    [Fact]
    public async Task Stopping_the_host_sends_1001_to_every_websocket_over_both_versions()
    {
        KestrelHost host = await KestrelHost.StartAsync(MapAll, o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        try
        {
            using ClientWebSocket h1 = await host.ConnectAsync("/info", http2: false);
            using ClientWebSocket h2 = await host.ConnectAsync("/info", http2: true);
            await h1.ReceiveTextAsync();
            await h2.ReceiveTextAsync();

            Task stop = host.App.StopAsync();
            Task<BclCloseStatus?> close1 = h1.ReceiveCloseAsync();
            Task<BclCloseStatus?> close2 = h2.ReceiveCloseAsync();
            Assert.Equal(BclCloseStatus.EndpointUnavailable, await close1);
            Assert.Equal(BclCloseStatus.EndpointUnavailable, await close2);
            await h1.CloseOutputAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
            await h2.CloseOutputAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
            await stop.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            await host.App.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_handshake_hook_rejects_with_any_status_and_headers_and_adds_headers_on_accept(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(MapAll);

        (HttpStatusCode status, IReadOnlyDictionary<string, IEnumerable<string>>? headers) = await RejectedAsync(host, "/hooked", http2);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer realm=\"chat\"", headers!["WWW-Authenticate"].Single());

        (status, headers) = await RejectedAsync(host, "/hooked", http2, o => o.SetRequestHeader("X-Token", "busy"));
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("7", headers!["Retry-After"].Single());

        using ClientWebSocket client = await host.ConnectAsync("/hooked", http2, o =>
        {
            o.SetRequestHeader("X-Token", "abc");
            o.AddSubProtocol("a");
            o.AddSubProtocol("b");
        });
        Assert.Equal("s-abc", client.HttpResponseHeaders!["X-Session"].Single());
        Assert.Equal("b", client.SubProtocol);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequireRateLimiting_and_metadata_apply_to_the_opening_request(bool http2)
    {
        await using KestrelHost host = await KestrelHost.StartAsync(app =>
        {
            app.MapWebSocket<EchoHandler>("/limited", o => o.Subprotocols.Add("p1"))
                .RequireRateLimiting("one")
                .WithMetadata(new EndpointTag("tagged"));
        }, configureServices: services => services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddFixedWindowLimiter("one", w =>
            {
                w.PermitLimit = 1;
                w.Window = TimeSpan.FromHours(1);
                w.QueueLimit = 0;
            });
        }), configureApp: app => app.UseRateLimiter());

        var endpoints = host.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints;
        Endpoint endpoint = Assert.Single(endpoints, e => e.Metadata.GetMetadata<EndpointTag>() is not null);
        Assert.Equal(["p1"], endpoint.Metadata.GetMetadata<WebSocketEndpointMetadata>()!.Subprotocols);

        using ClientWebSocket first = await host.ConnectAsync("/limited", http2);
        Assert.Equal(HttpStatusCode.TooManyRequests, await RejectedStatusAsync(host, "/limited", http2));
    }

    private sealed record EndpointTag(string Name);

    private static async Task<HttpStatusCode> RejectedStatusAsync(KestrelHost host, string path, bool http2, Action<ClientWebSocketOptions>? configure = null)
        => (await RejectedAsync(host, path, http2, configure)).Status;

    private static async Task<(HttpStatusCode Status, IReadOnlyDictionary<string, IEnumerable<string>>? Headers)> RejectedAsync(KestrelHost host, string path, bool http2, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(client.Options);
        Uri uri = host.Url(path, http2);
        if (http2)
        {
            client.Options.HttpVersion = HttpVersion.Version20;
            client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(uri, invoker, CancellationToken.None));
        return (client.HttpStatusCode, client.HttpResponseHeaders);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 20 s");
            await Task.Delay(20);
        }
    }
}
