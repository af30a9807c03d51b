using System.CommandLine;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ws4Net.Client;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// The client options shared by <c>connect</c> and <c>send</c>: URL, subprotocols, headers, origin, TLS trust
/// (<c>--insecure</c>, <c>--cacert</c>), compression, proxy, redirects and the connect timeout.
/// </summary>
internal sealed class ClientOptionSet
{
    private readonly Option<string[]> _subprotocols = new("--subprotocol") { Description = "Subprotocol to offer (repeatable).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _headers = new("--header", "-H") { Description = "Extra request header as Name:Value (repeatable)." };
    private readonly Option<string?> _origin = new("--origin") { Description = "Origin header to send." };
    private readonly Option<bool> _insecure = new("--insecure", "-k") { Description = "Do not validate the server's TLS certificate (testing only)." };
    private readonly Option<FileInfo?> _caCert = new("--cacert") { Description = "PEM file of CA certificates to trust for wss (instead of the system store); the host name is still checked." };
    private readonly Option<bool> _compress = new("--compress") { Description = "Offer permessage-deflate (RFC 7692)." };
    private readonly Option<double> _timeout = new("--connect-timeout") { Description = "Connect timeout in seconds.", DefaultValueFactory = _ => 10 };
    private readonly Option<string?> _proxy = new("--proxy") { Description = "Proxy URL: http://[user:pass@]host:port (HTTP CONNECT) or socks5://[user:pass@]host:port; default: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY." };
    private readonly Option<bool> _noProxy = new("--no-proxy") { Description = "Connect directly, ignoring the proxy environment variables." };
    private readonly Option<int> _maxRedirects = new("--max-redirects") { Description = "Redirects (301/302/303/307/308) to follow on the handshake.", DefaultValueFactory = _ => 0 };

    /// <summary>Gets the URL argument.</summary>
    public Argument<string> Url { get; } = new("url") { Description = "ws:// or wss:// URL." };

    /// <summary>Adds the argument and the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Url);
        foreach (Option option in new Option[] { _subprotocols, _headers, _origin, _insecure, _caCert, _compress, _timeout, _proxy, _noProxy, _maxRedirects })
        {
            command.Add(option);
        }
    }

    /// <summary>Builds the target URI and client options, or returns a usage error message (exit code 2).</summary>
    public (Uri? Target, WebSocketClientOptions? Options, string? Error) Build(ParseResult parse)
    {
        string raw = parse.GetValue(Url) ?? string.Empty;
        if (!Uri.TryCreate(raw, UriKind.Absolute, out Uri? target) || target.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            return (null, null, $"'{raw}' is not a ws:// or wss:// URL");
        }

        int redirects = parse.GetValue(_maxRedirects);
        if (redirects is < 0 or > 20)
        {
            return (null, null, "--max-redirects must be between 0 and 20");
        }

        var options = new WebSocketClientOptions
        {
            Origin = parse.GetValue(_origin),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(_timeout))),
            PerMessageDeflate = parse.GetValue(_compress) ? new Ws4Net.Protocol.Compression.PerMessageDeflateOptions() : null,
            MaxRedirects = redirects,
            UseProxy = !parse.GetValue(_noProxy),
        };
        foreach (string p in parse.GetValue(_subprotocols) ?? [])
        {
            options.Subprotocols.Add(p);
        }

        foreach (string h in parse.GetValue(_headers) ?? [])
        {
            int colon = h.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (null, null, $"--header must be Name:Value, got '{h}'");
            }

            options.Headers.Add(new(h[..colon].Trim(), h[(colon + 1)..].Trim()));
        }

        if (parse.GetValue(_proxy) is { } proxy)
        {
            if (!Uri.TryCreate(proxy.Contains("://", StringComparison.Ordinal) ? proxy : "http://" + proxy, UriKind.Absolute, out Uri? proxyUri))
            {
                return (null, null, $"--proxy '{proxy}' is not a URL");
            }

            options.Proxy = new WebProxy(proxyUri);
        }

        bool insecure = parse.GetValue(_insecure);
        FileInfo? caFile = parse.GetValue(_caCert);
        if (insecure && caFile is not null)
        {
            return (null, null, "--insecure and --cacert cannot be combined");
        }

        if (insecure)
        {
            options.RemoteCertificateValidation = (_, _, _, _) => true;
        }
        else if (caFile is not null)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(caFile.FullName);
            }
            catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
            {
                return (null, null, $"cannot read --cacert {caFile.FullName}: {ex.Message}");
            }

            if (roots.Count == 0)
            {
                return (null, null, $"--cacert {caFile.FullName} holds no PEM certificate");
            }

            options.RemoteCertificateValidation = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors);
        }

        return (target, options, null);
    }

    /// <summary>The error line for a failed connect: the exception's message starting in lowercase, and the reason.</summary>
    internal static string Describe(WebSocketConnectException ex)
        => string.Concat(ex.Message[..1].ToLowerInvariant(), ex.Message.AsSpan(1), $" [{ex.Error}]");

    /// <summary>Accepts the server certificate when its chain ends at one of <paramref name="roots"/> and nothing else is wrong (the name must match).</summary>
    internal static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
