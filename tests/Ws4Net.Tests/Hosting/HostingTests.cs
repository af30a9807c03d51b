using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Ws4Net.Client;
using Ws4Net.Hosting;
using Ws4Net.Management;
using Ws4Net.Tests.Management;

namespace Ws4Net.Tests.Hosting;

/// <summary>The Generic Host integration: options bound and validated at start, DI-resolved handlers with a scope per connection, graceful stop.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_naming_each_setting()
    {
        using IHost host = BuildHost(new Dictionary<string, string?>
        {
            ["Ws4Net:Port"] = "70000",
            ["Ws4Net:Address"] = "not-an-ip",
            ["Ws4Net:MaxTopicsPerConnection"] = "0",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WithTimeout());
        Assert.Contains(error.Failures, f => f.Contains("Ws4Net:Port", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Ws4Net:Address", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxTopicsPerConnection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Options_bind_from_configuration_into_the_manager_and_the_server()
    {
        using IHost host = BuildHost(new Dictionary<string, string?>
        {
            ["Ws4Net:MaxTopicsPerConnection"] = "3",
            ["Ws4Net:ShutdownTimeout"] = "00:00:02",
            ["Ws4Net:MaxMessageSize"] = "1234",
        });
        await host.StartAsync().WithTimeout();
        var manager = host.Services.GetRequiredService<WebSocketConnectionManager>();
        var hosted = host.Services.GetRequiredService<Ws4NetHostedServer>();
        Assert.Equal(3, manager.Options.MaxTopicsPerConnection);
        Assert.Same(manager, hosted.Server.Manager);
        Assert.Equal(TimeSpan.FromSeconds(2), hosted.Server.Options.ShutdownTimeout);
        Assert.Equal(1234, hosted.Server.Options.Connection.Protocol.MaxMessageSize);
        await host.StopAsync().WithTimeout();
    }

    [Fact]
    public async Task Handlers_come_from_DI_with_a_scope_per_connection_inject_the_manager_and_stop_closes_with_1001()
    {
        using IHost host = BuildHost([]);
        await host.StartAsync().WithTimeout();
        var hosted = host.Services.GetRequiredService<Ws4NetHostedServer>();
        int port = ((IPEndPoint)hosted.Server.LocalEndPoint!).Port;

        WebSocketConnection alice = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/room")).WithTimeout();
        WebSocketConnection bob = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/room")).WithTimeout();
        var aliceInbox = new MessageCollector(alice);
        var bobInbox = new MessageCollector(bob);
        await ManagerRegistryTests.WaitUntilAsync(() => host.Services.GetRequiredService<WebSocketConnectionManager>().GetSubscriberCount("room") == 2, TimeSpan.FromSeconds(10));

        await alice.SendTextAsync("hello");
        Assert.StartsWith("hello from scope ", (await bobInbox.NextAsync()).Text, StringComparison.Ordinal);
        Assert.True(await aliceInbox.NothingWithinAsync(TimeSpan.FromMilliseconds(100)));

        // Each connection has its own scope, disposed after it closed.
        Assert.Equal(2, ScopedProbe.Created);
        await alice.CloseAsync();
        await aliceInbox.Loop.WithTimeout();
        await ManagerRegistryTests.WaitUntilAsync(() => ScopedProbe.Disposed == 1, TimeSpan.FromSeconds(10));

        await host.StopAsync().WithTimeout();
        await bobInbox.Loop.WithTimeout();
        Assert.Equal(WebSocketCloseCode.GoingAway, bob.CloseStatus?.Code);
        await ManagerRegistryTests.WaitUntilAsync(() => ScopedProbe.Disposed == 2, TimeSpan.FromSeconds(10));
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        settings.TryAdd("Ws4Net:Port", "0");
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddScoped<ScopedProbe>();
        builder.Services.AddWs4Net(builder.Configuration.GetSection(Ws4NetOptions.SectionName));
        builder.Services.AddWs4NetServer(server => server.Map<RoomHandler>("/room"));
        return builder.Build();
    }

    /// <summary>A scoped service: counts instances and disposals across the test class.</summary>
    private sealed class ScopedProbe : IDisposable
    {
        private static int s_created;
        private static int s_disposed;

        public ScopedProbe() => Number = Interlocked.Increment(ref s_created);

        public static int Created => Volatile.Read(ref s_created);

        public static int Disposed => Volatile.Read(ref s_disposed);

        public int Number { get; }

        public void Dispose() => Interlocked.Increment(ref s_disposed);
    }

    /// <summary>Joins the "room" topic and relays each text to the others, via the injected manager.</summary>
    private sealed class RoomHandler(WebSocketConnectionManager manager, ScopedProbe probe) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync()
        {
            manager.Subscribe(Connection, "room");
            return ValueTask.CompletedTask;
        }

        protected override ValueTask OnMessageAsync(WebSocketMessage message)
        {
            manager.Publish("room", $"{message.GetText()} from scope {probe.Number}", except: Connection);
            return ValueTask.CompletedTask;
        }
    }
}
