using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ws4Net.Hosting;
using Ws4Net.Management;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.AspNetCore;

/// <summary>
/// The request delegate behind one mapped path: validates and negotiates the opening request with the shared
/// sans-I/O handshake (HTTP/1.1 upgrade or RFC 8441 extended CONNECT), answers rejections from the result's data,
/// takes the upgraded stream from Kestrel and runs a <see cref="WebSocketConnection"/> over it until it closes.
/// Frames are never parsed here. Thread-safe: the settings are built once, on the first request.
/// </summary>
internal sealed partial class WebSocketEndpoint
{
    private readonly Func<HttpContext, WebSocketUpgradeRequest, WebSocketHandler> _handlerFactory;
    private readonly WebSocketEndpointOptions _endpointOptions;
    private readonly IServiceProvider _services;
    private Settings? _settings;

    public WebSocketEndpoint(IServiceProvider services, Func<HttpContext, WebSocketUpgradeRequest, WebSocketHandler> handlerFactory, WebSocketEndpointOptions options)
    {
        _services = services;
        _handlerFactory = handlerFactory;
        _endpointOptions = options;
    }

    public async Task HandleAsync(HttpContext context)
    {
        Settings settings = _settings ??= BuildSettings();
        IHttpExtendedConnectFeature? connect = context.Features.Get<IHttpExtendedConnectFeature>();
        IHttpUpgradeFeature? upgrade = context.Features.Get<IHttpUpgradeFeature>();
        bool extendedConnect = connect?.IsExtendedConnect == true;
        bool http11 = HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol);
        if (!extendedConnect && !(http11 && HasWebSocketUpgradeHeader(context.Request)))
        {
            await AnswerPlainRequestAsync(context, http11).ConfigureAwait(false);
            return;
        }

        HttpRequestHead head = ToRequestHead(context);
        ServerHandshakeRequest request = extendedConnect
            ? ServerHandshakeRequest.ForExtendedConnect(context.Request.Method, connect!.Protocol, head.Headers, context.Request.Protocol)
            : ServerHandshakeRequest.FromHttp11(head);
        ServerHandshakeResult result = ServerHandshake.Negotiate(request, settings.Handshake);
        if (!result.IsAccepted)
        {
            LogRejected(settings.Logger, context.Connection.RemoteIpAddress?.ToString(), context.Request.Path, result.StatusCode, result.Reason);
            await WriteRejectionAsync(context, result.StatusCode, result.Reason, result.ResponseHeaders).ConfigureAwait(false);
            return;
        }

        if (!extendedConnect && upgrade?.IsUpgradableRequest != true)
        {
            // Valid as WebSocket, but this server cannot hand the connection over (for example an in-memory test server).
            await WriteRejectionAsync(context, StatusCodes.Status501NotImplemented, "This server cannot upgrade HTTP/1.1 connections.", []).ConfigureAwait(false);
            return;
        }

        var upgradeRequest = new WebSocketUpgradeRequest(
            head,
            context.Connection.RemoteIpAddress is { } remote ? new IPEndPoint(remote, context.Connection.RemotePort) : null,
            context.Connection.LocalIpAddress is { } local ? new IPEndPoint(local, context.Connection.LocalPort) : null,
            context.Request.IsHttps,
            result.Subprotocol)
        {
            User = context.User,
            RouteValues = ToRouteValues(context.Request.RouteValues),
            HostContext = context,
        };

