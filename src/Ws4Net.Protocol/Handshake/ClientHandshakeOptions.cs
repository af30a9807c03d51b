namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// What a client offers in its opening handshake request (RFC 6455 §4.1). <see cref="ClientHandshake"/>
/// copies the options when constructed and validates them when the request is built.
/// </summary>
/// <remarks>Not thread-safe to mutate; do not change an instance while a <see cref="ClientHandshake"/> is being constructed from it.</remarks>
public sealed class ClientHandshakeOptions
{
    /// <summary>
    /// The subprotocols to offer in <c>Sec-WebSocket-Protocol</c>, most preferred first. Each must be a
    /// token and unique (RFC 6455 §4.1). Empty by default (no header sent). Never null.
    /// </summary>
    public IList<string> Subprotocols { get; } = new List<string>();

    /// <summary>
    /// The <c>Origin</c> header value (RFC 6454 serialization such as <c>https://example.com</c>), or
    /// <see langword="null"/> (default) to send none. Must be non-empty visible ASCII.
    /// </summary>
    public string? Origin { get; set; }

    /// <summary>
    /// Additional header fields, written after the handshake's own fields in this order. Names must be
    /// tokens other than those the handshake owns (<c>Host</c>, <c>Upgrade</c>, <c>Connection</c>,
    /// <c>Sec-WebSocket-Key</c>, <c>-Version</c>, <c>-Accept</c>, <c>-Protocol</c>, <c>-Extensions</c>),
    /// other than <c>Content-Length</c> and <c>Transfer-Encoding</c> (the request has no body), and other
    /// than <c>Origin</c> when <see cref="Origin"/> is set. Values must not contain CR, LF, NUL or other
    /// control characters except HTAB, nor characters above U+00FF. Violations throw
    /// <see cref="ArgumentException"/> when the request is built. Empty by default. Never null.
    /// </summary>
    public IList<KeyValuePair<string, string>> Headers { get; } = new List<KeyValuePair<string, string>>();

    /// <summary>
    /// The raw <c>Sec-WebSocket-Extensions</c> value to offer (for example
    /// <c>permessage-deflate; client_max_window_bits</c>), or <see langword="null"/> (default) to offer none.
    /// Must match the RFC 6455 §9.1 grammar. The server may only accept extensions named here.
    /// </summary>
    public string? ExtensionOffers { get; set; }

    /// <summary>
    /// Gets or sets the permessage-deflate offer (RFC 7692), or <see langword="null"/> (the default) for none. The offer
    /// (<see cref="Compression.PerMessageDeflateNegotiation.CreateOffer"/>) is sent before any <see cref="ExtensionOffers"/>,
    /// and the server's answer is checked and reported in <see cref="ClientHandshakeResult.PerMessageDeflate"/>.
    /// </summary>
    public Compression.PerMessageDeflateOptions? PerMessageDeflate { get; set; }
}
