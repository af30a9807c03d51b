using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// Negotiation of the permessage-deflate extension (RFC 7692 §5, §7.1), both roles, without I/O.
/// Stateless and thread-safe.
/// </summary>
public static class PerMessageDeflateNegotiation
{
    /// <summary>The extension token, <c>permessage-deflate</c>.</summary>
    public const string ExtensionName = "permessage-deflate";

    /// <summary>
    /// Server side: picks the first acceptable permessage-deflate offer, in the client's preference
    /// order. An offer with an unknown, repeated or invalid parameter is declined (RFC 7692 §7.1), as is
    /// one asking for <c>server_max_window_bits=8</c>, which zlib cannot produce. Every window 9-15 the
    /// client asks for is complied with.
    /// </summary>
    /// <param name="offers">The client's offers, from <c>Sec-WebSocket-Extensions</c>, in order.</param>
    /// <param name="options">What this server accepts and how it compresses.</param>
    /// <param name="agreed">The agreement, whose <see cref="PerMessageDeflateParameters.ToHeaderValue"/> is the response.</param>
    /// <returns><see langword="true"/> when an offer was accepted; <see langword="false"/> also when no zlib works in this process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static bool TryAccept(IReadOnlyList<WebSocketExtensionOffer> offers, PerMessageDeflateOptions options, [NotNullWhen(true)] out PerMessageDeflateParameters? agreed)
    {
        ArgumentNullException.ThrowIfNull(offers);
        ArgumentNullException.ThrowIfNull(options);
        if (!ZlibBackends.IsAvailable)
        {
            // No working zlib in this process (docs/compression.md): decline, the connection goes on uncompressed.
            agreed = null;
            return false;
        }

        foreach (WebSocketExtensionOffer offer in offers)
        {
            if (!string.Equals(offer.Name, ExtensionName, StringComparison.OrdinalIgnoreCase)
                || !TryReadParameters(offer, out Parameters p))
            {
                continue;
            }

            int serverBits = Math.Min(options.ServerMaxWindowBits, p.ServerMaxWindowBits ?? 15);
            if (serverBits < 9)
            {
                continue;   // asked for an 8-bit window: decline this offer
            }

            int? answeredServerBits = p.ServerMaxWindowBits is not null || serverBits < 15 ? serverBits : null;
            int? answeredClientBits = null;
            if (p.ClientMaxWindowBitsOffered)
            {
                int clientBits = Math.Min(options.ClientMaxWindowBits, p.ClientMaxWindowBits ?? 15);
                answeredClientBits = clientBits < 15 || p.ClientMaxWindowBits is not null ? clientBits : null;
            }

            agreed = new PerMessageDeflateParameters(
                p.ServerNoContextTakeover || options.ServerNoContextTakeover,
                p.ClientNoContextTakeover || options.ClientNoContextTakeover,
                answeredServerBits,
                answeredClientBits,
                options.CompressionLevel,
                options.MemoryLevel,
                options.Threshold);
            return true;
        }

        agreed = null;
        return false;
    }

    /// <summary>
    /// Client side: the offer to send in <c>Sec-WebSocket-Extensions</c>. It always carries
    /// <c>client_max_window_bits</c> (with a value when <see cref="PerMessageDeflateOptions.ClientMaxWindowBits"/> is below 15),
    /// so the server may ask for a smaller client window.
    /// </summary>
    /// <param name="options">What the client asks for.</param>
    /// <returns>The header value, for example <c>permessage-deflate; client_max_window_bits</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static string CreateOffer(PerMessageDeflateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new StringBuilder(ExtensionName);
        if (options.ServerNoContextTakeover)
        {
            builder.Append("; server_no_context_takeover");
        }

        if (options.ClientNoContextTakeover)
        {
            builder.Append("; client_no_context_takeover");
        }

        if (options.ServerMaxWindowBits < 15)
        {
            builder.Append(CultureInfo.InvariantCulture, $"; server_max_window_bits={options.ServerMaxWindowBits}");
        }

        builder.Append("; client_max_window_bits");
        if (options.ClientMaxWindowBits < 15)
        {
            builder.Append(CultureInfo.InvariantCulture, $"={options.ClientMaxWindowBits}");
        }

