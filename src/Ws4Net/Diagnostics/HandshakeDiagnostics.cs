using System.Diagnostics;
using System.Globalization;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Ws4Net.Client;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;
using static Ws4Net.Diagnostics.Ws4NetDiagnostics;

namespace Ws4Net.Diagnostics;

/// <summary>
/// The opening handshake, observed: the <c>Ws4Net</c> activity source (one activity per server or client
/// handshake), the <see cref="HandshakeFailures"/> counter, and the log events of rejected and failed
/// handshakes (103, 104 on the server, 44 on the client). Thread-safe; stateless.
/// </summary>
internal static partial class HandshakeDiagnostics
{
    private static readonly ActivitySource s_source = new(ActivitySourceName, typeof(HandshakeDiagnostics).Assembly.GetName().Version?.ToString(3));

    /// <summary>Starts the server handshake activity (null when nobody listens); its parent is the request's W3C <c>traceparent</c> header when present.</summary>
    public static Activity? StartServer(HttpRequestHead head, string path)
    {
        if (!s_source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        if (head.Headers.TryGetValue("traceparent", out string? traceParent))
        {
            head.Headers.TryGetValue("tracestate", out string? traceState);
            ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
        }

        Activity? activity = s_source.StartActivity(ServerHandshakeActivity, ActivityKind.Server, parent);
        activity?.SetTag(UrlPathTag, path);
        return activity;
    }

    /// <summary>The server answered 101: tags the activity with what was negotiated.</summary>
    public static void ServerAccepted(Activity? activity, ServerHandshakeResult result)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(HttpStatusCodeTag, 101);
        activity.SetTag(SubprotocolTag, result.Subprotocol);
        activity.SetTag(ExtensionsTag, result.PerMessageDeflate?.ToHeaderValue());
    }

    /// <summary>The server refused an upgrade request with an HTTP status: counts it (error.type = the status), tags the activity and logs event 103.</summary>
    public static void ServerRejected(ILogger logger, Activity? activity, string? remote, string? path, int status, string reason)
    {
        string errorType = status.ToString(CultureInfo.InvariantCulture);
        Ws4NetMetrics.HandshakeFailed(WebSocketRole.Server, errorType, status);
        if (activity is not null)
        {
            activity.SetTag(HttpStatusCodeTag, status);
            activity.SetTag(ErrorTypeTag, errorType);
            activity.SetStatus(ActivityStatusCode.Error, reason);
        }

        LogRejected(logger, remote, path ?? "-", status, reason);
    }

    /// <summary>The server's handshake ended without an answer (timeout, TLS, I/O): counts it and logs event 104.</summary>
    public static void ServerFailed(ILogger logger, string? remote, Exception error)
    {
        string errorType = error switch
        {
            OperationCanceledException => "timeout",
            AuthenticationException => "tls_error",
            _ => "io_error",
        };
        Ws4NetMetrics.HandshakeFailed(WebSocketRole.Server, errorType, 0);
        LogHandshakeFailed(logger, remote, errorType, error.Message);
    }

    /// <summary>Starts the client handshake activity (null when nobody listens).</summary>
    public static Activity? StartClient(Uri uri)
    {
        if (!s_source.HasListeners())
        {
            return null;
        }

        Activity? activity = s_source.StartActivity(ClientHandshakeActivity, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag(ServerAddressTag, uri.Host);
            activity.SetTag(UrlPathTag, uri.AbsolutePath);
        }

        return activity;
    }

    /// <summary>The client's attempt ended with a connection (101) or a redirect to follow (3xx).</summary>
    public static void ClientCompleted(Activity? activity, WebSocketConnection? connection, int redirectStatus)
    {
        if (activity is null)
        {
            return;
        }

        if (connection is null)
        {
            activity.SetTag(HttpStatusCodeTag, redirectStatus);
            return;
        }

        activity.SetTag(HttpStatusCodeTag, 101);
        activity.SetTag(SubprotocolTag, connection.Subprotocol);
        activity.SetTag(ExtensionsTag, connection.PerMessageDeflate?.ToHeaderValue());
    }

    /// <summary>The client's attempt failed: counts it (error.type from <see cref="WebSocketConnectException.Error"/>), tags the activity and logs event 44.</summary>
    public static void ClientFailed(ILogger? logger, Activity? activity, WebSocketConnectException error)
    {
        string errorType = ErrorType(error.Error);
        Ws4NetMetrics.HandshakeFailed(WebSocketRole.Client, errorType, error.StatusCode);
        if (activity is not null)
        {
            activity.SetTag(ErrorTypeTag, errorType);
            if (error.StatusCode != 0)
            {
                activity.SetTag(HttpStatusCodeTag, error.StatusCode);
            }

            activity.SetStatus(ActivityStatusCode.Error, error.Message);
        }

        if (logger is not null)
        {
            LogClientFailed(logger, error.Uri, errorType, error.StatusCode, error.Message);
        }
    }

    /// <summary>The caller cancelled the client's attempt.</summary>
    public static void ClientCanceled(Activity? activity)
    {
        Ws4NetMetrics.HandshakeFailed(WebSocketRole.Client, "canceled", 0);
        activity?.SetTag(ErrorTypeTag, "canceled");
        activity?.SetStatus(ActivityStatusCode.Error, "canceled");
    }

    internal static string ErrorType(WebSocketConnectError error) => error switch
    {
        WebSocketConnectError.NameResolution => "name_resolution",
        WebSocketConnectError.ConnectionRefused => "connection_refused",
        WebSocketConnectError.Network => "network",
        WebSocketConnectError.Timeout => "timeout",
        WebSocketConnectError.Tls => "tls_error",
        WebSocketConnectError.HttpStatus => "http_status",
        WebSocketConnectError.Handshake => "invalid_response",
        WebSocketConnectError.Proxy => "proxy",
        WebSocketConnectError.ProxyAuthenticationRequired => "proxy_authentication",
        WebSocketConnectError.Redirect => "redirect",
        _ => "_OTHER",
    };

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Rejected upgrade from {Remote} on {Path}: {Status} {Reason}")]
    private static partial void LogRejected(ILogger logger, string? remote, string path, int status, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Handshake with {Remote} failed ({ErrorType}): {Error}")]
    private static partial void LogHandshakeFailed(ILogger logger, string? remote, string errorType, string error);

    [LoggerMessage(EventId = 44, Level = LogLevel.Debug, Message = "Handshake with {Uri} failed ({ErrorType}, status {Status}): {Error}")]
    private static partial void LogClientFailed(ILogger logger, Uri? uri, string errorType, int status, string error);
}
