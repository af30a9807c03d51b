using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net.Amqp;
using Ws4Net.Hosting;
using Ws4Net.Management;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// The Generic Host that <c>ws4net serve</c> runs: console logging, the Ws4Net manager from
/// <see cref="Ws4NetServiceCollectionExtensions.AddWs4Net(IServiceCollection, Action{Ws4NetOptions}?)"/>,
/// the RabbitMQ backplane when <see cref="DemoServerOptions.AmqpUri"/> is set (<c>--amqp</c>), and the demo server as a
/// hosted service. Thread-safe (stateless).
/// </summary>
internal static class DemoHost
{
    /// <summary>Builds (does not start) the host.</summary>
    /// <param name="options">The demo server's settings; its <see cref="DemoServerOptions.Manager"/> and logger factory are set from the host's services.</param>
    /// <param name="logLevel">The minimum log level.</param>
    /// <param name="shutdownTimeout">How long the graceful shutdown waits for close handshakes.</param>
    /// <returns>The host.</returns>
    public static IHost Build(DemoServerOptions options, LogLevel logLevel, TimeSpan shutdownTimeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(logLevel).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout + TimeSpan.FromSeconds(5));
        builder.Services.AddWs4Net(o =>
        {
            o.ShutdownTimeout = shutdownTimeout;
            o.KeepAliveInterval = options.KeepAliveInterval;
            o.KeepAliveTimeout = options.KeepAliveTimeout;
            o.IdleTimeout = options.IdleTimeout;
            o.BackpressurePolicy = options.BackpressurePolicy;
            o.MaxMessageSize = options.MaxMessageSize;
        });
        if (options.NodeId is { } nodeId)
        {
            WebSocketConnection.NodeId = nodeId;
        }

        if (options.AmqpUri is { } amqp)
        {
            builder.Services.AddRabbitMqBackplane(o =>
            {
                o.Uri = amqp;
                o.ExchangeName = options.AmqpExchange;
                o.MaxReconnectDelay = options.AmqpMaxReconnectDelay;
                o.InitialReconnectDelay = TimeSpan.FromMilliseconds(Math.Min(500, options.AmqpMaxReconnectDelay.TotalMilliseconds));
            });
        }

        builder.Services.AddWs4NetServer(server => server.UseServer(services =>
        {
            options.Manager = services.GetRequiredService<WebSocketConnectionManager>();
            options.LoggerFactory = services.GetRequiredService<ILoggerFactory>();
            return DemoServer.Create(options);
        }));
        return builder.Build();
    }
}
