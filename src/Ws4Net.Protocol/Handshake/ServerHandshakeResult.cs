namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Outcome of <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/>: either an accepted upgrade (status 101) with the
/// negotiated values, or a rejection with the HTTP status and reason to answer with. Pass it to
/// <see cref="ServerHandshake.WriteResponse(ServerHandshakeResult, System.Buffers.IBufferWriter{byte})"/>
/// to produce the response bytes. Immutable and thread-safe.
/// </summary>
public sealed class ServerHandshakeResult
{
    internal ServerHandshakeResult(
        ServerHandshakeKind kind,
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
        Kind = kind;
        IsAccepted = statusCode is 101 or 200;
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
        ResponseHeaders = BuildResponseHeaders();
    }

    /// <summary>Gets the kind of request this answers (HTTP/1.1 upgrade or RFC 8441 extended CONNECT).</summary>
    public ServerHandshakeKind Kind { get; }

    /// <summary>
    /// Gets the response header fields, in order, that the transport sends with <see cref="StatusCode"/>, as
    /// (name, value) pairs. Accepted HTTP/1.1: <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>,
    /// <c>Sec-WebSocket-Accept</c>, then <c>Sec-WebSocket-Protocol</c> and <c>Sec-WebSocket-Extensions</c> when
    /// negotiated (RFC 6455 §4.2.2). Accepted extended CONNECT: only <c>Sec-WebSocket-Protocol</c> and
    /// <c>Sec-WebSocket-Extensions</c> when negotiated (RFC 8441 §5: no accept value, and HTTP/2 forbids
    /// connection-specific fields). Rejected with 426: <c>Upgrade: websocket</c> (HTTP/1.1 only) and
    /// <c>Sec-WebSocket-Version: 13</c> (RFC 6455 §4.4); other rejections: none. Body framing fields
    /// (<c>Content-Type</c>, <c>Content-Length</c>, <c>Connection: close</c>) are the transport's business.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders { get; }

    /// <summary>The permessage-deflate agreement (RFC 7692) when it was negotiated, else <see langword="null"/>.</summary>
    public Compression.PerMessageDeflateParameters? PerMessageDeflate { get; }

    /// <summary>
    /// Whether the request asked for a WebSocket upgrade at all: it has an <c>Upgrade</c> header whose token
    /// list contains <c>websocket</c> (ASCII case-insensitive). A server routes requests where this is
    /// <see langword="false"/> to its plain-HTTP fallback instead of answering with the rejection.
    /// </summary>
    public bool IsWebSocketRequest { get; }

    /// <summary>
    /// Whether the upgrade is accepted; then <see cref="StatusCode"/> is 101 with <see cref="Accept"/> set
    /// (HTTP/1.1), or 200 with no accept value (extended CONNECT, RFC 8441 §5).
    /// </summary>
    public bool IsAccepted { get; }

    /// <summary>
    /// 101 when an HTTP/1.1 upgrade is accepted, 200 when an extended CONNECT is; otherwise the HTTP status to answer with: 400 (malformed or incomplete
    /// handshake), 403 (origin not allowed) or 426 (unsupported <c>Sec-WebSocket-Version</c>).
    /// </summary>
    public int StatusCode { get; }

    /// <summary>
    /// <c>Switching Protocols</c> (or <c>OK</c> for an extended CONNECT) when accepted; otherwise a human-readable explanation of the rejection,
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

    private KeyValuePair<string, string>[] BuildResponseHeaders()
    {
        bool http11 = Kind == ServerHandshakeKind.Http11Upgrade;
        var headers = new List<KeyValuePair<string, string>>(5);
        if (IsAccepted)
        {
            if (http11)
            {
                headers.Add(new("Upgrade", "websocket"));
                headers.Add(new("Connection", "Upgrade"));
                headers.Add(new("Sec-WebSocket-Accept", Accept!));
            }

            if (Subprotocol is not null)
            {
                headers.Add(new("Sec-WebSocket-Protocol", Subprotocol));
            }

            if (ExtensionsResponse is not null)
            {
                headers.Add(new("Sec-WebSocket-Extensions", ExtensionsResponse));
            }
        }
        else if (StatusCode == 426)
        {
            if (http11)
            {
                headers.Add(new("Upgrade", "websocket"));
            }

            headers.Add(new("Sec-WebSocket-Version", "13"));
        }

        return [.. headers];
    }
}
