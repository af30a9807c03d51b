using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace Ws4Net.AspNetCore;

/// <summary>
/// Endpoint selection between Ws4Net WebSocket endpoints and other endpoints of the same route: an opening
/// request (HTTP/1.1 <c>Upgrade: websocket</c>, RFC 6455 §4.1; HTTP/2 extended CONNECT with
/// <c>:protocol = websocket</c>, RFC 8441 §4) keeps only the WebSocket candidates when there is one; any other
/// request drops the WebSocket candidates that asked to fall through
/// (<see cref="WebSocketEndpointOptions.FallThroughNonWebSocketRequests"/>). Registered by
/// <see cref="Ws4NetRoutingServiceCollectionExtensions.AddWs4NetRouting"/>. Stateless and thread-safe.
/// </summary>
internal sealed class WebSocketMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <inheritdoc />
    public override int Order => 0;

    /// <inheritdoc />
    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (Endpoint endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<WebSocketEndpointMetadata>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        bool opening = IsOpeningRequest(httpContext);
        bool anyWebSocket = false;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<WebSocketEndpointMetadata>() is not null)
            {
                anyWebSocket = true;
                break;
            }
        }

        if (!anyWebSocket)
        {
            return Task.CompletedTask;
        }

        for (int i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i))
            {
                continue;
            }

            WebSocketEndpointMetadata? metadata = candidates[i].Endpoint.Metadata.GetMetadata<WebSocketEndpointMetadata>();
            if (opening ? metadata is null : metadata is { FallThroughNonWebSocketRequests: true })
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether the request opens a WebSocket: an HTTP/1.1 upgrade to <c>websocket</c> or an RFC 8441 extended CONNECT.</summary>
    internal static bool IsOpeningRequest(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            return string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        return WebSocketEndpoint.HasWebSocketUpgradeHeader(context.Request);
    }
}
