using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ws4Net.AspNetCore;

/// <summary>Service registration for how Ws4Net WebSocket endpoints share routes with other endpoints.</summary>
public static class Ws4NetRoutingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the endpoint selection policy that lets a WebSocket endpoint and ordinary endpoints share a route:
    /// opening requests go to the WebSocket endpoint, and other requests fall through to the ordinary ones when the
    /// WebSocket endpoint sets <see cref="WebSocketEndpointOptions.FallThroughNonWebSocketRequests"/>. Call it on the
    /// builder's services before <c>Build()</c>; calling it twice registers the policy once. Thread-safe as any
    /// service registration is not: call it during start-up.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddWs4NetRouting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, WebSocketMatcherPolicy>());
        return services;
    }
}
