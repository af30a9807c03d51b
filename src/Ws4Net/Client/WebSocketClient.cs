using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using Ws4Net.Internal;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Client;

/// <summary>
/// Opens client WebSocket connections (RFC 6455 §4.1) over TCP, with TLS for <c>wss://</c> (SNI and
/// certificate validation on by default). Stateless and thread-safe.
/// </summary>
public static class WebSocketClient
{
    /// <summary>Connects, performs the opening handshake and returns the open connection (pull API).</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URI (http/https are accepted as aliases).</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The open connection; dispose it when done.</returns>
    /// <exception cref="ArgumentException">The URI is not absolute or has another scheme, or a custom header is not allowed.</exception>
    /// <exception cref="WebSocketHandshakeException">The server refused or answered incorrectly (carries status, headers, reason).</exception>
    /// <exception cref="TimeoutException">The connect, TLS and handshake did not finish within <see cref="WebSocketClientOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="SocketException">The TCP connection failed (refused, unreachable, DNS).</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">TLS failed (for example an untrusted certificate).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static async Task<WebSocketConnection> ConnectAsync(Uri uri, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new WebSocketClientOptions();
        var handshakeOptions = new ClientHandshakeOptions { Origin = options.Origin, PerMessageDeflate = options.PerMessageDeflate };
        foreach (string subprotocol in options.Subprotocols)
        {
            handshakeOptions.Subprotocols.Add(subprotocol);
        }

        foreach (KeyValuePair<string, string> header in options.Headers)
        {
            handshakeOptions.Headers.Add(header);
        }

        var handshake = new ClientHandshake(uri, handshakeOptions);
        byte[] request = handshake.BuildRequest();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Socket? socket = null;
        Stream? stream = null;
        try
        {
            if (options.UnixSocketPath is { } path)
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            }
            else
            {
                socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                int port = uri.IsDefaultPort ? (handshake.IsSecure ? 443 : 80) : uri.Port;
                await socket.ConnectAsync(uri.DnsSafeHost, port, timeout.Token).ConfigureAwait(false);
            }

            stream = new NetworkStream(socket, ownsSocket: true);
            socket = null;

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
            (HttpResponseHead head, byte[] buffer, int consumed, int length) = await ReadResponseHeadAsync(stream, options.HeadLimits, timeout.Token).ConfigureAwait(false);
            try
            {
                ClientHandshakeResult result = handshake.ValidateResponse(head);
                var connection = new WebSocketConnection(stream, WebSocketRole.Client, options.Connection, null, result.Subprotocol, buffer.AsMemory(consumed, length - consumed), options.Logger, result.PerMessageDeflate);
                stream = null;
                return connection;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Connecting to {uri} did not complete within {options.ConnectTimeout.TotalMilliseconds:0} ms.");
        }
        finally
        {
            socket?.Dispose();
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Connects and runs <paramref name="handler"/> until the connection closes.</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URI.</param>
    /// <param name="handler">A fresh handler instance.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the connect; once connected, closes with 1001.</param>
    /// <returns>The close status once the handler's <c>OnCloseAsync</c> has run.</returns>
    /// <exception cref="WebSocketHandshakeException">The server refused the upgrade.</exception>
    /// <exception cref="TimeoutException">The connect timed out.</exception>
    /// <exception cref="SocketException">The TCP connection failed.</exception>
    public static async Task<WebSocketCloseStatus> RunAsync(Uri uri, WebSocketHandler handler, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await using WebSocketConnection connection = await ConnectAsync(uri, options, cancellationToken).ConfigureAwait(false);
        return await connection.RunAsync(handler, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(HttpResponseHead Head, byte[] Buffer, int Consumed, int Length)> ReadResponseHeadAsync(Stream stream, HttpHeadLimits limits, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limits.MaxHeadSize + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new WebSocketHandshakeException("the server closed the connection before answering the WebSocket upgrade", 0, null);
                }

                length += read;
                HttpHeadParseResult<HttpResponseHead> result = HttpHeadParser.ParseResponse(buffer.AsSpan(0, length), limits);
                if (result.Status == HttpHeadParseStatus.Complete)
                {
                    byte[] done = buffer;
                    buffer = [];
                    return (result.Head!, done, result.Consumed, length);
                }

                if (result.Status == HttpHeadParseStatus.Invalid)
                {
                    throw new WebSocketHandshakeException($"malformed HTTP response: {result.ErrorReason}", 0, null);
                }
            }
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
