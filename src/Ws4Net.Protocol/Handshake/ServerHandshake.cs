using System.Buffers;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Server side of the opening handshake (RFC 6455 §4.2): validates a parsed request, negotiates the
/// subprotocol and extensions, and writes the 101 response or an HTTP error response.
/// Stateless and thread-safe (the options' delegates must be thread-safe when shared).
/// </summary>
public static class ServerHandshake
{
    private const string SupportedVersion = "13";

    /// <summary>
    /// Validates a WebSocket upgrade request (RFC 6455 §4.2.1) and negotiates the connection parameters
    /// (§4.2.2). Checks, in order: method <c>GET</c>; version <c>HTTP/1.1</c>; exactly one non-empty
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
        ArgumentNullException.ThrowIfNull(options);
        HttpHeaderCollection headers = request.Headers;
        bool isWebSocketRequest = headers.ContainsToken("Upgrade", "websocket");

        ServerHandshakeResult Reject(int statusCode, string reason, string? key = null) =>
            new(isWebSocketRequest, statusCode, reason, key, null, null, [], [], null);

        if (!string.Equals(request.Method, "GET", StringComparison.Ordinal))
        {
            return Reject(400, "WebSocket upgrade requires GET.");
        }

        if (!string.Equals(request.Version, "HTTP/1.1", StringComparison.Ordinal))
        {
            return Reject(400, "WebSocket upgrade requires HTTP/1.1.");
        }

        IReadOnlyList<string> hosts = headers.GetValues("Host");
        if (hosts.Count == 0)
        {
            return Reject(400, "Missing Host header.");
        }

        if (hosts.Count > 1)
        {
            return Reject(400, "Duplicate Host header.");
        }

        if (hosts[0].Length == 0)
        {
            return Reject(400, "Empty Host header.");
        }

        if (!isWebSocketRequest)
        {
            return Reject(400, "Missing or invalid Upgrade header: expected 'websocket'.");
        }

        if (!headers.ContainsToken("Connection", "upgrade"))
        {
            return Reject(400, "The Connection header must contain the 'Upgrade' token.");
        }

        // Body bytes would be taken for WebSocket frames (and a proxy might disagree on where the request ends).
        IReadOnlyList<string> contentLengths = headers.GetValues("Content-Length");
        if (headers.Contains("Transfer-Encoding")
            || contentLengths.Count > 1
            || (contentLengths.Count == 1 && !string.Equals(contentLengths[0], "0", StringComparison.Ordinal)))
        {
            return Reject(400, "A WebSocket upgrade request must not have a body (Content-Length or Transfer-Encoding).");
        }

        IReadOnlyList<string> keys = headers.GetValues("Sec-WebSocket-Key");
        if (keys.Count == 0)
        {
            return Reject(400, "Missing Sec-WebSocket-Key header.");
        }

        if (keys.Count > 1)
        {
            return Reject(400, "Duplicate Sec-WebSocket-Key header.");
        }

        string key = keys[0];
        if (!WebSocketAccept.IsValidKey(key))
        {
            return Reject(400, "Invalid Sec-WebSocket-Key: it must be the base64 encoding of 16 bytes.");
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

        return new ServerHandshakeResult(
            isWebSocketRequest: true,
            statusCode: 101,
            reason: HttpSyntax.GetReasonPhrase(101),
            key: key,
            accept: WebSocketAccept.ComputeAccept(key),
            subprotocol: subprotocol,
            requestedSubprotocols: requestedSubprotocols,
            extensionOffers: extensionOffers,
            extensionsResponse: extensionsResponse,
            perMessageDeflate: perMessageDeflate);
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
    /// The head is ASCII; after a rejection the caller should close the connection.
    /// </summary>
    /// <param name="result">The negotiation outcome.</param>
    /// <param name="output">Receives the response bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> or <paramref name="output"/> is null.</exception>
    public static void WriteResponse(ServerHandshakeResult result, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        StringBuilder head = new(256);
        if (result.IsAccepted)
        {
            head.Append("HTTP/1.1 101 Switching Protocols\r\n")
                .Append("Upgrade: websocket\r\n")
                .Append("Connection: Upgrade\r\n")
                .Append("Sec-WebSocket-Accept: ").Append(result.Accept).Append("\r\n");
            if (result.Subprotocol is not null)
            {
                head.Append("Sec-WebSocket-Protocol: ").Append(result.Subprotocol).Append("\r\n");
            }

            if (result.ExtensionsResponse is not null)
            {
                head.Append("Sec-WebSocket-Extensions: ").Append(result.ExtensionsResponse).Append("\r\n");
            }

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
        if (upgradeRequired)
        {
            head.Append("Upgrade: websocket\r\n")
                .Append("Sec-WebSocket-Version: ").Append(SupportedVersion).Append("\r\n");
        }

        head.Append("\r\n");
        Write(output, head.ToString(), Encoding.ASCII);
        Write(output, body, Encoding.UTF8);
    }

    /// <summary>Returns the bytes <see cref="WriteResponse(ServerHandshakeResult, IBufferWriter{byte})"/> writes.</summary>
    /// <param name="result">The negotiation outcome.</param>
    /// <returns>A new array holding the complete response.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
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

    private static void Write(IBufferWriter<byte> output, string text, Encoding encoding)
    {
        int length = encoding.GetByteCount(text);
        Span<byte> span = output.GetSpan(length);
        int written = encoding.GetBytes(text, span);
        output.Advance(written);
    }
}
