using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ws4Net.Internal;
using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Server;

/// <summary>
/// A standalone WebSocket server on a TCP port (or a Unix socket), with optional TLS (wss). It parses
/// the HTTP/1.1 upgrade with the sans-I/O handshake codec (RFC 6455 §4.2), routes each path to a
/// handler factory, answers other requests with <see cref="WebSocketServerOptions.HttpFallback"/>,
/// and runs each connection's handler on its own receive loop (no thread per connection).
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Map(WebSocketRoute)"/> before <see cref="StartAsync"/>; everything else is
/// thread-safe. <see cref="StopAsync"/> closes every connection with 1001 (going away) within
/// <see cref="WebSocketServerOptions.ShutdownTimeout"/>, then aborts those left.
/// </remarks>
public sealed partial class WebSocketServer : IAsyncDisposable
{
    private readonly WebSocketServerOptions _options;
    private readonly ILogger _logger;
    private readonly ILogger _connectionLogger;
    private readonly Dictionary<string, (WebSocketRoute Route, ServerHandshakeOptions Handshake)> _routes = new(StringComparer.Ordinal);
    private readonly List<(WebSocketRoute Route, ServerHandshakeOptions Handshake)> _templateRoutes = [];
    private readonly ConcurrentDictionary<WebSocketConnection, byte> _connections = new();
    private readonly TaskCompletionSource _sessionsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sessionCount;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private bool _ownsUnixSocketPath;
    private Task? _acceptLoop;

    /// <summary>Creates a server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (127.0.0.1:9000, plain ws).</param>
    public WebSocketServer(WebSocketServerOptions? options = null)
    {
        _options = options ?? new WebSocketServerOptions();
        ILoggerFactory factory = _options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = factory.CreateLogger("Ws4Net.Server");
        _connectionLogger = factory.CreateLogger("Ws4Net.Connection");
        InitializeManager(factory);
    }

    /// <summary>Gets the settings.</summary>
    public WebSocketServerOptions Options => _options;

    /// <summary>Gets the endpoint actually bound (with the real port when 0 was asked), once started.</summary>
    public EndPoint? LocalEndPoint { get; private set; }

    /// <summary>Gets a snapshot of the open connections.</summary>
    public IReadOnlyCollection<WebSocketConnection> Connections => _connections.Keys.ToArray();

    /// <summary>Raised (on the connection's task) after a connection is accepted and before its handler's <c>OnOpenAsync</c>. Must not throw.</summary>
    public event Action<WebSocketConnection>? ConnectionOpened;

    /// <summary>Adds a route.</summary>
    /// <param name="route">The path, handler factory and subprotocols.</param>
    /// <returns>This server, for chaining.</returns>
    /// <exception cref="InvalidOperationException">The server has started, or the path is already mapped.</exception>
    public WebSocketServer Map(WebSocketRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (_listener is not null)
        {
            throw new InvalidOperationException("Routes are added before StartAsync.");
        }

        var handshake = new ServerHandshakeOptions
        {
            PerMessageDeflate = _options.PerMessageDeflate,
            SubprotocolSelector = route.SubprotocolSelector,
            ExtensionNegotiator = route.ExtensionNegotiator,
        };
        foreach (string subprotocol in route.Subprotocols)
        {
            handshake.Subprotocols.Add(subprotocol);
        }

        foreach (string origin in _options.AllowedOrigins)
        {
            handshake.AllowedOrigins.Add(origin);
        }

        if (route.Template.HasParameters)
        {
            if (_templateRoutes.Any(r => string.Equals(r.Route.Path, route.Path, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"The route template {route.Path} is already mapped.");
            }

            _templateRoutes.Add((route, handshake));
        }
        else if (!_routes.TryAdd(route.Path, (route, handshake)))
        {
            throw new InvalidOperationException($"The path {route.Path} is already mapped.");
        }

        return this;
    }

    /// <summary>Maps a path to a handler built by <paramref name="factory"/> for each connection (pass constructor arguments here).</summary>
    /// <param name="path">The exact path, for example <c>/chat</c>, or a route template such as <c>/rooms/{name}</c> (see <see cref="WebSocketRoute"/>).</param>
    /// <param name="factory">Builds a fresh handler from the upgrade request.</param>
    /// <param name="subprotocols">Supported subprotocols, in preference order.</param>
    /// <returns>This server.</returns>
    /// <exception cref="InvalidOperationException">The server has started, or the path is already mapped.</exception>
    public WebSocketServer Map(string path, Func<WebSocketUpgradeRequest, WebSocketHandler> factory, params string[] subprotocols)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Map(new WebSocketRoute(path, (request, _) => factory(request), subprotocols));
    }

