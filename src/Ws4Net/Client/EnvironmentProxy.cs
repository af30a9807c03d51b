using System.Globalization;
using System.Net;

namespace Ws4Net.Client;

/// <summary>
/// An <see cref="IWebProxy"/> configured from the conventional environment variables, following the rules
/// .NET's <c>HttpClient</c> applies on Linux and macOS: <c>http_proxy</c>/<c>HTTP_PROXY</c> for <c>ws://</c>
/// (and <c>http://</c>) targets, <c>https_proxy</c>/<c>HTTPS_PROXY</c> for <c>wss://</c> (and <c>https://</c>),
/// <c>all_proxy</c>/<c>ALL_PROXY</c> for whichever of the two is unset, and <c>no_proxy</c>/<c>NO_PROXY</c> for
/// the hosts reached directly. The default proxy of <see cref="WebSocketClientOptions"/>.
/// </summary>
/// <remarks>
/// <para>
/// For each pair the lowercase name wins. <c>HTTP_PROXY</c> (uppercase) is ignored when <c>GATEWAY_INTERFACE</c>
/// is set, because a CGI program receives a request's <c>Proxy:</c> header as that variable ("httpoxy").
/// A value without a scheme means <c>http://</c>; an empty value means none. Credentials may be given as the
/// URI's user information (<c>http://user:pa%40ss@proxy:3128</c>, percent-decoded); they are sent only to the
/// proxy, as Basic <c>Proxy-Authorization</c>.
/// </para>
/// <para>
/// <c>no_proxy</c> is a list separated by commas or white space. <c>*</c> bypasses the proxy for every host.
/// An entry <c>example.com</c>, <c>.example.com</c> or <c>*.example.com</c> matches <c>example.com</c> and every
/// subdomain; an IP address matches that address only (no CIDR ranges); an entry with <c>:port</c> matches that
/// port only. Matching is case-insensitive. Loopback is not bypassed unless listed.
/// </para>
/// <para>The variables are read once, by the constructor. Instances are immutable and thread-safe.</para>
/// </remarks>
public sealed class EnvironmentProxy : IWebProxy
{
    private readonly Uri? _httpProxy;
    private readonly Uri? _httpsProxy;
    private readonly string[] _noProxy;
    private readonly bool _bypassAll;

    /// <summary>Reads the process's environment variables.</summary>
    public EnvironmentProxy()
        : this(Environment.GetEnvironmentVariable)
    {
    }

    /// <summary>Reads the variables through <paramref name="getVariable"/> (for tests or an explicit configuration).</summary>
    /// <param name="getVariable">Returns a variable's value by exact (case-sensitive) name, or <see langword="null"/> when unset.</param>
    /// <exception cref="ArgumentNullException"><paramref name="getVariable"/> is null.</exception>
    public EnvironmentProxy(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        _httpProxy = Parse(getVariable("http_proxy"));
        if (_httpProxy is null && string.IsNullOrEmpty(getVariable("GATEWAY_INTERFACE")))
        {
            _httpProxy = Parse(getVariable("HTTP_PROXY"));
        }

        _httpsProxy = Parse(getVariable("https_proxy")) ?? Parse(getVariable("HTTPS_PROXY"));
        if (_httpProxy is null || _httpsProxy is null)
        {
            Uri? all = Parse(getVariable("all_proxy")) ?? Parse(getVariable("ALL_PROXY"));
            _httpProxy ??= all;
            _httpsProxy ??= all;
        }

        string? noProxy = getVariable("no_proxy");
        if (string.IsNullOrWhiteSpace(noProxy))
        {
            noProxy = getVariable("NO_PROXY");
        }

        _noProxy = (noProxy ?? string.Empty).Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        _bypassAll = Array.IndexOf(_noProxy, "*") >= 0;
    }

    /// <summary>Gets the proxy for <c>ws://</c> and <c>http://</c> targets, or <see langword="null"/> for none.</summary>
    public Uri? HttpProxy => _httpProxy;

    /// <summary>Gets the proxy for <c>wss://</c> and <c>https://</c> targets, or <see langword="null"/> for none.</summary>
    public Uri? HttpsProxy => _httpsProxy;

    /// <summary>Gets or sets credentials for the proxy; <see langword="null"/> (the default) uses the proxy URI's user information, if any.</summary>
    public ICredentials? Credentials { get; set; }

    /// <summary>Returns the proxy to use for <paramref name="destination"/> (with its user information), or <see langword="null"/> to connect directly.</summary>
    /// <param name="destination">The target URI (ws, wss, http or https).</param>
    /// <returns>The proxy URI, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    public Uri? GetProxy(Uri destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return IsBypassed(destination) ? null : SelectProxy(destination);
    }

    /// <summary>Whether <paramref name="host"/> is reached directly: no proxy is configured for its scheme, or it matches <c>no_proxy</c>.</summary>
    /// <param name="host">The target URI.</param>
    /// <returns><see langword="true"/> to connect directly.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="host"/> is null.</exception>
    public bool IsBypassed(Uri host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (SelectProxy(host) is null || _bypassAll)
        {
            return true;
        }

        string name = host.HostNameType == UriHostNameType.IPv6 ? host.Host.Trim('[', ']') : host.IdnHost;
        foreach (string raw in _noProxy)
        {
            if (Matches(raw, name, host.Port))
            {
                return true;
            }
        }

        return false;
    }

    private Uri? SelectProxy(Uri destination) => destination.Scheme.ToUpperInvariant() switch
    {
        "WS" or "HTTP" => _httpProxy,
        "WSS" or "HTTPS" => _httpsProxy,
        _ => null,
    };

    private static bool Matches(string entry, string host, int port)
    {
        string pattern = entry;
        int entryPort = -1;

        // "[::1]:8080", "[::1]", "host:8080", "host"; a bare IPv6 literal has several colons and no port.
        if (pattern.StartsWith('['))
        {
            int close = pattern.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            if (close + 1 < pattern.Length && pattern[close + 1] == ':' && !int.TryParse(pattern.AsSpan(close + 2), NumberStyles.None, CultureInfo.InvariantCulture, out entryPort))
            {
                return false;
            }

            pattern = pattern[1..close];
        }
        else if (pattern.Count(c => c == ':') == 1)
        {
            int colon = pattern.IndexOf(':', StringComparison.Ordinal);
            if (!int.TryParse(pattern.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out entryPort))
            {
                return false;
            }

            pattern = pattern[..colon];
        }

        if (entryPort >= 0 && entryPort != port)
        {
            return false;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            pattern = pattern[1..];
        }

        pattern = pattern.TrimStart('.');
        if (pattern.Length == 0)
        {
            return false;
        }

        if (IPAddress.TryParse(pattern, out IPAddress? address))
        {
            return IPAddress.TryParse(host, out IPAddress? hostAddress) && address.Equals(hostAddress);
        }

        return string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase)
            || (host.Length > pattern.Length && host.EndsWith(pattern, StringComparison.OrdinalIgnoreCase) && host[host.Length - pattern.Length - 1] == '.');
    }

    private static Uri? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (!value.Contains("://", StringComparison.Ordinal))
        {
            value = "http://" + value;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && uri.Host.Length > 0 ? uri : null;
    }
}
