namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Outcome of <see cref="ServerHandshake.Negotiate"/>: either an accepted upgrade (status 101) with the
/// negotiated values, or a rejection with the HTTP status and reason to answer with. Pass it to
/// <see cref="ServerHandshake.WriteResponse(ServerHandshakeResult, System.Buffers.IBufferWriter{byte})"/>
/// to produce the response bytes. Immutable and thread-safe.
/// </summary>
public sealed class ServerHandshakeResult
{
    internal ServerHandshakeResult(
        bool isWebSocketRequest,
        int statusCode,
        string reason,
        string? key,
        string? accept,
        string? subprotocol,
        IReadOnlyList<string> requestedSubprotocols,
        IReadOnlyList<WebSocketExtensionOffer> extensionOffers,
        string? extensionsResponse,
        Compression.PerMessageDeflateParameters? perMessageDeflate = null)
    {
        PerMessageDeflate = perMessageDeflate;
        IsWebSocketRequest = isWebSocketRequest;
        StatusCode = statusCode;
        Reason = reason;
        Key = key;
        Accept = accept;
        Subprotocol = subprotocol;
        RequestedSubprotocols = requestedSubprotocols;
        ExtensionOffers = extensionOffers;
        ExtensionsResponse = extensionsResponse;
    }

    /// <summary>The permessage-deflate agreement (RFC 7692) when it was negotiated, else <see langword="null"/>.</summary>
    public Compression.PerMessageDeflateParameters? PerMessageDeflate { get; }

    /// <summary>
    /// Whether the request asked for a WebSocket upgrade at all: it has an <c>Upgrade</c> header whose token
    /// list contains <c>websocket</c> (ASCII case-insensitive). A server routes requests where this is
    /// <see langword="false"/> to its plain-HTTP fallback instead of answering with the rejection.
    /// </summary>
    public bool IsWebSocketRequest { get; }

    /// <summary>Whether the upgrade is accepted; then <see cref="StatusCode"/> is 101 and <see cref="Accept"/> is set.</summary>
    public bool IsAccepted => StatusCode == 101;

    /// <summary>
    /// 101 when accepted; otherwise the HTTP status to answer with: 400 (malformed or incomplete
    /// handshake), 403 (origin not allowed) or 426 (unsupported <c>Sec-WebSocket-Version</c>).
    /// </summary>
    public int StatusCode { get; }

    /// <summary>
    /// <c>Switching Protocols</c> when accepted; otherwise a human-readable explanation of the rejection,
    /// written as the response body. It never echoes request data.
    /// </summary>
    public string Reason { get; }

    /// <summary>The client's <c>Sec-WebSocket-Key</c> when it was present and valid; otherwise <see langword="null"/>.</summary>
    public string? Key { get; }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value (RFC 6455 §4.2.2) when accepted; otherwise <see langword="null"/>.</summary>
    public string? Accept { get; }

    /// <summary>The selected subprotocol (one of <see cref="RequestedSubprotocols"/>), or <see langword="null"/> for none.</summary>
    public string? Subprotocol { get; }

    /// <summary>
    /// The subprotocols the client offered in <c>Sec-WebSocket-Protocol</c>, in its order; empty when none
    /// were offered or the request was rejected before they were parsed.
    /// </summary>
    public IReadOnlyList<string> RequestedSubprotocols { get; }

    /// <summary>
    /// The extensions the client offered in <c>Sec-WebSocket-Extensions</c>, in its order; empty when none
    /// were offered or the request was rejected before they were parsed.
    /// </summary>
    public IReadOnlyList<WebSocketExtensionOffer> ExtensionOffers { get; }

    /// <summary>
    /// The <c>Sec-WebSocket-Extensions</c> response value returned by
    /// <see cref="ServerHandshakeOptions.ExtensionNegotiator"/>, or <see langword="null"/> when no extension
    /// is in use.
    /// </summary>
    public string? ExtensionsResponse { get; }
}
