using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ws4Net.Backplane;

namespace Ws4Net.Amqp;

/// <summary>
/// Registers the RabbitMQ backplane with a Generic Host: <c>services.AddWs4Net().AddRabbitMqBackplane("amqp://...")</c>.
/// The manager registered by <c>AddWs4Net</c> picks up the <see cref="IWebSocketBackplane"/>, so its broadcasts,
/// publishes and direct sends span every node; a hosted service connects it when the host starts (in the
/// background: a broker that is down does not stop the host) and disposes it when the host stops.
/// </summary>
public static class RabbitMqBackplaneServiceCollectionExtensions
{
    /// <summary>Registers the backplane with the options bound from the <c>Ws4Net:RabbitMq</c> section of the host's configuration (when there is one), then <paramref name="configure"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets options in code after configuration binding, or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddRabbitMqBackplane(this IServiceCollection services, Action<RabbitMqBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<RabbitMqBackplaneOptions> options = services.AddOptions<RabbitMqBackplaneOptions>();
        if (!services.Any(d => d.ServiceType == typeof(RabbitMqBackplane)))
        {
            options.Configure<IServiceProvider>(static (o, sp) =>
            {
                if (sp.GetService<IConfiguration>() is { } configuration)
                {
                    configuration.GetSection(RabbitMqBackplaneOptions.SectionName).Bind(o);
                }
            });
            options.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqBackplaneOptions>, RabbitMqBackplaneOptionsValidator>());
            services.AddSingleton(static sp => new RabbitMqBackplane(sp.GetRequiredService<IOptions<RabbitMqBackplaneOptions>>().Value, sp.GetService<ILoggerFactory>()));
            services.Replace(ServiceDescriptor.Singleton<IWebSocketBackplane>(static sp => sp.GetRequiredService<RabbitMqBackplane>()));
            services.AddHostedService<RabbitMqBackplaneHostedService>();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services;
    }

    /// <summary>Registers the backplane for the broker at <paramref name="uri"/> (other options from configuration or their defaults).</summary>
    /// <param name="services">The services.</param>
    /// <param name="uri">The broker URI, for example <c>amqp://guest:guest@127.0.0.1:5672/</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is null or empty.</exception>
    public static IServiceCollection AddRabbitMqBackplane(this IServiceCollection services, string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        return services.AddRabbitMqBackplane(o => o.Uri = uri);
    }

    /// <summary>Registers the backplane with its options bound from <paramref name="configuration"/> (a section holding the <see cref="RabbitMqBackplaneOptions"/> keys).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section.</param>
    /// <param name="configure">Sets options in code after binding, or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    public static IServiceCollection AddRabbitMqBackplane(this IServiceCollection services, IConfiguration configuration, Action<RabbitMqBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddRabbitMqBackplane();
        services.AddOptions<RabbitMqBackplaneOptions>().Bind(configuration);
        return configure is null ? services : services.AddRabbitMqBackplane(configure);
    }

    /// <summary>Starts the backplane with the host and disposes it when the host stops.</summary>
    private sealed class RabbitMqBackplaneHostedService(RabbitMqBackplane backplane) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            backplane.Start();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => backplane.DisposeAsync().AsTask().WaitAsync(cancellationToken);
    }

    /// <summary>Runs <see cref="RabbitMqBackplaneOptions.Validate"/> when the host starts.</summary>
    private sealed class RabbitMqBackplaneOptionsValidator : IValidateOptions<RabbitMqBackplaneOptions>
    {
        public ValidateOptionsResult Validate(string? name, RabbitMqBackplaneOptions options)
        {
            IReadOnlyList<string> errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
