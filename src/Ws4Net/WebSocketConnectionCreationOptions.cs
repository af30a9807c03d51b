using Microsoft.Extensions.Logging;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Compression;

namespace Ws4Net;

/// <summary>
/// What a <see cref="WebSocketConnection"/> is created with, after an opening handshake that happened
/// elsewhere (RFC 6455 §4): the role, the outcome of the negotiation (subprotocol, permessage-deflate),
/// bytes already read past the handshake, and the connection's options and logger. Used by adapters
/// that do their own handshake (a custom server, a host's upgrade feature, a test).
/// </summary>
/// <remarks>A plain settings object: not thread-safe while being filled; read once by the constructor.</remarks>
public sealed class WebSocketConnectionCreationOptions
{
    /// <summary>Gets or sets the role: a client masks its frames and expects unmasked ones (RFC 6455 §5.1). Default: server.</summary>
    public WebSocketRole Role { get; set; } = WebSocketRole.Server;

    /// <summary>Gets or sets limits, buffers and timeouts; <see langword="null"/> for the defaults.</summary>
    public WebSocketConnectionOptions? Options { get; set; }

    /// <summary>Gets or sets the upgrade request as the server saw it (server role), or <see langword="null"/>.</summary>
    public WebSocketUpgradeRequest? Request { get; set; }

    /// <summary>Gets or sets the negotiated subprotocol (RFC 6455 §1.9), or <see langword="null"/>.</summary>
    public string? Subprotocol { get; set; }

    /// <summary>Gets or sets the negotiated permessage-deflate agreement (RFC 7692), or <see langword="null"/> for none.</summary>
    public PerMessageDeflateParameters? PerMessageDeflate { get; set; }

    /// <summary>Gets or sets bytes already read from the transport after the handshake (frames the peer sent early); copied by the constructor.</summary>
    public ReadOnlyMemory<byte> BufferedInput { get; set; }

    /// <summary>Gets or sets where connection events are logged; <see langword="null"/> for none.</summary>
    public ILogger? Logger { get; set; }
}
