using System.Net;

namespace Ws4Net.Cli.Bench;

/// <summary>Where the load goes: a <c>ws://</c> URL with an IP address (no TLS, no DNS on the hot path). Immutable.</summary>
internal sealed class BenchTarget
{
    private BenchTarget(Uri uri, IPEndPoint endPoint)
    {
        Uri = uri;
        EndPoint = endPoint;
    }

    /// <summary>Gets the URL.</summary>
    public Uri Uri { get; }

    /// <summary>Gets the server's address and port.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Parses a <c>ws://HOST:PORT/PATH</c> URL; <c>localhost</c> means 127.0.0.1.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="target">The target, or <see langword="null"/>.</param>
    /// <param name="error">Why the URL is not usable, or <see langword="null"/>.</param>
    /// <returns>Whether the URL is usable.</returns>
    public static bool TryParse(string? url, out BenchTarget? target, out string? error)
    {
        target = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("ws" or "http"))
        {
            error = $"'{url}' is not a ws:// URL (the load generator does not do TLS)";
            return false;
        }

        IPAddress? address = uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns ? IPAddress.Loopback : null;
        if (address is null && !IPAddress.TryParse(uri.IdnHost, out address))
        {
            error = $"'{uri.Host}' is not an IP address (use 127.0.0.1)";
            return false;
        }

        target = new BenchTarget(uri, new IPEndPoint(address, uri.Port));
        error = null;
        return true;
    }
}
