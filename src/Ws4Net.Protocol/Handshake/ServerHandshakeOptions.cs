namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Policy for <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/>: which subprotocols and extensions the server accepts
/// and which origins may connect (RFC 6455 §4.2.2).
/// </summary>
/// <remarks>
/// Not thread-safe to mutate. Once configured, one instance may be shared by any number of concurrent
/// <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> calls, which only read it; the delegates must then be
/// thread-safe themselves.
/// </remarks>
public sealed class ServerHandshakeOptions
{
    /// <summary>
    /// The subprotocols the server supports, in server preference order. When
    /// <see cref="SubprotocolSelector"/> is null, the first entry that the client also offered (ordinal,
    /// case-sensitive comparison) is selected; when none matches, the handshake succeeds without a
    /// subprotocol. Empty by default. Never null.
    /// </summary>
    public IList<string> Subprotocols { get; } = new List<string>();

    /// <summary>
    /// Optional custom subprotocol choice, which takes precedence over <see cref="Subprotocols"/>. Called only
    /// when the client offered at least one subprotocol, with the client's list in its order; returns one
    /// of those values (compared ordinally) or <see langword="null"/> for none. Returning anything else is a
    /// programming error that makes <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> throw
    /// <see cref="InvalidOperationException"/>. Null by default.
    /// </summary>
    public Func<IReadOnlyList<string>, string?>? SubprotocolSelector { get; set; }

    /// <summary>
    /// Optional extension negotiation hook (for example for permessage-deflate, RFC 7692). Called only when
    /// the client offered at least one extension, with the parsed offers in the client's order; returns the
    /// <c>Sec-WebSocket-Extensions</c> response value, or <see langword="null"/> (or whitespace) to accept
    /// none. The value must match the RFC 6455 §9.1 grammar and name only extensions the client offered,
    /// otherwise <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> throws <see cref="InvalidOperationException"/>.
    /// Null by default (no extension is ever accepted).
    /// </summary>
    public Func<IReadOnlyList<WebSocketExtensionOffer>, string?>? ExtensionNegotiator { get; set; }

    /// <summary>
    /// Gets or sets what the server accepts of permessage-deflate (RFC 7692), or <see langword="null"/> (the default)
    /// to decline it. When set and the client offers it, <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> accepts the first
    /// acceptable offer (see <see cref="Compression.PerMessageDeflateNegotiation.TryAccept"/>), answers it and reports
    /// the agreement in <see cref="ServerHandshakeResult.PerMessageDeflate"/>; <see cref="ExtensionNegotiator"/>
    /// is then not called.
    /// </summary>
    public Compression.PerMessageDeflateOptions? PerMessageDeflate { get; set; }

    /// <summary>
    /// When <see langword="true"/>, a request without an <c>Origin</c> header is rejected with 403 even if
    /// <see cref="AllowedOrigins"/> is empty. Default <see langword="false"/>.
    /// </summary>
    public bool RequireOrigin { get; set; }

    /// <summary>
    /// The origins allowed to connect (RFC 6454 serializations such as <c>https://example.com</c>, compared
    /// ASCII case-insensitively, RFC 6455 §10.2). When non-empty, a request whose <c>Origin</c> header is
    /// absent, repeated or not listed is rejected with 403 (Forbidden). Empty by default (any origin).
    /// Never null.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = new List<string>();
}
