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
    }

    /// <summary>Gets the subprotocols the endpoint speaks, in preference order (RFC 6455 §1.9).</summary>
    public IReadOnlyList<string> Subprotocols { get; }
}
