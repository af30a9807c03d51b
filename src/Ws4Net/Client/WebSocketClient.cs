using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Ws4Net.Internal;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Client;

/// <summary>
/// Opens client WebSocket connections (RFC 6455 §4.1) over TCP, with TLS for <c>wss://</c> (SNI and
/// certificate validation on by default), through an HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS5 (RFC 1928) proxy
/// when one is configured or set in the environment, following handshake redirects when allowed (RFC 9110 §15.4).
/// Every failure to connect is a <see cref="WebSocketConnectException"/>. Stateless and thread-safe.
/// </summary>
public static partial class WebSocketClient
{
    private static readonly Lazy<EnvironmentProxy> s_environmentProxy = new(() => new EnvironmentProxy(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connects, performs the opening handshake and returns the open connection (pull API).</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URI (http/https are accepted as aliases).</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The open connection; dispose it when done.</returns>
    /// <exception cref="ArgumentException">The URI is not absolute or has another scheme, or a custom header is not allowed.</exception>
    /// <exception cref="WebSocketConnectException">
    /// The connection could not be opened; <see cref="WebSocketConnectException.Error"/> says why (name resolution,
    /// refused, network, timeout, TLS, HTTP status, handshake rule, proxy, redirect) and the inner exception is the cause.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<WebSocketConnection> ConnectAsync(Uri uri, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new WebSocketClientOptions();
        var headers = new List<KeyValuePair<string, string>>(options.Headers);
        Uri current = uri;
        for (int redirects = 0; ; redirects++)
        {
            ClientHandshake handshake = CreateHandshake(current, options, headers);
            byte[] request = handshake.BuildRequest();
            (WebSocketConnection? connection, HttpResponseHead? redirect) = await ConnectOnceObservedAsync(handshake, request, options, cancellationToken).ConfigureAwait(false);
            if (connection is not null)
            {
                return connection;
            }

            Uri next = ResolveRedirect(current, redirect!, handshake.IsSecure);
            if (redirects >= options.MaxRedirects)
            {
                throw new WebSocketConnectException(
                    WebSocketConnectError.Redirect,
                    string.Create(CultureInfo.InvariantCulture, $"Cannot connect to {uri}: more than {options.MaxRedirects} redirect(s) (last: {redirect!.StatusCode} to {next})."),
                    current, redirect!.StatusCode, redirect.Headers, null);
            }

            if (!SameOrigin(current, next))
            {
                headers.RemoveAll(static h => h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Cookie", StringComparison.OrdinalIgnoreCase));
            }

            if (options.Logger is { } logger)
            {
                LogRedirect(logger, current, redirect!.StatusCode, next);
            }

            current = next;
        }
    }

    /// <summary>Connects and runs <paramref name="handler"/> until the connection closes (ws4py's client style: <c>OnOpenAsync</c>, <c>OnMessageAsync</c>, <c>OnCloseAsync</c>).</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URI.</param>
    /// <param name="handler">A fresh handler instance.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the connect; once connected, closes with 1001.</param>
    /// <returns>The close status once the handler's <c>OnCloseAsync</c> has run.</returns>
    /// <exception cref="WebSocketConnectException">The connection could not be opened (the handler is not called).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before the connection opened.</exception>
    public static async Task<WebSocketCloseInfo> RunAsync(Uri uri, WebSocketHandler handler, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await using WebSocketConnection connection = await ConnectAsync(uri, options, cancellationToken).ConfigureAwait(false);
        return await connection.RunAsync(handler, cancellationToken).ConfigureAwait(false);
    }

    private static ClientHandshake CreateHandshake(Uri uri, WebSocketClientOptions options, List<KeyValuePair<string, string>> headers)
    {
        var handshakeOptions = new ClientHandshakeOptions { Origin = options.Origin, PerMessageDeflate = options.PerMessageDeflate, ExtensionOffers = options.ExtensionOffers };
        foreach (string subprotocol in options.Subprotocols)
        {
            handshakeOptions.Subprotocols.Add(subprotocol);
        }

        foreach (KeyValuePair<string, string> header in headers)
        {
            handshakeOptions.Headers.Add(header);
        }

        return new ClientHandshake(uri, handshakeOptions);
    }

    /// <summary>One hop: transport, TLS, upgrade. Returns the connection, or the response head of a redirect to follow.</summary>
    private static async Task<(WebSocketConnection? Connection, HttpResponseHead? Redirect)> ConnectOnceAsync(ClientHandshake handshake, byte[] request, WebSocketClientOptions options, CancellationToken cancellationToken)
    {
        Uri uri = handshake.Uri;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Stream? stream = null;
        string stage = "server";
        try
        {
            Uri? proxy = options.UnixSocketPath is null ? SelectProxy(options, uri) : null;
            if (proxy is null)
            {
                stream = await OpenSocketAsync(options, uri.DnsSafeHost, DefaultPort(uri, handshake.IsSecure), timeout.Token).ConfigureAwait(false);
            }
            else
            {
                stage = $"proxy {proxy.Authority}";
                stream = await OpenTunnelAsync(options, proxy, uri, DefaultPort(uri, handshake.IsSecure), timeout.Token).ConfigureAwait(false);
                stage = "server";
            }

            if (handshake.IsSecure)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = options.TlsServerName ?? uri.IdnHost,
                        RemoteCertificateValidationCallback = options.RemoteCertificateValidation,
                        ClientCertificates = options.ClientCertificates,
                        EnabledSslProtocols = options.SslProtocols,
                    },
                    timeout.Token).ConfigureAwait(false);
            }

            await stream.WriteAsync(request, timeout.Token).ConfigureAwait(false);
            (HttpResponseHead head, byte[] buffer, int consumed, int length) = await ReadResponseHeadAsync(stream, options.HeadLimits, uri, "server", timeout.Token).ConfigureAwait(false);
            try
            {
                if (options.MaxRedirects > 0 && IsRedirect(head.StatusCode))
                {
                    return (null, head);
                }

                ClientHandshakeResult result = handshake.ValidateResponse(head);
                // A plain socket (no TLS) is driven directly, without the NetworkStream used for the handshake.
                var connection = stream is NetworkStream network
                    ? new WebSocketConnection(network.Socket, Creation(options, result, buffer.AsMemory(consumed, length - consumed)))
                    : new WebSocketConnection(stream, Creation(options, result, buffer.AsMemory(consumed, length - consumed)));
                stream = null;
                return (connection, null);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            string message = string.Create(CultureInfo.InvariantCulture, $"Cannot connect to {uri}: no answer from the {stage} within {options.ConnectTimeout.TotalMilliseconds:0} ms.");
            throw new WebSocketConnectException(WebSocketConnectError.Timeout, message, uri, 0, null, new TimeoutException(message, ex));
        }
        catch (Exception ex) when (ex is not WebSocketConnectException and not OperationCanceledException and not ArgumentException)
        {
            throw Classify(ex, uri, stage);
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static WebSocketConnectException Classify(Exception ex, Uri uri, string stage)
    {
        Exception cause = ex is IOException { InnerException: SocketException inner } ? inner : ex;
        (WebSocketConnectError error, int status, HttpHeaderCollection? headers) = cause switch
        {
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.NoRecovery } => (WebSocketConnectError.NameResolution, 0, null),
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => (WebSocketConnectError.ConnectionRefused, 0, null),
            SocketException or IOException or ObjectDisposedException => (WebSocketConnectError.Network, 0, null),
            AuthenticationException => (WebSocketConnectError.Tls, 0, null),
            WebSocketHandshakeException { StatusCode: not 0 and not 101 } h => (WebSocketConnectError.HttpStatus, h.StatusCode, h.Headers),
            WebSocketHandshakeException h => (WebSocketConnectError.Handshake, h.StatusCode, h.Headers),
            _ => (WebSocketConnectError.Unknown, 0, null),
        };
        string what = error switch
        {
            WebSocketConnectError.NameResolution => $"cannot resolve the {stage}'s host name",
            WebSocketConnectError.ConnectionRefused => $"the {stage} refused the connection",
            WebSocketConnectError.Tls => "TLS failed",
            _ => stage == "server" ? string.Empty : $"via {stage}",
        };
        string detail = what.Length == 0 ? ex.Message : $"{what} ({ex.Message})";
        return new WebSocketConnectException(error, $"Cannot connect to {uri}: {detail}", uri, status, headers, ex);
    }

    private static int DefaultPort(Uri uri, bool secure) => uri.IsDefaultPort || uri.Port < 0 ? (secure ? 443 : 80) : uri.Port;

    private static Uri? SelectProxy(WebSocketClientOptions options, Uri target)
    {
        if (!options.UseProxy)
        {
            return null;
        }

        IWebProxy proxy = options.Proxy ?? s_environmentProxy.Value;
        if (proxy.IsBypassed(target))
        {
            return null;
        }

        Uri? address = proxy.GetProxy(target);
        return address is null || address == target ? null : address;
    }

    internal static async Task<Stream> OpenSocketAsync(WebSocketClientOptions options, string host, int port, CancellationToken cancellationToken)
    {
        Socket? socket = null;
        try
        {
            if (options.UnixSocketPath is { } path)
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            }

            var stream = new NetworkStream(socket, ownsSocket: true);
            socket = null;
            return stream;
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>Opens a tunnel to <paramref name="target"/> through <paramref name="proxy"/>: HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS5 (RFC 1928).</summary>
    private static async Task<Stream> OpenTunnelAsync(WebSocketClientOptions options, Uri proxy, Uri target, int port, CancellationToken cancellationToken)
    {
        if (proxy.Scheme.Equals("socks5", StringComparison.OrdinalIgnoreCase) || proxy.Scheme.Equals("socks5h", StringComparison.OrdinalIgnoreCase))
        {
            return await Socks5Tunnel.OpenAsync(options, proxy, GetProxyCredential(options.Proxy ?? s_environmentProxy.Value, proxy), target, port, cancellationToken).ConfigureAwait(false);
        }

        if (!proxy.Scheme.Equals(Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase))
        {
            throw new WebSocketConnectException(
                WebSocketConnectError.Proxy,
                $"Cannot connect to {target}: the proxy {proxy.Scheme}://{proxy.Authority} is not supported (only http:// proxies, through HTTP CONNECT, and socks5://).",
                target, 0, null, null);
        }

        Stream stream = await OpenSocketAsync(options, proxy.DnsSafeHost, proxy.Port < 0 ? 80 : proxy.Port, cancellationToken).ConfigureAwait(false);
        try
        {
            string host = target.HostNameType == UriHostNameType.IPv6 ? $"[{target.DnsSafeHost}]" : target.IdnHost;
            string authority = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
            var request = new StringBuilder();
            request.Append(CultureInfo.InvariantCulture, $"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
            NetworkCredential? credential = GetProxyCredential(options.Proxy ?? s_environmentProxy.Value, proxy);
            if (credential is not null)
            {
                string token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
                request.Append(CultureInfo.InvariantCulture, $"Proxy-Authorization: Basic {token}\r\n");
            }

            request.Append("\r\n");
            await stream.WriteAsync(Encoding.Latin1.GetBytes(request.ToString()), cancellationToken).ConfigureAwait(false);
            (HttpResponseHead head, byte[] buffer, int consumed, int length) = await ReadResponseHeadAsync(stream, options.HeadLimits, target, $"proxy {proxy.Authority}", cancellationToken).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
            string answer = string.Create(CultureInfo.InvariantCulture, $"{head.StatusCode} {head.ReasonPhrase}").TrimEnd();
            if (head.StatusCode == 407)
            {
                string challenge = head.Headers.TryGetValue("Proxy-Authenticate", out string? value) ? $", Proxy-Authenticate: {value}" : string.Empty;
                throw new WebSocketConnectException(
                    WebSocketConnectError.ProxyAuthenticationRequired,
                    $"Cannot connect to {target}: the proxy {proxy.Authority} answered {answer} ({(credential is null ? "no credentials were configured" : "the credentials were rejected")}{challenge}).",
                    target, head.StatusCode, head.Headers, null);
            }

            if (head.StatusCode is < 200 or > 299)
            {
                throw new WebSocketConnectException(
                    WebSocketConnectError.Proxy,
                    $"Cannot connect to {target}: the proxy {proxy.Authority} refused the tunnel to {authority} with {answer}.",
                    target, head.StatusCode, head.Headers, null);
            }

            if (consumed != length)
            {
                throw new WebSocketConnectException(
                    WebSocketConnectError.Proxy,
                    $"Cannot connect to {target}: the proxy {proxy.Authority} sent data after its {answer} before the client spoke.",
                    target, head.StatusCode, head.Headers, null);
            }

            Stream tunnel = stream;
            stream = null!;
            return tunnel;
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static NetworkCredential? GetProxyCredential(IWebProxy settings, Uri proxy)
    {
        if (settings.Credentials?.GetCredential(proxy, "Basic") is { } configured)
        {
            return configured;
        }

        if (proxy.UserInfo.Length == 0)
        {
            return null;
        }

        string[] parts = proxy.UserInfo.Split(':', 2);
        return new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
    }

    private static bool IsRedirect(int status) => status is 301 or 302 or 303 or 307 or 308;

    private static Uri ResolveRedirect(Uri current, HttpResponseHead head, bool secure)
    {
        if (!head.Headers.TryGetValue("Location", out string? location) || !Uri.TryCreate(current, location.Trim(), out Uri? next))
        {
            throw new WebSocketConnectException(
                WebSocketConnectError.Redirect,
                string.Create(CultureInfo.InvariantCulture, $"Cannot connect to {current}: the server answered {head.StatusCode} without a usable Location."),
                current, head.StatusCode, head.Headers, null);
        }

        string scheme = next.Scheme.ToUpperInvariant() switch
        {
            "WS" or "HTTP" => "ws",
            "WSS" or "HTTPS" => "wss",
            _ => string.Empty,
        };
        if (scheme.Length == 0 || (secure && scheme == "ws"))
        {
            throw new WebSocketConnectException(
                WebSocketConnectError.Redirect,
                string.Create(CultureInfo.InvariantCulture, $"Cannot connect to {current}: refusing the {head.StatusCode} redirect to {next} ({(scheme.Length == 0 ? "not a WebSocket scheme" : "wss must not be downgraded to ws")})."),
                current, head.StatusCode, head.Headers, null);
        }

        var builder = new UriBuilder(next) { Scheme = scheme, Fragment = string.Empty };
        if (next.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri;
    }

    private static bool SameOrigin(Uri a, Uri b)
        => string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
           && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
           && a.Port == b.Port;

    private static WebSocketConnectionCreationOptions Creation(WebSocketClientOptions options, ClientHandshakeResult result, ReadOnlyMemory<byte> bufferedInput) => new()
    {
        Role = WebSocketRole.Client,
        Options = options.Connection,
        Subprotocol = result.Subprotocol,
        PerMessageDeflate = result.PerMessageDeflate,
        BufferedInput = bufferedInput,
        Logger = options.Logger,
    };

    private static async Task<(HttpResponseHead Head, byte[] Buffer, int Consumed, int Length)> ReadResponseHeadAsync(Stream stream, HttpHeadLimits limits, Uri target, string peer, CancellationToken cancellationToken)
    {
        HttpHeadReadResult<HttpResponseHead> result = await HttpHeadReader.ReadAsync(stream, limits, HttpHeadParser.ParseResponse, cancellationToken).ConfigureAwait(false);
        if (result.Head is { } head)
        {
            return (head, result.Buffer!, result.Consumed, result.Length);
        }

        string reason = result.Invalid is { } invalid
            ? $"malformed HTTP response from the {peer}: {invalid.ErrorReason}"
            : $"the {peer} closed the connection before answering";
        WebSocketConnectError error = peer != "server" ? WebSocketConnectError.Proxy
            : result.Invalid is null ? WebSocketConnectError.Network : WebSocketConnectError.Handshake;
        throw new WebSocketConnectException(error, $"Cannot connect to {target}: {reason}.", target, 0, null, new WebSocketHandshakeException(reason, 0, null));
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Handshake with {Uri} redirected ({Status}) to {Location}")]
    private static partial void LogRedirect(ILogger logger, Uri uri, int status, Uri location);
}