        IReadOnlyList<KeyValuePair<string, string>> extraHeaders = [];
        if (_endpointOptions.OnHandshake is { } hook)
        {
            var handshakeContext = new Server.WebSocketHandshakeContext(upgradeRequest, context.RequestServices);
            try
            {
                await hook(handshakeContext).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogHandlerFactoryFailed(settings.Logger, context.Request.Path, ex);
                await WriteRejectionAsync(context, StatusCodes.Status500InternalServerError, "The WebSocket handshake hook failed.", []).ConfigureAwait(false);
                return;
            }

            if (handshakeContext.Rejection is { } rejection)
            {
                LogRejected(settings.Logger, context.Connection.RemoteIpAddress?.ToString(), context.Request.Path, rejection.StatusCode, rejection.Reason);
                await WriteRejectionAsync(context, rejection.StatusCode, rejection.Reason, rejection.Headers).ConfigureAwait(false);
                return;
            }

            extraHeaders = handshakeContext.ResponseHeaders;
        }

        WebSocketHandler handler;
        try
        {
            handler = _handlerFactory(context, upgradeRequest);
        }
        catch (Exception ex)
        {
            // A factory that fails is a server error (500), not a WebSocket.
            LogHandlerFactoryFailed(settings.Logger, context.Request.Path, ex);
            await WriteRejectionAsync(context, StatusCodes.Status500InternalServerError, "The WebSocket handler could not be created.", []).ConfigureAwait(false);
            return;
        }

        foreach (KeyValuePair<string, string> header in result.ResponseHeaders)
        {
            context.Response.Headers[header.Key] = header.Value;
        }

        foreach (KeyValuePair<string, string> header in extraHeaders)
        {
            context.Response.Headers.Append(header.Key, header.Value);
        }

