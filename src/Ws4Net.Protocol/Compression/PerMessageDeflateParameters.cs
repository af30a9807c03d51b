using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Compression;

/// <summary>
/// The permessage-deflate agreement of one connection (RFC 7692 §7.1): the parameters of the
/// server's accepted response, plus the compression settings this endpoint uses. Immutable and
/// thread-safe.
/// </summary>
public sealed class PerMessageDeflateParameters
{
    /// <summary>Creates an agreement.</summary>
    /// <param name="serverNoContextTakeover">The server resets its compressor after each message.</param>
    /// <param name="clientNoContextTakeover">The client resets its compressor after each message.</param>
    /// <param name="serverMaxWindowBits">The server's window limit in bits (8-15), or <see langword="null"/> when not stated (15).</param>
    /// <param name="clientMaxWindowBits">The client's window limit in bits (8-15), or <see langword="null"/> when not stated (15, or what the client offered).</param>
    /// <param name="compressionLevel">zlib level 0-9 this endpoint compresses with.</param>
    /// <param name="memoryLevel">zlib memLevel 1-9 this endpoint compresses with.</param>
    /// <param name="threshold">Smallest message, in bytes, this endpoint compresses.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public PerMessageDeflateParameters(
        bool serverNoContextTakeover,
        bool clientNoContextTakeover,
        int? serverMaxWindowBits,
        int? clientMaxWindowBits,
        int compressionLevel = 6,
        int memoryLevel = 8,
        int threshold = 1024)
    {
        if (serverMaxWindowBits is < 8 or > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(serverMaxWindowBits));
        }

        if (clientMaxWindowBits is < 8 or > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(clientMaxWindowBits));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(compressionLevel, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(compressionLevel, 9);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryLevel, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryLevel, 9);
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        ServerNoContextTakeover = serverNoContextTakeover;
        ClientNoContextTakeover = clientNoContextTakeover;
        ServerMaxWindowBits = serverMaxWindowBits;
        ClientMaxWindowBits = clientMaxWindowBits;
        CompressionLevel = compressionLevel;
        MemoryLevel = memoryLevel;
        Threshold = threshold;
    }

    /// <summary>Gets whether the server resets its compressor after each message.</summary>
    public bool ServerNoContextTakeover { get; }

    /// <summary>Gets whether the client resets its compressor after each message.</summary>
    public bool ClientNoContextTakeover { get; }

    /// <summary>Gets the server's window limit in bits, or <see langword="null"/> (15).</summary>
    public int? ServerMaxWindowBits { get; }

    /// <summary>Gets the client's window limit in bits, or <see langword="null"/> (15).</summary>
    public int? ClientMaxWindowBits { get; }

    /// <summary>Gets the zlib level this endpoint compresses with (0-9).</summary>
    public int CompressionLevel { get; }

    /// <summary>Gets the zlib memLevel this endpoint compresses with (1-9).</summary>
    public int MemoryLevel { get; }

    /// <summary>Gets the smallest message, in bytes, this endpoint compresses.</summary>
    public int Threshold { get; }

    /// <summary>Returns whether the endpoint in <paramref name="role"/> resets its compressor after each message.</summary>
    /// <param name="role">The sending endpoint's role.</param>
    /// <returns><see langword="true"/> for no context takeover.</returns>
    public bool SendNoContextTakeover(WebSocketRole role) => role == WebSocketRole.Server ? ServerNoContextTakeover : ClientNoContextTakeover;

    /// <summary>Returns the window (bits) the endpoint in <paramref name="role"/> compresses with.</summary>
    /// <param name="role">The sending endpoint's role.</param>
    /// <returns>9-15.</returns>
    public int SendWindowBits(WebSocketRole role) => (role == WebSocketRole.Server ? ServerMaxWindowBits : ClientMaxWindowBits) ?? 15;

    /// <summary>Returns whether the peer of the endpoint in <paramref name="role"/> resets its compressor after each message.</summary>
    /// <param name="role">The receiving endpoint's role.</param>
    /// <returns><see langword="true"/> for no context takeover.</returns>
    public bool ReceiveNoContextTakeover(WebSocketRole role) => role == WebSocketRole.Server ? ClientNoContextTakeover : ServerNoContextTakeover;

    /// <summary>
    /// Returns the smallest window (bits) that decodes what the peer of the endpoint in <paramref name="role"/>
    /// agreed to send. <see cref="WebSocketProtocol"/> itself always inflates with 15 bits, which decodes every
    /// agreed window and judges a peer that exceeds its window the same under any chunking.
    /// </summary>
    /// <param name="role">The receiving endpoint's role.</param>
    /// <returns>9-15 (a window of 8 bits is decoded with 9).</returns>
    public int ReceiveWindowBits(WebSocketRole role) => Math.Max(9, (role == WebSocketRole.Server ? ClientMaxWindowBits : ServerMaxWindowBits) ?? 15);

    /// <summary>Renders the server's response: <c>permessage-deflate</c> with the agreed parameters (RFC 7692 §7.1).</summary>
    /// <returns>The <c>Sec-WebSocket-Extensions</c> value.</returns>
    public string ToHeaderValue()
    {
        var builder = new StringBuilder(PerMessageDeflateNegotiation.ExtensionName);
        if (ServerNoContextTakeover)
        {
            builder.Append("; server_no_context_takeover");
        }

        if (ClientNoContextTakeover)
        {
            builder.Append("; client_no_context_takeover");
        }

        if (ServerMaxWindowBits is { } server)
        {
            builder.Append(CultureInfo.InvariantCulture, $"; server_max_window_bits={server}");
        }

        if (ClientMaxWindowBits is { } client)
        {
            builder.Append(CultureInfo.InvariantCulture, $"; client_max_window_bits={client}");
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => ToHeaderValue();
}
