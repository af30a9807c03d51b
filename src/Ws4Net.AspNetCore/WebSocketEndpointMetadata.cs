namespace Ws4Net.AspNetCore;

/// <summary>
/// Endpoint metadata marking an endpoint mapped by <see cref="Ws4NetEndpointRouteBuilderExtensions"/> (read it with
/// <c>endpoint.Metadata.GetMetadata&lt;WebSocketEndpointMetadata&gt;()</c>, for example in middleware or OpenAPI filters).
/// Immutable.
/// </summary>
public sealed class WebSocketEndpointMetadata
{
    internal WebSocketEndpointMetadata(WebSocketEndpointOptions options)
    {
        Subprotocols = [.. options.Subprotocols];
        FallThroughNonWebSocketRequests = options.FallThroughNonWebSocketRequests;
    }

    /// <summary>Gets whether requests that are not WebSocket opening requests fall through to other endpoints (<see cref="WebSocketEndpointOptions.FallThroughNonWebSocketRequests"/>).</summary>
    public bool FallThroughNonWebSocketRequests { get; }

    /// <summary>Gets the subprotocols the endpoint speaks, in preference order (RFC 6455 §1.9).</summary>
    public IReadOnlyList<string> Subprotocols { get; }
}