        return builder.ToString();
    }

    /// <summary>
    /// Client side: checks the server's answer against what <see cref="CreateOffer"/> offered and
    /// returns the agreement. RFC 7692 §7.1: an unknown, repeated or invalid parameter, a window larger
    /// than offered, a missing <c>server_no_context_takeover</c> or <c>server_max_window_bits</c> that was
    /// asked for, or more than one permessage-deflate answer fail the connection.
    /// </summary>
    /// <param name="response">The server's accepted extensions.</param>
    /// <param name="options">What the client offered.</param>
    /// <returns>The agreement, or <see langword="null"/> when the server did not accept permessage-deflate.</returns>
    /// <exception cref="WebSocketHandshakeException">The answer is not acceptable.</exception>
    public static PerMessageDeflateParameters? ValidateResponse(IReadOnlyList<WebSocketExtensionOffer> response, PerMessageDeflateOptions options)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(options);
        WebSocketExtensionOffer? accepted = null;
        foreach (WebSocketExtensionOffer extension in response)
        {
            if (!string.Equals(extension.Name, ExtensionName, StringComparison.OrdinalIgnoreCase))
            {
                throw new WebSocketHandshakeException($"the server accepted an extension that was not offered: {extension.Name}");
            }

            if (accepted is not null)
            {
                throw new WebSocketHandshakeException("the server accepted permessage-deflate more than once");
            }

            accepted = extension;
        }

        if (accepted is null)
        {
            return null;
        }

        if (!TryReadParameters(accepted, out Parameters p))
        {
            throw new WebSocketHandshakeException($"invalid permessage-deflate parameters in the server's answer: {accepted}");
        }

        if (options.ServerNoContextTakeover && !p.ServerNoContextTakeover)
        {
            throw new WebSocketHandshakeException("the server did not agree to server_no_context_takeover, which was asked for");
        }

        if (p.ServerMaxWindowBits is { } serverBits && options.ServerMaxWindowBits < 15 && serverBits > options.ServerMaxWindowBits)
        {
            throw new WebSocketHandshakeException($"server_max_window_bits={serverBits} is larger than the {options.ServerMaxWindowBits} asked for");
        }

        // RFC 7692 §7.1.2.1: a server accepts an offer with server_max_window_bits by answering it (same or smaller).
        if (p.ServerMaxWindowBits is null && options.ServerMaxWindowBits < 15)
        {
            throw new WebSocketHandshakeException($"the server did not answer server_max_window_bits, which was asked for ({options.ServerMaxWindowBits}): it may compress with a 15-bit window");
        }

        int? clientBits = options.ClientMaxWindowBits < 15 ? options.ClientMaxWindowBits : null;
        if (p.ClientMaxWindowBitsOffered)
        {
            if (p.ClientMaxWindowBits is not { } answered)
            {
                throw new WebSocketHandshakeException("client_max_window_bits in the server's answer must carry a value");
            }

            if (answered < 9)
            {
                throw new WebSocketHandshakeException("client_max_window_bits=8 cannot be honoured (zlib's smallest raw window is 9 bits)");
            }

            if (answered > options.ClientMaxWindowBits)
            {
                throw new WebSocketHandshakeException($"client_max_window_bits={answered} is larger than the {options.ClientMaxWindowBits} offered");
            }

            clientBits = answered;
        }

        return new PerMessageDeflateParameters(
            p.ServerNoContextTakeover,
            p.ClientNoContextTakeover || options.ClientNoContextTakeover,
            p.ServerMaxWindowBits,
            clientBits,
            options.CompressionLevel,
            options.MemoryLevel,
            options.Threshold);
    }

    private struct Parameters
    {
        public bool ServerNoContextTakeover;
        public bool ClientNoContextTakeover;
        public int? ServerMaxWindowBits;
        public bool ClientMaxWindowBitsOffered;
        public int? ClientMaxWindowBits;
    }

    private static bool TryReadParameters(WebSocketExtensionOffer offer, out Parameters p)
    {
        p = default;
        bool seenServerBits = false;
        foreach (KeyValuePair<string, string?> parameter in offer.Parameters)
        {
            switch (parameter.Key.ToLowerInvariant())
            {
                case "server_no_context_takeover":
                    if (parameter.Value is not null || p.ServerNoContextTakeover)
                    {
                        return false;
                    }

                    p.ServerNoContextTakeover = true;
                    break;
                case "client_no_context_takeover":
                    if (parameter.Value is not null || p.ClientNoContextTakeover)
                    {
                        return false;
                    }

                    p.ClientNoContextTakeover = true;
                    break;
                case "server_max_window_bits":
                    if (seenServerBits || !TryParseWindowBits(parameter.Value, out int serverBits))
                    {
                        return false;
                    }

                    seenServerBits = true;
                    p.ServerMaxWindowBits = serverBits;
                    break;
                case "client_max_window_bits":
                    if (p.ClientMaxWindowBitsOffered)
                    {
                        return false;
                    }

                    p.ClientMaxWindowBitsOffered = true;
                    if (parameter.Value is not null)
                    {
                        if (!TryParseWindowBits(parameter.Value, out int clientBits))
                        {
                            return false;
                        }

                        p.ClientMaxWindowBits = clientBits;
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>RFC 7692 §7.1.2: a decimal 8-15 without leading zeros.</summary>
    private static bool TryParseWindowBits(string? value, out int bits)
    {
        bits = 0;
        if (value is null || value.Length is < 1 or > 2 || value[0] == '0')
        {
            return false;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out bits) && bits is >= 8 and <= 15;
    }
}
