using Microsoft.AspNetCore.Http;

namespace Ws4Net.AspNetCore;

/// <summary>Reaches the ASP.NET Core request behind a Kestrel-accepted WebSocket.</summary>
public static class WebSocketUpgradeRequestExtensions
{
    /// <summary>
    /// Gets the <see cref="HttpContext"/> of the request that opened the connection (user, claims, features,
    /// request services, connection info), or <see langword="null"/> when the connection was not accepted by
    /// ASP.NET Core (the standalone server). It stays valid while the connection is open; it is not thread-safe,
    /// so read it from the handler's callbacks.
    /// </summary>
    /// <param name="request">The upgrade request (<c>WebSocketHandler.Request</c>).</param>
    /// <returns>The context, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> is null.</exception>
    public static HttpContext? GetHttpContext(this WebSocketUpgradeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.HostContext as HttpContext;
    }
}
