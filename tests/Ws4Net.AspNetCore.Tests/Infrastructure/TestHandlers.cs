using System.Text;

namespace Ws4Net.AspNetCore.Tests.Infrastructure;

/// <summary>A singleton service a handler gets by constructor injection.</summary>
public sealed class Greeting
{
    public string Text { get; init; } = "hello";
}

/// <summary>A scoped service: one per request, which is one per WebSocket; records its disposal.</summary>
public sealed class ScopedProbe : IDisposable
{
    private static int s_disposed;

    public static int Disposed => Volatile.Read(ref s_disposed);

    public Guid Id { get; } = Guid.NewGuid();

    public void Dispose() => Interlocked.Increment(ref s_disposed);
}

/// <summary>
/// Sends one line describing what it sees of the opening request (protocol, user, subprotocol, compression,
/// route values, cookie, query, header, injected services), then echoes every message.
/// </summary>
public sealed class InfoHandler(Greeting greeting, ScopedProbe probe) : WebSocketHandler
{
    protected override ValueTask OnOpenAsync()
    {
        WebSocketUpgradeRequest request = Request!;
        Microsoft.AspNetCore.Http.HttpContext context = request.GetHttpContext()!;
        var info = new StringBuilder()
            .Append("proto=").Append(context.Request.Protocol)
            .Append(";user=").Append(request.User.Identity?.Name ?? "-")
            .Append(";role=").Append(request.User.FindFirst("role")?.Value ?? "-")
            .Append(";sub=").Append(Connection.Subprotocol ?? "-")
            .Append(";deflate=").Append(Connection.PerMessageDeflate is not null)
            .Append(";room=").Append(request.RouteValues.TryGetValue("name", out string? room) ? room : "-")
            .Append(";cookie=").Append(request.Cookies.TryGetValue("nick", out string? nick) ? nick : "-")
            .Append(";query=").Append(request.Query.TryGetValue("q", out string? q) ? q : "-")
            .Append(";header=").Append(request.Headers.TryGetValue("X-Test", out string? h) ? h : "-")
            .Append(";greeting=").Append(greeting.Text)
            .Append(";scoped=").Append(ReferenceEquals(probe, context.RequestServices.GetService(typeof(ScopedProbe))))
            .Append(";remote=").Append(request.RemoteEndPoint is not null)
            .ToString();
        return SendTextAsync(info);
    }

    protected override async ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText)
        {
            await SendTextAsync(message.GetText());
        }
        else
        {
            await SendBinaryAsync(message.ToArray());
        }
    }
}

/// <summary>Echoes every message.</summary>
public sealed class EchoHandler : WebSocketHandler
{
    protected override async ValueTask OnMessageAsync(WebSocketMessage message)
    {
        if (message.IsText)
        {
            await SendTextAsync(message.GetText());
        }
        else
        {
            await SendBinaryAsync(message.ToArray());
        }
    }
}