    /// <summary>
    /// Maps a path to <typeparamref name="THandler"/>, built for each connection with
    /// <see cref="ActivatorUtilities"/> from <see cref="WebSocketServerOptions.Services"/> (constructor injection).
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="path">The exact path or a route template (see <see cref="WebSocketRoute"/>).</param>
    /// <param name="subprotocols">Supported subprotocols, in preference order.</param>
    /// <returns>This server.</returns>
    /// <exception cref="InvalidOperationException">The server has started, or the path is already mapped.</exception>
    public WebSocketServer Map<THandler>(string path, params string[] subprotocols)
        where THandler : WebSocketHandler
        => Map(new WebSocketRoute(path, static (_, services) => services is null
            ? Activator.CreateInstance<THandler>()
            : ActivatorUtilities.CreateInstance<THandler>(services), subprotocols));

    /// <summary>Binds the socket and starts accepting connections.</summary>
    /// <param name="cancellationToken">Not used beyond an early check; listening is synchronous.</param>
    /// <returns>Completes once the server listens.</returns>
    /// <exception cref="SocketException">The endpoint cannot be bound: no permission, or
    /// <see cref="SocketError.AddressAlreadyInUse"/> when another socket listens on the TCP port (unless every
    /// listener sets <see cref="WebSocketServerOptions.ReusePort"/>) or another server accepts on the Unix socket path.</exception>
    /// <exception cref="InvalidOperationException">The server was already started.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_listener is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        Socket listener = _options.UnixSocketPath is { } path ? BindUnixSocket(path) : BindTcp(_options.EndPoint, _options.ReusePort);
        _ownsUnixSocketPath = _options.UnixSocketPath is not null;
        _listener = listener;
        LocalEndPoint = listener.LocalEndPoint;
        LogListening(_logger, listener.LocalEndPoint?.ToString() ?? "?", _options.Certificate is not null);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    // A TCP listener. Without ReusePort a port in use is an error: .NET already sets SO_REUSEADDR for
    // TCP binds on Unix (a port with connections in TIME_WAIT can be bound again), but the
    // ReuseAddress socket option additionally sets SO_REUSEPORT there, which lets a second process
    // listen on the same port and the kernel split new connections between the two.
    private static Socket BindTcp(IPEndPoint endPoint, bool reusePort)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (reusePort)
            {
                listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            listener.Bind(endPoint);
            listener.Listen(512);
            return listener;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            listener.Dispose();
            throw new SocketException((int)SocketError.AddressAlreadyInUse,
                $"Cannot listen on {endPoint}: the address is already in use (another server listens on it). Stop it, pick another port, or set WebSocketServerOptions.ReusePort on every server that should share the port.");
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    // A Unix socket listener. An existing file at the path is replaced only when nobody accepts on it
    // (a stale file left by a server that died); a live server's path is an error.
    private static Socket BindUnixSocket(string path)
    {
        var endPoint = new UnixDomainSocketEndPoint(path);
        if (File.Exists(path))
        {
            if (IsListenedOn(endPoint))
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse,
                    $"Cannot listen on the Unix socket {path}: another server is listening on it. Stop it or pick another path.");
            }

            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(512);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    // Whether a server accepts connections on the Unix socket (a refused connect: a stale file or not a socket).
    private static bool IsListenedOn(UnixDomainSocketEndPoint endPoint)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops accepting, sends close 1001 (going away) to every connection, waits up to
    /// <see cref="WebSocketServerOptions.ShutdownTimeout"/> for their close handshakes, then aborts the rest.
    /// </summary>
    /// <param name="cancellationToken">Cuts the wait short (remaining connections are aborted).</param>
    /// <returns>Completes when every connection is gone.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (WebSocketConnection connection in _connections.Keys)
        {
            connection.StartClose(WebSocketCloseCode.GoingAway, "server shutting down");
        }

        Task all = Volatile.Read(ref _sessionCount) == 0 ? Task.CompletedTask : _sessionsEnded.Task;
        try
        {
            await all.WaitAsync(_options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            foreach (WebSocketConnection connection in _connections.Keys)
            {
                connection.Abort();
            }

            await all.ConfigureAwait(false);
        }

        if (_ownsUnixSocketPath && _options.UnixSocketPath is { } path && File.Exists(path))
        {
            File.Delete(path);
        }

        LogStopped(_logger);
    }

    /// <summary>Stops the server (see <see cref="StopAsync"/>).</summary>
    /// <returns>Completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        Socket listener = _listener!;
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                if (Volatile.Read(ref _acceptStopped) != 0)
                {
                    return;   // StopAccepting closed the listener
                }

                LogAcceptError(_logger, ex.SocketErrorCode.ToString());
                continue;
            }

