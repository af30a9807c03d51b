using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ws4Net.Management;

namespace Ws4Net.AspNetCore;

/// <summary>
/// Ties the manager of Kestrel-accepted WebSockets to the host's lifetime: when the application starts stopping
/// (Ctrl-C, SIGTERM, <see cref="IHostApplicationLifetime.StopApplication"/>), every registered connection gets
/// close 1001 after what it had queued, and those that have not finished their close handshake within
/// <c>Ws4NetOptions.ShutdownTimeout</c> are aborted. Kestrel meanwhile waits (up to the host's shutdown
/// timeout) for the WebSocket requests, which end as their connections close. Registered once per manager.
/// </summary>
internal static class Ws4NetShutdown
{
    private static readonly ConditionalWeakTable<WebSocketConnectionManager, object> s_registered = new();

    public static void EnsureRegistered(IServiceProvider services, WebSocketConnectionManager manager, TimeSpan timeout)
    {
        if (services.GetService<IHostApplicationLifetime>() is not { } lifetime)
        {
            return;
        }

        bool added = false;
        s_registered.GetValue(manager, _ =>
        {
            added = true;
            return new object();
        });
        if (!added)
        {
            return;
        }

        lifetime.ApplicationStopping.Register(static state =>
        {
            var (manager, timeout) = ((WebSocketConnectionManager, TimeSpan))state!;
            _ = manager.ShutdownAsync(timeout);
        }, (manager, timeout));
    }
}
