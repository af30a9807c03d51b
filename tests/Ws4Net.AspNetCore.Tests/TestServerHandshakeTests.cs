using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using Ws4Net.Hosting;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>
/// The endpoint's answers to opening requests it rejects, through the in-memory TestServer (no sockets): the
/// status and headers come from the shared handshake result, and the endpoint conventions run first.
/// </summary>
public sealed class TestServerHandshakeTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        builder.Services.AddWs4Net(o => o.AllowedOrigins.Add("https://app.example"));
        builder.Services.AddSingleton(new Greeting());
        builder.Services.AddScoped<ScopedProbe>();
        builder.Services.AddAuthentication(HeaderAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>(HeaderAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapWebSocket<EchoHandler>("/ws");
        _app.MapWebSocket<EchoHandler>("/private").RequireAuthorization();
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private static HttpRequestMessage Upgrade(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        foreach ((string name, string value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Fact]
    public async Task A_missing_key_is_400_with_the_reason()
    {
        using HttpResponseMessage response = await _client.SendAsync(Upgrade("/ws", ("Sec-WebSocket-Version", "13"), ("Origin", "https://app.example")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Missing Sec-WebSocket-Key header.\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unsupported_version_is_426_naming_13()
    {
        using HttpResponseMessage response = await _client.SendAsync(
            Upgrade("/ws", ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "8"), ("Origin", "https://app.example")));

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Equal("13", response.Headers.GetValues("Sec-WebSocket-Version").Single());
    }

    [Fact]
    public async Task An_origin_outside_AllowedOrigins_of_AddWs4Net_is_403()
    {
        using HttpResponseMessage response = await _client.SendAsync(
            Upgrade("/ws", ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"), ("Origin", "https://evil.example")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Origin not allowed.\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_valid_upgrade_on_a_server_without_the_upgrade_feature_is_501_not_a_hang()
    {
        using HttpResponseMessage response = await _client.SendAsync(
            Upgrade("/ws", ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"), ("Origin", "https://app.example")));

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
    }

    [Fact]
    public async Task Authorization_runs_before_the_handshake()
    {
        using HttpResponseMessage response = await _client.SendAsync(Upgrade("/private"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_plain_get_is_426_and_a_head_has_no_body()
    {
        using HttpResponseMessage get = await _client.GetAsync("/ws");
        using HttpResponseMessage head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/ws"));

        Assert.Equal(HttpStatusCode.UpgradeRequired, get.StatusCode);
        Assert.Equal("websocket", get.Headers.GetValues("Upgrade").Single());
        Assert.StartsWith("This path speaks WebSocket", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UpgradeRequired, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }
}