        // The WebSocket lives as long as the request: no request timeout, no body size or rate limit on its bytes.
        context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } dataRate)
        {
            try
            {
                dataRate.MinDataRate = null;
            }
            catch (NotSupportedException)
            {
                // Kestrel versions that do not rate-limit this kind of stream refuse the setting.
            }
        }

        Stream stream = extendedConnect
            ? await connect!.AcceptAsync().ConfigureAwait(false)
            : await upgrade!.UpgradeAsync().ConfigureAwait(false);

        var connection = new WebSocketConnection(stream, new WebSocketConnectionCreationOptions
        {
            Role = WebSocketRole.Server,
            Options = settings.Connection,
            Request = upgradeRequest,
            Subprotocol = result.Subprotocol,
            PerMessageDeflate = result.PerMessageDeflate,
            Logger = settings.ConnectionLogger,
        });
        await using (connection.ConfigureAwait(false))
        {
            LogAccepted(settings.Logger, connection.Id, context.Request.Protocol, context.Request.Path, result.Subprotocol ?? "-", result.ExtensionsResponse ?? "-");
            if (!settings.Manager.Add(connection))
            {
                connection.StartClose(WebSocketCloseCode.TryAgainLater, "server at capacity");
            }

            try
            {
                await connection.RunAsync(handler, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogUnexpected(settings.Logger, connection.Id, ex);
            }
        }
    }

    private async Task AnswerPlainRequestAsync(HttpContext context, bool http11)
    {
        if (_endpointOptions.NonWebSocketRequest is { } fallback)
        {
            await fallback(context).ConfigureAwait(false);
            return;
        }

        KeyValuePair<string, string>[] headers = http11
            ? [new("Upgrade", "websocket"), new("Sec-WebSocket-Version", "13")]
            : [new("Sec-WebSocket-Version", "13")];
        await WriteRejectionAsync(context, StatusCodes.Status426UpgradeRequired, "This path speaks WebSocket: open it with a WebSocket client.", headers).ConfigureAwait(false);
    }

    private static async Task WriteRejectionAsync(HttpContext context, int status, string reason, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        foreach (KeyValuePair<string, string> header in headers)
        {
            response.Headers.Append(header.Key, header.Value);
        }

        if (status == StatusCodes.Status426UpgradeRequired && HttpProtocol.IsHttp11(context.Request.Protocol))
        {
            response.Headers.Connection = "Upgrade";
        }

        response.ContentType = "text/plain; charset=utf-8";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.WriteAsync(reason + "\n", context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the request asks to upgrade to <c>websocket</c> (an <c>Upgrade</c> token, case-insensitive; RFC 6455 §4.1).</summary>
    internal static bool HasWebSocketUpgradeHeader(HttpRequest request)
    {
        foreach (string? value in request.Headers.Upgrade)
        {
            if (value is null)
            {
                continue;
            }

            foreach (string token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, "websocket", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static HttpRequestHead ToRequestHead(HttpContext context)
    {
        var headers = new HttpHeaderCollection();
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in context.Request.Headers)
        {
            foreach (string? value in header.Value)
            {
                headers.Add(header.Key, value ?? string.Empty);
            }
        }

        string? target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target))
        {
            target = string.Concat(context.Request.PathBase.ToUriComponent(), context.Request.Path.ToUriComponent(), context.Request.QueryString.ToUriComponent());
        }

        return new HttpRequestHead(context.Request.Method, string.IsNullOrEmpty(target) ? "/" : target, context.Request.Protocol, headers);
    }

    private static Dictionary<string, string?> ToRouteValues(Microsoft.AspNetCore.Routing.RouteValueDictionary values)
    {
        var result = new Dictionary<string, string?>(values.Count, StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, object?> value in values)
        {
            result[value.Key] = Convert.ToString(value.Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    private Settings BuildSettings()
    {
        Ws4NetOptions global = _services.GetService<IOptions<Ws4NetOptions>>()?.Value
            ?? throw new InvalidOperationException("Call services.AddWs4Net() before mapping WebSocket endpoints.");
        WebSocketConnectionManager manager = _services.GetRequiredService<WebSocketConnectionManager>();
        ILoggerFactory loggerFactory = _services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        Ws4NetShutdown.EnsureRegistered(_services, manager, global.ShutdownTimeout);

        var handshake = new ServerHandshakeOptions
        {
            SubprotocolSelector = _endpointOptions.SubprotocolSelector,
            ExtensionNegotiator = _endpointOptions.ExtensionNegotiator,
            RequireOrigin = _endpointOptions.RequireOrigin,
            PerMessageDeflate = _endpointOptions.DisableCompression
                ? null
                : _endpointOptions.PerMessageDeflate ?? (global.Compression ? new Protocol.Compression.PerMessageDeflateOptions() : null),
        };
        foreach (string subprotocol in _endpointOptions.Subprotocols)
        {
            handshake.Subprotocols.Add(subprotocol);
        }

        foreach (string origin in global.AllowedOrigins.Concat(_endpointOptions.AllowedOrigins))
        {
            handshake.AllowedOrigins.Add(origin);
        }

        WebSocketConnectionOptions? connection = _endpointOptions.Connection;
        if (connection is null)
        {
            connection = new WebSocketConnectionOptions();
            Ws4NetOptionsMapper.ApplyTo(global, connection);
        }

        return new Settings(handshake, connection, manager, loggerFactory.CreateLogger("Ws4Net.AspNetCore"), loggerFactory.CreateLogger("Ws4Net.Connection"));
    }

    private sealed record Settings(ServerHandshakeOptions Handshake, WebSocketConnectionOptions Connection, WebSocketConnectionManager Manager, ILogger Logger, ILogger ConnectionLogger);

    [LoggerMessage(EventId = 500, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} opened over {Protocol} on {Path} (subprotocol {Subprotocol}, extensions {Extensions})")]
    private static partial void LogAccepted(ILogger logger, string connectionId, string protocol, string path, string subprotocol, string extensions);

    [LoggerMessage(EventId = 501, Level = LogLevel.Debug, Message = "Rejected WebSocket request from {Remote} on {Path}: {Status} {Reason}")]
    private static partial void LogRejected(ILogger logger, string? remote, string path, int status, string reason);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "The handler factory for {Path} threw; answered 500")]
    private static partial void LogHandlerFactoryFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "Unexpected error in WebSocket {ConnectionId}")]
    private static partial void LogUnexpected(ILogger logger, string connectionId, Exception exception);
}
