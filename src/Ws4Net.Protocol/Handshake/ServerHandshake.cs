using System.Buffers;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Server side of the opening handshake (RFC 6455 §4.2, RFC 8441 §5): validates the request (an HTTP/1.1
/// upgrade or an HTTP/2 extended CONNECT), negotiates the subprotocol and extensions once for both, and
/// expresses the response as data (<see cref="ServerHandshakeResult.StatusCode"/>,
/// <see cref="ServerHandshakeResult.ResponseHeaders"/>); <see cref="WriteResponse(ServerHandshakeResult)"/>
/// turns an HTTP/1.1 result into bytes.
/// Stateless and thread-safe (the options' delegates must be thread-safe when shared).
/// </summary>
public static class ServerHandshake
{
    private const string SupportedVersion = "13";

    /// <summary>
    /// Validates an HTTP/1.1 WebSocket upgrade request (RFC 6455 §4.2.1) and negotiates the connection parameters
    /// (§4.2.2): the same as <see cref="Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> with
    /// <see cref="ServerHandshakeRequest.FromHttp11"/>. Checks, in order: method <c>GET</c>; version <c>HTTP/1.1</c>; exactly one non-empty
    /// <c>Host</c>; <c>Upgrade</c> containing <c>websocket</c>; <c>Connection</c> containing <c>upgrade</c>;
    /// no body (no <c>Transfer-Encoding</c>, no <c>Content-Length</c> other than a single <c>0</c>); exactly one valid <c>Sec-WebSocket-Key</c>; exactly one <c>Sec-WebSocket-Version</c> (400 when absent
    /// or repeated, 426 when not <c>13</c>); the origin policy (403); then a well-formed
    /// <c>Sec-WebSocket-Protocol</c> token list and <c>Sec-WebSocket-Extensions</c> header (400). Header
    /// names and the token values <c>websocket</c> and <c>upgrade</c> compare ASCII case-insensitively.
    /// </summary>
    /// <param name="request">The parsed request head.</param>
    /// <param name="options">The server policy.</param>
    /// <returns>
    /// An accepted result (101) with the key, accept value, selected subprotocol and extension response,
    /// or a rejection with its status and reason. A malformed request never throws.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <see cref="ServerHandshakeOptions.SubprotocolSelector"/> returned a value the client did not offer, or
    /// <see cref="ServerHandshakeOptions.ExtensionNegotiator"/> returned a malformed value or one naming an
    /// extension the client did not offer (server programming errors).
    /// </exception>
    public static ServerHandshakeResult Negotiate(HttpRequestHead request, ServerHandshakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Negotiate(ServerHandshakeRequest.FromHttp11(request), options);
    }

    /// <summary>
    /// Validates a WebSocket opening request of either kind, then runs the one negotiation of subprotocol and
    /// extensions (permessage-deflate included) that every transport shares. Validation depends on
    /// <see cref="ServerHandshakeRequest.Kind"/>: an HTTP/1.1 upgrade is checked as described on
    /// <see cref="Negotiate(HttpRequestHead, ServerHandshakeOptions)"/>; an extended CONNECT (RFC 8441 §4, §5) needs
    /// method <c>CONNECT</c> and <c>:protocol</c> <c>websocket</c> (ASCII case-insensitive; else 400), and
    /// ignores <c>Host</c>, <c>Upgrade</c>, <c>Connection</c> and <c>Sec-WebSocket-Key</c> (the stream carries
    /// no key and the response no accept value). Both then check exactly one <c>Sec-WebSocket-Version</c>
    /// (400 when absent or repeated, 426 when not <c>13</c>), the origin policy (403), and well-formed
    /// <c>Sec-WebSocket-Protocol</c> and <c>Sec-WebSocket-Extensions</c> headers (400).
    /// </summary>
    /// <param name="request">The request fields.</param>
    /// <param name="options">The server policy.</param>
    /// <returns>
    /// An accepted result (101 for HTTP/1.1, 200 for an extended CONNECT) whose
    /// <see cref="ServerHandshakeResult.ResponseHeaders"/> the transport sends, or a rejection with its status,
    /// reason and headers. A malformed request never throws.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="request"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <see cref="ServerHandshakeOptions.SubprotocolSelector"/> returned a value the client did not offer, or
    /// <see cref="ServerHandshakeOptions.ExtensionNegotiator"/> returned a malformed value or one naming an
    /// extension the client did not offer (server programming errors).
    /// </exception>
    public static ServerHandshakeResult Negotiate(ServerHandshakeRequest request, ServerHandshakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        HttpHeaderCollection headers = request.Headers;
        ServerHandshakeKind kind = request.Kind;
        bool isWebSocketRequest = kind == ServerHandshakeKind.Http11Upgrade
            ? headers.ContainsToken("Upgrade", "websocket")
            : string.Equals(request.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);

        ServerHandshakeResult Reject(int statusCode, string reason, string? key = null) =>
            new(kind, isWebSocketRequest, statusCode, reason, key, null, null, [], [], null);

        string? key = null;
        string? error = kind == ServerHandshakeKind.Http11Upgrade
            ? ValidateHttp11(request, isWebSocketRequest, out key)
            : ValidateExtendedConnect(request, isWebSocketRequest);
        if (error is not null)
        {
            return Reject(400, error);
        }

        IReadOnlyList<string> versions = headers.GetValues("Sec-WebSocket-Version");
        if (versions.Count == 0)
        {
            return Reject(400, "Missing Sec-WebSocket-Version header.", key);
        }

        if (versions.Count > 1)
        {
            return Reject(400, "Duplicate Sec-WebSocket-Version header.", key);
        }

        if (!string.Equals(versions[0], SupportedVersion, StringComparison.Ordinal))
        {
            return Reject(426, "Unsupported WebSocket protocol version: this server supports Sec-WebSocket-Version 13.", key);
        }

        if (CheckOrigin(headers, options) is { } originError)
        {
            return Reject(403, originError, key);
        }

        IReadOnlyList<string> requestedSubprotocols = headers.GetTokens("Sec-WebSocket-Protocol");
        if (headers.Contains("Sec-WebSocket-Protocol") && requestedSubprotocols.Count == 0)
        {
            return Reject(400, "Malformed Sec-WebSocket-Protocol header: it lists no subprotocol.", key);
        }

        foreach (string offered in requestedSubprotocols)
        {
            if (!HttpSyntax.IsToken(offered))
            {
                return Reject(400, "Malformed Sec-WebSocket-Protocol header: every subprotocol must be a token.", key);
            }
        }

        IReadOnlyList<string> extensionValues = headers.GetValues("Sec-WebSocket-Extensions");
        IReadOnlyList<WebSocketExtensionOffer> extensionOffers = [];
        if (extensionValues.Count > 0 && !WebSocketExtensionOffer.TryParseHeader(extensionValues, out extensionOffers))
        {
            return Reject(400, "Malformed Sec-WebSocket-Extensions header.", key);
        }

        string? subprotocol = SelectSubprotocol(requestedSubprotocols, options);
        Compression.PerMessageDeflateParameters? perMessageDeflate = null;
        string? extensionsResponse;
        if (options.PerMessageDeflate is { } deflate && extensionOffers.Count > 0
            && Compression.PerMessageDeflateNegotiation.TryAccept(extensionOffers, deflate, out perMessageDeflate))
        {
            extensionsResponse = perMessageDeflate.ToHeaderValue();
        }
        else
        {
            extensionsResponse = NegotiateExtensions(extensionOffers, options);
        }

        int status = kind == ServerHandshakeKind.Http11Upgrade ? 101 : 200;
        return new ServerHandshakeResult(
            kind: kind,
            isWebSocketRequest: true,
            statusCode: status,
            reason: HttpSyntax.GetReasonPhrase(status),
            key: key,
            accept: key is null ? null : WebSocketAccept.ComputeAccept(key),
            subprotocol: subprotocol,
            requestedSubprotocols: requestedSubprotocols,
            extensionOffers: extensionOffers,
            extensionsResponse: extensionsResponse,
            perMessageDeflate: perMessageDeflate);
    }

    // RFC 6455 §4.2.1 items 1-5 (the HTTP/1.1 framing of the request); null when valid, with the key.
    private static string? ValidateHttp11(ServerHandshakeRequest request, bool isWebSocketRequest, out string? key)
    {
        key = null;
        HttpHeaderCollection headers = request.Headers;
        if (!string.Equals(request.Method, "GET", StringComparison.Ordinal))
        {
            return "WebSocket upgrade requires GET.";
        }

        if (!string.Equals(request.Version, "HTTP/1.1", StringComparison.Ordinal))
        {
            return "WebSocket upgrade requires HTTP/1.1.";
        }

        IReadOnlyList<string> hosts = headers.GetValues("Host");
        if (hosts.Count == 0)
        {
            return "Missing Host header.";
        }

        if (hosts.Count > 1)
        {
            return "Duplicate Host header.";
        }

        if (hosts[0].Length == 0)
        {
            return "Empty Host header.";
        }

        if (!isWebSocketRequest)
        {
            return "Missing or invalid Upgrade header: expected 'websocket'.";
        }

        if (!headers.ContainsToken("Connection", "upgrade"))
        {
            return "The Connection header must contain the 'Upgrade' token.";
        }

        // Body bytes would be taken for WebSocket frames (and a proxy might disagree on where the request ends).
        IReadOnlyList<string> contentLengths = headers.GetValues("Content-Length");
        if (headers.Contains("Transfer-Encoding")
            || contentLengths.Count > 1
            || (contentLengths.Count == 1 && !string.Equals(contentLengths[0], "0", StringComparison.Ordinal)))
        {
            return "A WebSocket upgrade request must not have a body (Content-Length or Transfer-Encoding).";
        }

        IReadOnlyList<string> keys = headers.GetValues("Sec-WebSocket-Key");
        if (keys.Count == 0)
        {
            return "Missing Sec-WebSocket-Key header.";
        }

        if (keys.Count > 1)
        {
            return "Duplicate Sec-WebSocket-Key header.";
        }

        if (!WebSocketAccept.IsValidKey(keys[0]))
        {
            return "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.";
        }

        key = keys[0];
        return null;
    }

    // RFC 8441 §4-5: an extended CONNECT whose :protocol is websocket; null when valid.
    private static string? ValidateExtendedConnect(ServerHandshakeRequest request, bool isWebSocketRequest)
    {
        if (!string.Equals(request.Method, "CONNECT", StringComparison.Ordinal))
        {
            return "A WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441).";
        }

        if (!isWebSocketRequest)
        {
            return "Missing or invalid :protocol pseudo-header: expected 'websocket'.";
        }

        return null;
    }

    /// <summary>
    /// Writes the HTTP response for <paramref name="result"/>. When accepted:
    /// <c>HTTP/1.1 101 Switching Protocols</c>, <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>,
    /// <c>Sec-WebSocket-Accept</c>, then <c>Sec-WebSocket-Protocol</c> and <c>Sec-WebSocket-Extensions</c>
    /// when negotiated, and the empty line (RFC 6455 §4.2.2). When rejected: the status line with the
    /// standard reason phrase, <c>Content-Type: text/plain; charset=utf-8</c>, <c>Content-Length</c>,
    /// <c>Connection: close</c> (for 426 <c>Connection: Upgrade, close</c> plus <c>Upgrade: websocket</c>,
    /// as RFC 9110 §15.5.22 requires, and <c>Sec-WebSocket-Version: 13</c>, RFC 6455 §4.4), the empty line,
    /// and the body <see cref="ServerHandshakeResult.Reason"/> followed by <c>"\n"</c> in UTF-8.
    /// The head is ASCII; after a rejection the caller should close the connection. The headers after the status
    /// line (and after the framing headers of a rejection) are <see cref="ServerHandshakeResult.ResponseHeaders"/>,
    /// the same data an HTTP/2 or hosted transport sends.
    /// </summary>
    /// <param name="result">The negotiation outcome.</param>
    /// <param name="output">Receives the response bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> or <paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is not of kind <see cref="ServerHandshakeKind.Http11Upgrade"/>.</exception>
    public static void WriteResponse(ServerHandshakeResult result, IBufferWriter<byte> output)
        => WriteResponse(result, [], output);

    /// <summary>
    /// Like <see cref="WriteResponse(ServerHandshakeResult, IBufferWriter{byte})"/>, with
    /// <paramref name="additionalHeaders"/> written after the result's own headers (for example a cookie a route
    /// sets on the 101). The caller validates them: names must be tokens and values free of CR and LF.
    /// </summary>
    /// <param name="result">The negotiation outcome.</param>
    /// <param name="additionalHeaders">Extra response headers, in order.</param>
    /// <param name="output">Receives the response bytes.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is not of kind <see cref="ServerHandshakeKind.Http11Upgrade"/>,
    /// or a header name is not a token or a value contains CR or LF.</exception>
    public static void WriteResponse(ServerHandshakeResult result, IReadOnlyList<KeyValuePair<string, string>> additionalHeaders, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(additionalHeaders);
        ArgumentNullException.ThrowIfNull(output);
        foreach (KeyValuePair<string, string> header in additionalHeaders)
        {
            if (!HttpSyntax.IsToken(header.Key) || header.Value is null || header.Value.AsSpan().ContainsAny('\r', '\n'))
            {
                throw new ArgumentException($"Invalid additional response header '{header.Key}'.", nameof(additionalHeaders));
            }
        }
        StringBuilder head = new(256);
        if (result.Kind != ServerHandshakeKind.Http11Upgrade)
        {
            throw new ArgumentException("Only an HTTP/1.1 handshake has an HTTP/1.1 response; send the ResponseHeaders of an extended CONNECT on its stream.", nameof(result));
        }

        if (result.IsAccepted)
        {
            head.Append("HTTP/1.1 101 Switching Protocols\r\n");
            AppendHeaders(head, result.ResponseHeaders);
            AppendHeaders(head, additionalHeaders);
            head.Append("\r\n");
            Write(output, head.ToString(), Encoding.ASCII);
            return;
        }

        string body = result.Reason + "\n";
        int bodyLength = Encoding.UTF8.GetByteCount(body);
        bool upgradeRequired = result.StatusCode == 426;
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {result.StatusCode} {HttpSyntax.GetReasonPhrase(result.StatusCode)}\r\n")
            .Append("Content-Type: text/plain; charset=utf-8\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {bodyLength}\r\n")
            .Append(upgradeRequired ? "Connection: Upgrade, close\r\n" : "Connection: close\r\n");
        AppendHeaders(head, result.ResponseHeaders);
        AppendHeaders(head, additionalHeaders);
        head.Append("\r\n");
        Write(output, head.ToString(), Encoding.ASCII);
        Write(output, body, Encoding.UTF8);
    }

    /// <summary>Returns the bytes <see cref="WriteResponse(ServerHandshakeResult, IBufferWriter{byte})"/> writes.</summary>
    /// <param name="result">The negotiation outcome.</param>
    /// <returns>A new array holding the complete response.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is not of kind <see cref="ServerHandshakeKind.Http11Upgrade"/>.</exception>
    public static byte[] WriteResponse(ServerHandshakeResult result)
    {
        ArrayBufferWriter<byte> buffer = new(256);
        WriteResponse(result, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static string? CheckOrigin(HttpHeaderCollection headers, ServerHandshakeOptions options)
    {
        bool restricted = options.AllowedOrigins.Count > 0;
        if (!restricted && !options.RequireOrigin)
        {
            return null;
        }

        IReadOnlyList<string> origins = headers.GetValues("Origin");
        if (origins.Count == 0)
        {
            return "Missing Origin header.";
        }

        if (origins.Count > 1)
        {
            return "Duplicate Origin header.";
        }

        if (!restricted)
        {
            return null;
        }

        foreach (string allowed in options.AllowedOrigins)
        {
            if (string.Equals(allowed, origins[0], StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
        }

        return "Origin not allowed.";
    }

    private static string? SelectSubprotocol(IReadOnlyList<string> requested, ServerHandshakeOptions options)
    {
        if (requested.Count == 0)
        {
            return null;
        }

        if (options.SubprotocolSelector is { } selector)
        {
            string? chosen = selector(requested);
            if (chosen is not null && !Offered(requested, chosen))
            {
                throw new InvalidOperationException(
                    $"The subprotocol selector returned '{chosen}', which the client did not offer; it must return one of the offered values or null.");
            }

            return chosen;
        }

        foreach (string supported in options.Subprotocols)
        {
            if (supported is not null && Offered(requested, supported))
            {
                return supported;
            }
        }

        return null;

        static bool Offered(IReadOnlyList<string> requested, string value)
        {
            foreach (string candidate in requested)
            {
                if (string.Equals(candidate, value, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static string? NegotiateExtensions(IReadOnlyList<WebSocketExtensionOffer> offers, ServerHandshakeOptions options)
    {
        if (offers.Count == 0 || options.ExtensionNegotiator is not { } negotiator)
        {
            return null;
        }

        string? response = negotiator(offers);
        if (string.IsNullOrWhiteSpace(response))
        {
            return null;
        }

        response = HttpSyntax.TrimOws(response).ToString();
        if (!WebSocketExtensionOffer.TryParseHeader([response], out IReadOnlyList<WebSocketExtensionOffer> accepted))
        {
            throw new InvalidOperationException(
                "The extension negotiator returned a value that is not a valid Sec-WebSocket-Extensions header (RFC 6455 §9.1).");
        }

        foreach (WebSocketExtensionOffer extension in accepted)
        {
            bool wasOffered = false;
            foreach (WebSocketExtensionOffer offer in offers)
            {
                if (string.Equals(offer.Name, extension.Name, StringComparison.OrdinalIgnoreCase))
                {
                    wasOffered = true;
                    break;
                }
            }

            if (!wasOffered)
            {
                throw new InvalidOperationException(
                    $"The extension negotiator accepted '{extension.Name}', which the client did not offer.");
            }
        }

        return response;
    }

    private static void AppendHeaders(StringBuilder head, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        foreach (KeyValuePair<string, string> header in headers)
        {
            head.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }
    }

    private static void Write(IBufferWriter<byte> output, string text, Encoding encoding)
    {
        int length = encoding.GetByteCount(text);
        Span<byte> span = output.GetSpan(length);
        int written = encoding.GetBytes(text, span);
        output.Advance(written);
    }
}
