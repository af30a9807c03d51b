using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Ws4Net.Backplane;
using Ws4Net.Hosting;
using Ws4Net.Management;

namespace Ws4Net.Amqp.Tests;

/// <summary><c>AddWs4Net().AddRabbitMqBackplane(...)</c>: options bound from configuration and validated at start; the manager gets the backplane.</summary>
public sealed class HostingTests
{
    [Fact]
    public void TheManagerUsesTheRabbitMqBackplaneBoundFromConfiguration()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ws4Net:RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:1/",
            ["Ws4Net:RabbitMq:ExchangeName"] = "from-config",
            ["Ws4Net:RabbitMq:MaxPendingPublishes"] = "123",
            ["Ws4Net:RabbitMq:MaxReconnectDelay"] = "00:00:05",
        });
        builder.Services.AddWs4Net().AddRabbitMqBackplane(o => o.MaxQueuedMessages = 77);
        using IHost host = builder.Build();

        WebSocketConnectionManager manager = host.Services.GetRequiredService<WebSocketConnectionManager>();
        RabbitMqBackplane backplane = Assert.IsType<RabbitMqBackplane>(manager.Backplane);
        Assert.Same(backplane, host.Services.GetRequiredService<IWebSocketBackplane>());
        Assert.Equal("from-config", backplane.Options.ExchangeName);
        Assert.Equal(123, backplane.Options.MaxPendingPublishes);
        Assert.Equal(TimeSpan.FromSeconds(5), backplane.Options.MaxReconnectDelay);
        Assert.Equal(77, backplane.Options.MaxQueuedMessages);
        Assert.Equal(RabbitMqBackplaneState.NotStarted, backplane.State);
    }

    [Fact]
    public void TheUriOverloadAndAnExplicitSectionWork()
    {
        var services = new ServiceCollection();
        services.AddRabbitMqBackplane("amqp://u:p@127.0.0.1:1/vh");
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Equal("amqp://u:p@127.0.0.1:1/vh", provider.GetRequiredService<IOptions<RabbitMqBackplaneOptions>>().Value.Uri);

        IConfiguration section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ExchangeName"] = "sectioned" }).Build();
        var services2 = new ServiceCollection();
        services2.AddRabbitMqBackplane(section);
        using ServiceProvider provider2 = services2.BuildServiceProvider();
        Assert.Equal("sectioned", provider2.GetRequiredService<IOptions<RabbitMqBackplaneOptions>>().Value.ExchangeName);
    }

    [Fact]
    public async Task InvalidOptionsFailTheHostAtStart()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddWs4Net().AddRabbitMqBackplane(o => o.MaxPendingPublishes = 0);
        using IHost host = builder.Build();
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("MaxPendingPublishes", error.Message, StringComparison.Ordinal);
    }
}
