using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ws4Net.Management;

namespace Ws4Net.Hosting;

/// <summary>Registers Ws4Net with a Generic Host's services.</summary>
public static class Ws4NetServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="Ws4NetOptions"/> (validated when the host starts, by <see cref="Ws4NetOptionsValidator"/>)
    /// and a singleton <see cref="WebSocketConnectionManager"/> built from them (with the registered <see cref="Backplane.IWebSocketBackplane"/>,
    /// if any, for example <c>AddRabbitMqBackplane</c> from Ws4Net.Amqp). Safe to call more than once; each
    /// <paramref name="configure"/> is applied in order.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets options in code (after configuration binding), or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddWs4Net(this IServiceCollection services, Action<Ws4NetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<Ws4NetOptions> options = services.AddOptions<Ws4NetOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(Ws4NetMarker)))
        {
            return services;
        }

        services.AddSingleton<Ws4NetMarker>();
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Ws4NetOptions>, Ws4NetOptionsValidator>());
        services.TryAddSingleton(static sp => new WebSocketConnectionManager(
            Ws4NetOptionsMapper.ToManagerOptions(sp.GetRequiredService<IOptions<Ws4NetOptions>>().Value),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<Backplane.IWebSocketBackplane>()));
        return services;
    }

    /// <summary>
    /// Like <see cref="AddWs4Net(IServiceCollection, Action{Ws4NetOptions}?)"/>, binding the options from
    /// <paramref name="configuration"/> (typically <c>builder.Configuration.GetSection(Ws4NetOptions.SectionName)</c>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section holding the <see cref="Ws4NetOptions"/> keys.</param>
    /// <param name="configure">Sets options in code after binding, or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    public static IServiceCollection AddWs4Net(this IServiceCollection services, IConfiguration configuration, Action<Ws4NetOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<Ws4NetOptions>().Bind(configuration);
        return services.AddWs4Net(configure);
    }

    /// <summary>
    /// Runs the standalone <see cref="Server.WebSocketServer"/> as a hosted service (<see cref="Ws4NetHostedServer"/>),
    /// with the routes and settings given to <paramref name="configure"/>; registers the Ws4Net options and
    /// manager if <c>AddWs4Net</c> was not called. The host's lifetime (Ctrl-C, SIGTERM) drives the graceful
    /// shutdown. Call once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Maps routes and adjusts the server.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A Ws4Net server is already registered.</exception>
    public static IServiceCollection AddWs4NetServer(this IServiceCollection services, Action<Ws4NetServerBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(Ws4NetServerBuilder)))
        {
            throw new InvalidOperationException("AddWs4NetServer is called once per host.");
        }

        services.AddWs4Net();
        var builder = new Ws4NetServerBuilder();
        configure(builder);
        services.AddSingleton(builder);
        services.AddSingleton<Ws4NetHostedServer>();
        services.AddHostedService(static sp => sp.GetRequiredService<Ws4NetHostedServer>());
        return services;
    }

    private sealed class Ws4NetMarker;
}
