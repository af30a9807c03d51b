using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Ws4Net.Client;

/// <summary>
/// The client side of a SOCKS5 CONNECT (RFC 1928) with no authentication or username/password (RFC 1929).
/// Host names are sent to the proxy to resolve (as <c>socks5h</c> does); IP literals as addresses.
/// </summary>
internal static class Socks5Tunnel
{
    private const byte Version = 5;
    private const byte NoAuthentication = 0;
    private const byte UsernamePassword = 2;
    private const byte NoAcceptableMethod = 0xFF;

    /// <summary>Connects to the proxy and asks it for a TCP connection to <paramref name="target"/>:<paramref name="port"/>; returns the tunnel.</summary>
    public static async Task<Stream> OpenAsync(WebSocketClientOptions options, Uri proxy, NetworkCredential? credential, Uri target, int port, CancellationToken cancellationToken)
    {
        Stream? stream = await WebSocketClient.OpenSocketAsync(options, proxy.DnsSafeHost, proxy.Port < 0 ? 1080 : proxy.Port, cancellationToken).ConfigureAwait(false);
        try
        {
            byte[] user = Encoding.UTF8.GetBytes(credential?.UserName ?? string.Empty);
            byte[] password = Encoding.UTF8.GetBytes(credential?.Password ?? string.Empty);
            if (user.Length > 255 || password.Length > 255)
            {
                throw Fail(WebSocketConnectError.Proxy, target, proxy, "the SOCKS5 user name and password must each be at most 255 UTF-8 bytes");
            }

            // Greeting: version, the methods offered.
            byte[] greeting = credential is null ? [Version, 1, NoAuthentication] : [Version, 2, NoAuthentication, UsernamePassword];
            await stream.WriteAsync(greeting, cancellationToken).ConfigureAwait(false);
            byte[] reply = new byte[2];
            await ReadExactlyAsync(stream, reply, target, proxy, cancellationToken).ConfigureAwait(false);
            if (reply[0] != Version)
            {
                throw Fail(WebSocketConnectError.Proxy, target, proxy, "it does not speak SOCKS5");
            }

            if (reply[1] == NoAcceptableMethod || (reply[1] == UsernamePassword && credential is null))
            {
                throw Fail(WebSocketConnectError.ProxyAuthenticationRequired, target, proxy, credential is null ? "it requires authentication and no credentials were configured" : "it accepts none of the authentication methods offered");
            }

            if (reply[1] == UsernamePassword)
            {
                byte[] login = [1, (byte)user.Length, .. user, (byte)password.Length, .. password];
                await stream.WriteAsync(login, cancellationToken).ConfigureAwait(false);
                await ReadExactlyAsync(stream, reply, target, proxy, cancellationToken).ConfigureAwait(false);
                if (reply[1] != 0)
                {
                    throw Fail(WebSocketConnectError.ProxyAuthenticationRequired, target, proxy, "the credentials were rejected");
                }
            }
            else if (reply[1] != NoAuthentication)
            {
                throw Fail(WebSocketConnectError.Proxy, target, proxy, $"it chose an authentication method that was not offered ({reply[1]})");
            }

            // CONNECT request: version, command 1, reserved, address, port.
            byte[] address = target.HostNameType switch
            {
                UriHostNameType.IPv4 => [1, .. IPAddress.Parse(target.DnsSafeHost).GetAddressBytes()],
                UriHostNameType.IPv6 => [4, .. IPAddress.Parse(target.DnsSafeHost).GetAddressBytes()],
                _ => HostName(target),
            };
            byte[] request = new byte[3 + address.Length + 2];
            request[0] = Version;
            request[1] = 1;
            address.CopyTo(request, 3);
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(request.Length - 2), (ushort)port);
            await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);

            byte[] head = new byte[4];
            await ReadExactlyAsync(stream, head, target, proxy, cancellationToken).ConfigureAwait(false);
            if (head[1] != 0)
            {
                (WebSocketConnectError error, string text) = head[1] switch
                {
                    2 => (WebSocketConnectError.Proxy, "the connection is not allowed by its rules"),
                    3 => (WebSocketConnectError.Network, "network unreachable"),
                    4 => (WebSocketConnectError.Network, "host unreachable"),
                    5 => (WebSocketConnectError.ConnectionRefused, "the server refused the connection"),
                    6 => (WebSocketConnectError.Timeout, "TTL expired"),
                    7 => (WebSocketConnectError.Proxy, "command not supported"),
                    8 => (WebSocketConnectError.Proxy, "address type not supported"),
                    _ => (WebSocketConnectError.Proxy, "general failure"),
                };
                throw Fail(error, target, proxy, $"{text} (SOCKS5 reply {head[1]})");
            }

            // The bound address and port, which a client has no use for.
            int rest = head[3] switch
            {
                1 => 4,
                4 => 16,
                3 => await ReadLengthAsync(stream, target, proxy, cancellationToken).ConfigureAwait(false),
                _ => throw Fail(WebSocketConnectError.Proxy, target, proxy, $"unknown address type {head[3]} in its reply"),
            };
            await ReadExactlyAsync(stream, new byte[rest + 2], target, proxy, cancellationToken).ConfigureAwait(false);

            Stream tunnel = stream;
            stream = null;
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

    private static byte[] HostName(Uri target)
    {
        byte[] name = Encoding.ASCII.GetBytes(target.IdnHost);
        if (name.Length > 255)
        {
            throw new ArgumentException("The host name is longer than 255 bytes, which SOCKS5 cannot carry.", nameof(target));
        }

        return [3, (byte)name.Length, .. name];
    }

    private static async Task<int> ReadLengthAsync(Stream stream, Uri target, Uri proxy, CancellationToken cancellationToken)
    {
        byte[] length = new byte[1];
        await ReadExactlyAsync(stream, length, target, proxy, cancellationToken).ConfigureAwait(false);
        return length[0];
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer, Uri target, Uri proxy, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new WebSocketConnectException(WebSocketConnectError.Proxy, $"Cannot connect to {target}: the SOCKS5 proxy {proxy.Authority} closed the connection.", target, 0, null, ex);
        }
    }

    private static WebSocketConnectException Fail(WebSocketConnectError error, Uri target, Uri proxy, string what)
        => new(error, $"Cannot connect to {target}: the SOCKS5 proxy {proxy.Authority} refused: {what}.", target, 0, null, null);
}