            if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            {
                socket.NoDelay = true;
            }

            // Sessions are counted, not tracked one by one: an idle connection costs no dictionary node or continuation.
            Interlocked.Increment(ref _sessionCount);
            _ = HandleSocketAsync(socket);
        }
    }

    /// <summary>One accepted socket: the handshake (its state is released once done), then the connection's handler loop.</summary>
    private async Task HandleSocketAsync(Socket socket)
    {
        try
        {
            (WebSocketConnection? connection, WebSocketHandler? handler) = await AcceptWebSocketAsync(socket).ConfigureAwait(false);
            if (connection is null)
            {
                return;
            }

            try
            {
                await connection.RunAsync(handler!, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogUnexpected(_logger, ex);
            }
            finally
            {
                _connections.TryRemove(connection, out _);
                RaiseConnectionClosed(connection);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _sessionCount) == 0 && _stopping.IsCancellationRequested)
            {
                _sessionsEnded.TrySetResult();
            }
        }
    }

    /// <summary>TLS, the opening handshake and the upgrade; returns the open connection (registered) and its handler, or nothing.</summary>
    private async Task<(WebSocketConnection? Connection, WebSocketHandler? Handler)> AcceptWebSocketAsync(Socket socket)
    {
        await Task.Yield();
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        WebSocketConnection? connection = null;
        WebSocketHandler? handler = null;
        // The deadline runs from accept; the table entry makes room for it at once (see BeginHandshake).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_options.HandshakeTimeout);
        LinkedListNode<CancellationTokenSource> pending = BeginHandshake(timeout);
        try
        {
            if (_options.Certificate is { } certificate)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = certificate,
                        EnabledSslProtocols = _options.SslProtocols,
                        ClientCertificateRequired = false,
                    },
                    timeout.Token).ConfigureAwait(false);
            }

            (HttpRequestHead? head, ReadOnlyMemory<byte> rest, byte[]? buffer) = await ReadRequestHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            try
            {
                if (head is null)
                {
                    return default;
                }

                (connection, handler) = await UpgradeAsync(stream, socket, head, rest, timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            if (connection is null)
            {
                return default;
            }

            _connections.TryAdd(connection, 0);
            ConnectionOpened?.Invoke(connection);
            LogAccepted(_logger, connection.Id, connection.Request!.RemoteEndPoint?.ToString() ?? "?", connection.Request.Path, connection.Subprotocol ?? "-");
            if (_stopping.IsCancellationRequested)
            {
                connection.StartClose(WebSocketCloseCode.GoingAway, "server shutting down");
            }

            WebSocketConnection accepted = connection;
            connection = null;
            return (accepted, handler);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            Diagnostics.HandshakeDiagnostics.ServerFailed(_logger, socket.RemoteEndPointOrNull(), ex);
            return default;
        }
        catch (Exception ex)
        {
            LogUnexpected(_logger, ex);
            return default;
        }
        finally
        {
            EndHandshake(pending);

            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else if (handler is null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads until the request head is complete or invalid; answers an invalid head with its status.</summary>
    private async Task<(HttpRequestHead? Head, ReadOnlyMemory<byte> Remainder, byte[]? Buffer)> ReadRequestHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        HttpHeadReadResult<HttpRequestHead> result = await HttpHeadReader.ReadAsync(stream, _options.HeadLimits, HttpHeadParser.ParseRequest, cancellationToken).ConfigureAwait(false);
        if (result.Invalid is { } invalid)
        {
            await WritePlainAsync(stream, invalid.ErrorStatusCode, invalid.ErrorReason ?? "Bad request", null, null, cancellationToken).ConfigureAwait(false);
        }

        return (result.Head, result.Remainder, result.Buffer);
    }

    private async Task<(WebSocketConnection? Connection, WebSocketHandler? Handler)> UpgradeAsync(Stream stream, Socket socket, HttpRequestHead head, ReadOnlyMemory<byte> rest, CancellationToken cancellationToken)
    {
        string path = Uri.UnescapeDataString(head.Path);
        using System.Diagnostics.Activity? activity = Diagnostics.HandshakeDiagnostics.StartServer(head, path);
        bool routed = _routes.TryGetValue(path, out var entry);
        Dictionary<string, string?>? routeValues = null;
        if (!routed)
        {
            foreach (var candidate in _templateRoutes)
            {
                if (candidate.Route.Template.TryMatch(head.Path, out Dictionary<string, string?> values))
                {
                    (entry, routeValues, routed) = (candidate, values, true);
                    break;
                }
            }
        }

        ServerHandshakeResult result;
        try
        {
            result = ServerHandshake.Negotiate(head, routed ? entry.Handshake : new ServerHandshakeOptions());
        }
        catch (InvalidOperationException ex)
        {
            // The route's subprotocol selector or extension negotiator broke its contract: a server error.
            await WritePlainAsync(stream, 500, "The WebSocket negotiation failed on the server.", null, head, cancellationToken).ConfigureAwait(false);
            Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, 500, ex.Message);
            return default;
        }

        if (!result.IsWebSocketRequest)
        {
            HttpFallbackResponse? fallback = _options.HttpFallback?.Invoke(head);
            if (fallback is null && routed)
            {
                await WritePlainAsync(stream, 426, "This path speaks WebSocket: send an Upgrade: websocket request.", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", head, cancellationToken).ConfigureAwait(false);
                Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, 426, "not a WebSocket upgrade request");
                return default;
            }

            fallback ??= HttpFallbackResponse.Text(404, "Not found");
            await WriteFallbackAsync(stream, head, fallback, cancellationToken).ConfigureAwait(false);
            return default;
        }

        if (!routed)
        {
            await WritePlainAsync(stream, 404, $"No WebSocket endpoint at {path}", null, head, cancellationToken).ConfigureAwait(false);
            Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, 404, "no WebSocket endpoint at this path");
            return default;
        }

        WebSocketUpgradeRequest? request = null;
        WebSocketHandler? handler = null;
        WebSocketHandshakeContext? handshakeContext = null;
        if (result.IsAccepted)
        {
            // Build the handler before answering 101: a factory that fails is a server error (500), not a WebSocket.
            request = routeValues is null
                ? new WebSocketUpgradeRequest(head, socket.RemoteEndPointSafe(), socket.LocalEndPoint, stream is SslStream, result.Subprotocol)
                : new WebSocketUpgradeRequest(head, socket.RemoteEndPointSafe(), socket.LocalEndPoint, stream is SslStream, result.Subprotocol) { RouteValues = routeValues.AsReadOnly() };

            if (entry.Route.OnHandshake is { } hook)
            {
                handshakeContext = new WebSocketHandshakeContext(request, _options.Services);
                try
                {
                    await hook(handshakeContext).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    LogHandlerFactoryFailed(_logger, path, ex);
                    await WritePlainAsync(stream, 500, "The WebSocket handshake hook failed.", null, head, cancellationToken).ConfigureAwait(false);
                    return default;
                }

                if (handshakeContext.Rejection is { } rejection)
                {
                    Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, rejection.StatusCode, rejection.Reason);
                    await WritePlainAsync(stream, rejection.StatusCode, rejection.Reason, FormatHeaders(rejection.Headers), head, cancellationToken).ConfigureAwait(false);
                    return default;
                }
            }

            try
            {
                handler = entry.Route.HandlerFactory(request, _options.Services);
            }
            catch (Exception ex)
            {
                LogHandlerFactoryFailed(_logger, path, ex);
                await WritePlainAsync(stream, 500, "The WebSocket handler could not be created.", null, head, cancellationToken).ConfigureAwait(false);
                Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, 500, "the handler factory threw");
                return default;
            }
        }

        if (!result.IsAccepted)
        {
            await WriteHandshakeResponseAsync(stream, result, cancellationToken).ConfigureAwait(false);
            Diagnostics.HandshakeDiagnostics.ServerRejected(_logger, activity, socket.RemoteEndPointOrNull(), path, result.StatusCode, result.Reason);
            return default;
        }

        // The connection exists, and the handler is attached to it, before the 101 leaves: whoever holds
        // the handler (a factory that registered it) sees its connection as soon as the client does.
        WebSocketConnectionOptions connectionOptions = _options.Connection;
        Internal.Transports.WebSocketTransport transport = stream is SslStream
            ? new Internal.Transports.StreamTransport(stream, connectionOptions.ReceiveBufferSize, connectionOptions.UseZeroByteReads, rest.Span)
            : new Internal.Transports.SocketTransport(socket, connectionOptions.ReceiveBufferSize, connectionOptions.UseZeroByteReads, rest.Span);
        var connection = new WebSocketConnection(transport, WebSocketRole.Server, connectionOptions, request, result.Subprotocol, _connectionLogger, result.PerMessageDeflate);
        handler!.Attach(connection);
        try
        {
            await WriteHandshakeResponseAsync(stream, result, cancellationToken, handshakeContext?.ResponseHeaders).ConfigureAwait(false);
        }
        catch
        {
            connection.Abort();
            throw;
        }

        Diagnostics.HandshakeDiagnostics.ServerAccepted(activity, result);
        return (connection, handler);
    }

    private static async Task WriteHandshakeResponseAsync(Stream stream, ServerHandshakeResult result, CancellationToken cancellationToken, IReadOnlyList<KeyValuePair<string, string>>? additionalHeaders = null)
    {
        var response = new PooledBufferWriter();
        try
        {
            ServerHandshake.WriteResponse(result, additionalHeaders ?? Array.Empty<KeyValuePair<string, string>>(), response);
            if (stream is NetworkStream network)
            {
                // A few hundred bytes into a fresh socket's empty send buffer never block: sending them
                // synchronously spares every idle connection the socket's asynchronous send state.
                ReadOnlySpan<byte> bytes = response.WrittenSpan;
                while (!bytes.IsEmpty)
                {
                    bytes = bytes[network.Socket.Send(bytes, SocketFlags.None)..];
                }
            }
            else
            {
                await stream.WriteAsync(response.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            response.Reset();
        }
    }

    private static async Task WriteFallbackAsync(Stream stream, HttpRequestHead head, HttpFallbackResponse response, CancellationToken cancellationToken)
    {
        string statusLine = $"HTTP/1.1 {response.StatusCode} {ReasonPhrase(response.StatusCode)}\r\n"
            + $"Content-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\n"
            + "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(statusLine), cancellationToken).ConfigureAwait(false);
        if (!string.Equals(head.Method, "HEAD", StringComparison.Ordinal))
        {
            await stream.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
        }

        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WritePlainAsync(Stream stream, int status, string reason, string? extraHeaders, HttpRequestHead? request, CancellationToken cancellationToken)
    {
        bool headOnly = string.Equals(request?.Method, "HEAD", StringComparison.Ordinal);
        byte[] body = Encoding.UTF8.GetBytes(reason + "\n");
        string head = $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n";
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
            if (!headOnly)
            {
                await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The peer is gone; nothing to answer.
        }
    }

    private static string FormatHeaders(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var text = new StringBuilder();
        foreach (KeyValuePair<string, string> header in headers)
        {
            text.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        return text.ToString();
    }

    private static string ReasonPhrase(int status) => HttpSyntax.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : status switch
    {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Listening on {EndPoint} (TLS: {Tls})")]
    private static partial void LogListening(ILogger logger, string endPoint, bool tls);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} opened from {Remote} on {Path} (subprotocol {Subprotocol})")]
    private static partial void LogAccepted(ILogger logger, string connectionId, string remote, string path, string subprotocol);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Accept failed: {Error}")]
    private static partial void LogAcceptError(ILogger logger, string error);

    [LoggerMessage(EventId = 107, Level = LogLevel.Error, Message = "The handler factory for {Path} threw; answered 500")]
    private static partial void LogHandlerFactoryFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "Unexpected error in a connection")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}
