using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Client;

/// <summary>
/// Settings of <see cref="WebSocketClient.ConnectAsync(Uri, WebSocketClientOptions?, CancellationToken)"/>:
/// handshake headers, subprotocols, TLS, proxy, redirects, timeouts and the connection options. Safe defaults: TLS
/// certificates are validated, connect times out after 10 s, the proxy environment variables are honoured,
/// redirects are not followed. Not thread-safe while being changed.
/// </summary>
public sealed class WebSocketClientOptions
{
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(10);
    private int _maxRedirects;

    /// <summary>Gets the subprotocols to offer, in preference order (RFC 6455 §4.1, <c>Sec-WebSocket-Protocol</c>).</summary>
    public IList<string> Subprotocols { get; } = new List<string>();

    /// <summary>Gets or sets the <c>Origin</c> header to send, or <see langword="null"/> for none.</summary>
    public string? Origin { get; set; }

    /// <summary>
    /// Gets or sets further extensions to offer, as a raw <c>Sec-WebSocket-Extensions</c> value (RFC 6455 §9.1,
    /// for example <c>x-trace; v=2</c>), sent after the permessage-deflate offer of <see cref="PerMessageDeflate"/>;
    /// <see langword="null"/> for none. The server may accept any of them (the response is checked to name only
    /// offered extensions, §4.1); the core implements none of them, so an extension that sets RSV bits or uses
    /// new opcodes fails the connection with 1002: offer only extensions that change nothing on the wire, or
    /// negotiate such behaviour through a subprotocol.
    /// </summary>
    public string? ExtensionOffers { get; set; }

    /// <summary>Gets extra request headers (for example <c>Authorization</c>); the handshake's own headers are refused.</summary>
    public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

    /// <summary>
    /// Gets or sets the time allowed for TCP connect, the proxy tunnel, TLS and the HTTP upgrade together (default
    /// 10 s), per redirect hop.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _connectTimeout = value;
        }
    }

    /// <summary>
    /// Gets or sets a custom server-certificate check for wss. <see langword="null"/> (the default)
    /// applies the platform's standard validation: the chain must be trusted and the name must match.
    /// </summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; set; }

    /// <summary>Gets or sets client certificates offered for mutual TLS, or <see langword="null"/>.</summary>
    public X509CertificateCollection? ClientCertificates { get; set; }

    /// <summary>Gets or sets the TLS versions allowed (default: the operating system's choice).</summary>
    public SslProtocols SslProtocols { get; set; } = SslProtocols.None;

    /// <summary>Gets or sets the permessage-deflate offer (RFC 7692), or <see langword="null"/> (the default) to offer no compression.</summary>
    public Protocol.Compression.PerMessageDeflateOptions? PerMessageDeflate { get; set; }

    /// <summary>
    /// Gets or sets a Unix domain socket to connect to instead of the URI's host and port (the URI still
    /// gives the scheme, Host header and path), or <see langword="null"/> for TCP.
    /// </summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>
    /// Gets or sets whether to go through a proxy at all (default <see langword="true"/>). When
    /// <see langword="false"/>, <see cref="Proxy"/> and the proxy environment variables are ignored.
    /// </summary>
    public bool UseProxy { get; set; } = true;

    /// <summary>
    /// Gets or sets the proxy, asked for each target URI (<c>ws://</c> or <c>wss://</c>) through
    /// <see cref="System.Net.IWebProxy.IsBypassed(Uri)"/> and <see cref="System.Net.IWebProxy.GetProxy(Uri)"/>;
    /// <see langword="null"/> (the default) uses an <see cref="EnvironmentProxy"/> read once per process from
    /// <c>HTTP_PROXY</c>, <c>HTTPS_PROXY</c>, <c>ALL_PROXY</c> and <c>NO_PROXY</c>. <c>http://</c> proxies get an
    /// HTTP CONNECT tunnel (RFC 9110 §9.3.6), <c>socks5://</c> (and <c>socks5h://</c>) proxies a SOCKS5 CONNECT
    /// (RFC 1928, the proxy resolves host names); for wss the client then runs TLS with the origin inside the
    /// tunnel. Credentials come from the proxy's <see cref="System.Net.IWebProxy.Credentials"/> or the proxy URI's
    /// user information (Basic for HTTP, RFC 1929 username/password for SOCKS5) and are sent only to the proxy.
    /// Ignored with <see cref="UnixSocketPath"/>. Also used by <see cref="ReconnectingWebSocketClient"/> attempts.
    /// </summary>
    public System.Net.IWebProxy? Proxy { get; set; }

    /// <summary>
    /// Gets or sets how many redirects (301, 302, 303, 307, 308 with a <c>Location</c>) the opening handshake
    /// follows (default 0: a redirect is reported as <see cref="WebSocketConnectError.HttpStatus"/>). A redirect
    /// from wss to ws is never followed, and the <c>Authorization</c> and <c>Cookie</c> headers are dropped when
    /// the redirect leaves the origin (scheme, host and port). Each hop gets its own <see cref="ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above 20.</exception>
    public int MaxRedirects
    {
        get => _maxRedirects;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 20);
            _maxRedirects = value;
        }
    }

    /// <summary>Gets or sets the TLS server name (SNI) to use instead of the URI's host, or <see langword="null"/>.</summary>
    public string? TlsServerName { get; set; }

    /// <summary>Gets or sets the limits on the server's HTTP response head.</summary>
    public HttpHeadLimits HeadLimits { get; set; } = new();

    /// <summary>Gets or sets the options of the resulting connection (message limits, buffers, close timeout).</summary>
    public WebSocketConnectionOptions Connection { get; set; } = new();

    /// <summary>Gets or sets where the connection logs, or <see langword="null"/>.</summary>
    public ILogger? Logger { get; set; }
}
