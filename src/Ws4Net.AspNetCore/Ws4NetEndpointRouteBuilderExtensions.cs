using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Ws4Net.Management;

namespace Ws4Net.AspNetCore;

/// <summary>
/// Maps Ws4Net WebSocket endpoints into ASP.NET Core endpoint routing. Each endpoint accepts HTTP/1.1 upgrades
/// (RFC 6455 §4, through <c>IHttpUpgradeFeature</c>) and HTTP/2 extended CONNECT (RFC 8441, through
/// <c>IHttpExtendedConnectFeature</c>) with one negotiation of subprotocol and permessage-deflate, and runs the
/// connection on the Ws4Net core (the adapter never parses frames). Connections join the
/// <see cref="WebSocketConnectionManager"/> registered by <c>services.AddWs4Net()</c>, the same one the standalone server
/// uses, and get close 1001 when the host stops.
/// </summary>
public static class Ws4NetEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <paramref name="pattern"/> to WebSocket connections served by <typeparamref name="THandler"/>, one instance
    /// per connection built from the request's services (constructor injection; scoped services live as long as
    /// the connection, which is the request).
    /// </summary>
    /// <typeparam name="THandler">The handler type; registered services and the constructor's other parameters are resolved by <see cref="ActivatorUtilities"/>.</typeparam>
    /// <param name="endpoints">The route builder (a <c>WebApplication</c>).</param>
    /// <param name="pattern">An ASP.NET Core route pattern, for example <c>/chat</c> or <c>/rooms/{name:alpha}</c>; the values are on <see cref="WebSocketUpgradeRequest.RouteValues"/>.</param>
    /// <param name="configure">Sets the endpoint's subprotocols, origins, compression and fallback, or <see langword="null"/>.</param>
    /// <returns>The endpoint's convention builder: <c>RequireAuthorization</c>, <c>RequireRateLimiting</c>, <c>WithMetadata</c> and the like apply to the opening request.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> or <paramref name="pattern"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>services.AddWs4Net()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapWebSocket<THandler>(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern,
        Action<WebSocketEndpointOptions>? configure = null)
        where THandler : WebSocketHandler
        => endpoints.MapWebSocket(
            pattern,
            static (context, _) => ActivatorUtilities.GetServiceOrCreateInstance<THandler>(context.RequestServices),
            configure);

    /// <summary>
    /// Maps <paramref name="pattern"/> to WebSocket connections served by the handler <paramref name="handlerFactory"/>
    /// builds for each accepted request (after the handshake is validated and before the 101 or 200 is sent; an
    /// exception answers 500).
    /// </summary>
    /// <param name="endpoints">The route builder (a <c>WebApplication</c>).</param>
    /// <param name="pattern">An ASP.NET Core route pattern, for example <c>/echo</c>.</param>
    /// <param name="handlerFactory">Builds a fresh handler from the request's <see cref="HttpContext"/> (user, services, headers) and the upgrade request; must be thread-safe.</param>
    /// <param name="configure">Sets the endpoint's subprotocols, origins, compression and fallback, or <see langword="null"/>.</param>
    /// <returns>The endpoint's convention builder.</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="configure"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><c>services.AddWs4Net()</c> was not called, or
    /// <see cref="WebSocketEndpointOptions.FallThroughNonWebSocketRequests"/> is set without <c>services.AddWs4NetRouting()</c>.</exception>
    public static IEndpointConventionBuilder MapWebSocket(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern,
        Func<HttpContext, WebSocketUpgradeRequest, WebSocketHandler> handlerFactory,
        Action<WebSocketEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        if (endpoints.ServiceProvider.GetService<WebSocketConnectionManager>() is null)
        {
            throw new InvalidOperationException("Call services.AddWs4Net() (Ws4Net.Hosting) before mapping WebSocket endpoints.");
        }

        var options = new WebSocketEndpointOptions();
        configure?.Invoke(options);
        if (options.FallThroughNonWebSocketRequests
            && !endpoints.ServiceProvider.GetServices<MatcherPolicy>().OfType<WebSocketMatcherPolicy>().Any())
        {
            throw new InvalidOperationException("FallThroughNonWebSocketRequests needs services.AddWs4NetRouting() before Build().");
        }

        var endpoint = new WebSocketEndpoint(endpoints.ServiceProvider, handlerFactory, options);
        return endpoints.Map(pattern, endpoint.HandleAsync)
            .WithDisplayName("WebSocket " + pattern)
            .WithMetadata(new WebSocketEndpointMetadata(options));
    }
}
