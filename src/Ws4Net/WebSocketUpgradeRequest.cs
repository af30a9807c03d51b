using System.Net;
using System.Security.Claims;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net;

/// <summary>
/// What a server handler sees of the HTTP upgrade request that opened its connection (RFC 6455 §4.1,
/// §4.2.1): path, query, headers, cookies, endpoints and the negotiated subprotocol. Immutable once
/// created; safe to read from any thread.
/// </summary>
public sealed class WebSocketUpgradeRequest
{
    private IReadOnlyDictionary<string, string>? _query;
    private IReadOnlyDictionary<string, string>? _cookies;

    /// <summary>Creates the request view.</summary>
    /// <param name="head">The parsed request head.</param>
    /// <param name="remoteEndPoint">The peer's address, when known.</param>
    /// <param name="localEndPoint">Our address, when known.</param>
    /// <param name="isSecure">Whether the request arrived over TLS (wss).</param>
    /// <param name="subprotocol">The subprotocol the server selected, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="head"/> is null.</exception>
    public WebSocketUpgradeRequest(HttpRequestHead head, EndPoint? remoteEndPoint, EndPoint? localEndPoint, bool isSecure, string? subprotocol)
    {
        ArgumentNullException.ThrowIfNull(head);
        Head = head;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        IsSecure = isSecure;
        Subprotocol = subprotocol;
    }

    /// <summary>Gets the raw request head (method, target, version, headers).</summary>
    public HttpRequestHead Head { get; }

    /// <summary>Gets the request path, percent-decoded (for example <c>/chat</c>).</summary>
    public string Path => Uri.UnescapeDataString(Head.Path);

    /// <summary>Gets the raw query string without the leading <c>?</c> (empty when none).</summary>
    public string QueryString => Head.Query;

    /// <summary>Gets the query parameters, percent-decoded; for a repeated name, the last value wins.</summary>
    public IReadOnlyDictionary<string, string> Query => _query ??= ParseQuery(Head.Query);

    /// <summary>Gets the header fields (case-insensitive names).</summary>
    public HttpHeaderCollection Headers => Head.Headers;

    /// <summary>Gets the cookies from the <c>Cookie</c> header(s) (RFC 6265 §5.4), by name.</summary>
    public IReadOnlyDictionary<string, string> Cookies => _cookies ??= ParseCookies(Head.Headers.GetValues("Cookie"));

    /// <summary>Gets the <c>Origin</c> header (RFC 6455 §10.2), or <see langword="null"/>.</summary>
    public string? Origin => Head.Headers.TryGetValue("Origin", out string? origin) ? origin : null;

    /// <summary>Gets the <c>Host</c> header.</summary>
    public string? Host => Head.Headers.TryGetValue("Host", out string? host) ? host : null;

    /// <summary>Gets the peer's address, when known.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Gets our address, when known.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>Gets whether the connection is over TLS (wss).</summary>
    public bool IsSecure { get; }

    /// <summary>Gets the negotiated subprotocol (RFC 6455 §1.9), or <see langword="null"/>.</summary>
    public string? Subprotocol { get; }

    /// <summary>
    /// Gets the authenticated user of the upgrade request, when the host authenticates (ASP.NET Core sets the
    /// request's <c>HttpContext.User</c>); an unauthenticated principal with no identity by default, created on first
    /// read (an idle standalone connection holds none). Set once at creation.
    /// </summary>
    public ClaimsPrincipal User
    {
        get => _user ??= new ClaimsPrincipal();
        init => _user = value;
    }

    private ClaimsPrincipal? _user;

    /// <summary>
    /// Gets the values a route template captured from the path (for example <c>name</c> for <c>/rooms/{name}</c>),
    /// by parameter name (ordinal, case-insensitive); empty when the route has no parameters. Set once at creation.
    /// </summary>
    public IReadOnlyDictionary<string, string?> RouteValues { get; init; } = EmptyRouteValues;

    /// <summary>
    /// Gets the host's own request object when the connection was accepted by a host other than
    /// <see cref="Server.WebSocketServer"/> (an ASP.NET Core <c>HttpContext</c> under Kestrel; Ws4Net.AspNetCore
    /// reads it with <c>GetHttpContext()</c>), or <see langword="null"/>. It stays valid while the connection is open.
    /// </summary>
    public object? HostContext { get; init; }

    private static readonly IReadOnlyDictionary<string, string?> EmptyRouteValues =
        new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase).AsReadOnly();

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? string.Empty : part[(eq + 1)..];
            result[Decode(name)] = Decode(value);
        }

        return result;

        static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
    }

    private static Dictionary<string, string> ParseCookies(IReadOnlyList<string> headers)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string header in headers)
        {
            foreach (string pair in header.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }

                string value = pair[(eq + 1)..].Trim();
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }

                result.TryAdd(pair[..eq].Trim(), value);
            }
        }

        return result;
    }
}
