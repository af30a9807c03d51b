using System.Buffers;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Client side of the opening handshake (RFC 6455 §4.1) for one connection attempt: holds the generated
/// <c>Sec-WebSocket-Key</c>, writes the upgrade request and validates the server's response.
/// </summary>
/// <remarks>
/// The options are copied by the constructor, so later changes to them have no effect. The instance is
/// immutable; all members are thread-safe.
/// </remarks>
public sealed class ClientHandshake
{
    private static readonly string[] s_reservedHeaders =
    [
        "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Accept",
        "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding",
    ];

    private readonly string[] _subprotocols;
    private readonly string? _origin;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly string? _extensionOffers;
    private readonly Compression.PerMessageDeflateOptions? _perMessageDeflate;
    private readonly string _target;
    private readonly string _host;

    /// <summary>Prepares a handshake for <paramref name="uri"/> with a fresh random key.</summary>
    /// <param name="uri">
    /// An absolute <c>ws</c> or <c>wss</c> URI (RFC 6455 §3); <c>http</c> and <c>https</c> are accepted and
    /// treated as <c>ws</c> and <c>wss</c>. It must not have a fragment; user information is ignored.
    /// </param>
    /// <param name="options">What to offer; copied, and validated by <see cref="WriteRequest"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="uri"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is relative, has another scheme, or has a fragment.</exception>
    public ClientHandshake(Uri uri, ClientHandshakeOptions options)
        : this(uri, options, WebSocketAccept.GenerateKey())
    {
    }

    /// <summary>Prepares a handshake with a given key (deterministic tests).</summary>
    internal ClientHandshake(Uri uri, ClientHandshakeOptions options, string key)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(options);
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("The WebSocket URI must be absolute.", nameof(uri));
        }

        IsSecure = uri.Scheme.ToUpperInvariant() switch
        {
            "WS" or "HTTP" => false,
            "WSS" or "HTTPS" => true,
            _ => throw new ArgumentException($"Unsupported URI scheme '{uri.Scheme}': expected ws, wss, http or https.", nameof(uri)),
        };

        if (uri.Fragment.Length > 0)
        {
            throw new ArgumentException("A WebSocket URI must not have a fragment (RFC 6455 §3).", nameof(uri));
        }

        Uri = uri;
        Key = key;
        _target = string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery;
        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        int defaultPort = IsSecure ? 443 : 80;
        _host = uri.Port == defaultPort || uri.Port < 0
            ? host
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{uri.Port}");

        _subprotocols = [.. options.Subprotocols];
        _origin = options.Origin;
        _headers = [.. options.Headers];
        // Without a working zlib (docs/compression.md) the extension is not offered: the connection degrades to uncompressed.
        _perMessageDeflate = Compression.ZlibBackends.IsAvailable ? options.PerMessageDeflate : null;
        _extensionOffers = _perMessageDeflate is null
            ? options.ExtensionOffers
            : string.IsNullOrWhiteSpace(options.ExtensionOffers)
                ? Compression.PerMessageDeflateNegotiation.CreateOffer(_perMessageDeflate)
                : Compression.PerMessageDeflateNegotiation.CreateOffer(_perMessageDeflate) + ", " + options.ExtensionOffers;
    }

    /// <summary>The URI given to the constructor (its scheme may be <c>http</c> or <c>https</c>).</summary>
    public Uri Uri { get; }

    /// <summary>Whether the connection must use TLS: the scheme is <c>wss</c> or <c>https</c>.</summary>
    public bool IsSecure { get; }

    /// <summary>The <c>Sec-WebSocket-Key</c> sent in the request: base64 of 16 random bytes, 24 characters.</summary>
    public string Key { get; }

    /// <summary>
    /// Writes the upgrade request: <c>GET {path and query, "/" if empty} HTTP/1.1</c>, <c>Host</c> (with the
    /// port only when it is not the scheme's default, 80 for ws or 443 for wss; IPv6 literals in brackets;
    /// IDN hosts in punycode), <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>,
    /// <c>Sec-WebSocket-Key</c>, <c>Sec-WebSocket-Version: 13</c>, then when configured <c>Origin</c>,
    /// <c>Sec-WebSocket-Protocol</c> (comma-joined), <c>Sec-WebSocket-Extensions</c> and the custom headers,
    /// and the empty line. Header values are written as latin1.
    /// </summary>
    /// <param name="output">Receives the request bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The options hold an invalid or duplicate subprotocol, an invalid origin, malformed extension offers,
    /// a custom header the handshake owns, or a header name or value with invalid characters.
    /// </exception>
    public void WriteRequest(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string request = FormatRequest();
        Span<byte> span = output.GetSpan(request.Length);
        int written = Encoding.Latin1.GetBytes(request, span);
        output.Advance(written);
    }

    /// <summary>Returns the bytes <see cref="WriteRequest"/> writes.</summary>
    /// <returns>A new array holding the complete request head.</returns>
    /// <exception cref="ArgumentException">The options are invalid; see <see cref="WriteRequest"/>.</exception>
    public byte[] BuildRequest() => Encoding.Latin1.GetBytes(FormatRequest());

    /// <summary>
    /// Validates the server's response (RFC 6455 §4.1): status 101 on HTTP/1.1; <c>Upgrade</c> containing
    /// <c>websocket</c> and <c>Connection</c> containing <c>upgrade</c> (ASCII case-insensitive); exactly one
    /// <c>Sec-WebSocket-Accept</c> equal to <see cref="WebSocketAccept.ComputeAccept"/> of <see cref="Key"/>;
    /// no <c>Sec-WebSocket-Protocol</c> unless one was offered, and otherwise at most one value that is
    /// exactly one of the offered ones; a well-formed <c>Sec-WebSocket-Extensions</c> naming only offered
    /// extensions (none when none was offered).
    /// </summary>
    /// <param name="response">The parsed response head.</param>
    /// <returns>The negotiated subprotocol and extensions.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="response"/> is null.</exception>
    /// <exception cref="WebSocketHandshakeException">
    /// The response is not a valid acceptance; <see cref="WebSocketHandshakeException.StatusCode"/> is the
    /// received status and <see cref="WebSocketHandshakeException.Headers"/> the received headers.
    /// </exception>
    /// <exception cref="ArgumentException">The options are invalid; see <see cref="WriteRequest"/>.</exception>
    public ClientHandshakeResult ValidateResponse(HttpResponseHead response)
    {
        ArgumentNullException.ThrowIfNull(response);
        IReadOnlyList<WebSocketExtensionOffer> offeredExtensions = ValidateOptions();
        HttpHeaderCollection headers = response.Headers;

        if (response.StatusCode != 101)
        {
            string reasonPhrase = response.ReasonPhrase.Length > 0 ? response.ReasonPhrase : HttpSyntax.GetReasonPhrase(response.StatusCode);
            string reason = string.Create(CultureInfo.InvariantCulture, $"server answered {response.StatusCode} {reasonPhrase}").TrimEnd();
            throw Fail(reason);
        }

        if (!string.Equals(response.Version, "HTTP/1.1", StringComparison.Ordinal))
        {
            throw Fail($"the 101 response uses {response.Version} instead of HTTP/1.1");
        }

        if (!headers.ContainsToken("Upgrade", "websocket"))
        {
            throw Fail("the response lacks 'Upgrade: websocket'");
        }

        if (!headers.ContainsToken("Connection", "upgrade"))
        {
            throw Fail("the response's Connection header lacks the 'Upgrade' token");
        }

        IReadOnlyList<string> accepts = headers.GetValues("Sec-WebSocket-Accept");
        if (accepts.Count == 0)
        {
            throw Fail("the response lacks Sec-WebSocket-Accept");
        }

        if (accepts.Count > 1)
        {
            throw Fail("the response has more than one Sec-WebSocket-Accept");
        }

        if (!string.Equals(accepts[0], WebSocketAccept.ComputeAccept(Key), StringComparison.Ordinal))
        {
            throw Fail("Sec-WebSocket-Accept mismatch");
        }

        string? subprotocol = null;
        if (headers.Contains("Sec-WebSocket-Protocol"))
        {
            if (_subprotocols.Length == 0)
            {
                throw Fail("the server selected a subprotocol although none was offered");
            }

            IReadOnlyList<string> values = headers.GetValues("Sec-WebSocket-Protocol");
            string selected = HttpSyntax.TrimOws(values[0]).ToString();
            if (values.Count != 1 || headers.GetTokens("Sec-WebSocket-Protocol").Count != 1)
            {
                throw Fail("the server must select exactly one subprotocol");
            }

            if (Array.IndexOf(_subprotocols, selected) < 0)
            {
                throw Fail("the server selected a subprotocol that was not offered");
            }

            subprotocol = selected;
        }

        IReadOnlyList<WebSocketExtensionOffer> extensions = [];
        IReadOnlyList<string> extensionValues = headers.GetValues("Sec-WebSocket-Extensions");
        if (extensionValues.Count > 0)
        {
            if (offeredExtensions.Count == 0)
            {
                throw Fail("the server accepted an extension although none was offered");
            }

            if (!WebSocketExtensionOffer.TryParseHeader(extensionValues, out extensions))
            {
                throw Fail("malformed Sec-WebSocket-Extensions in the response");
            }

            foreach (WebSocketExtensionOffer extension in extensions)
            {
                if (!ContainsName(offeredExtensions, extension.Name))
                {
                    throw Fail($"the server accepted the extension '{extension.Name}', which was not offered");
                }
            }
        }

        Compression.PerMessageDeflateParameters? perMessageDeflate = null;
        if (_perMessageDeflate is not null)
        {
            var deflateAnswers = new List<WebSocketExtensionOffer>();
            foreach (WebSocketExtensionOffer extension in extensions)
            {
                if (string.Equals(extension.Name, Compression.PerMessageDeflateNegotiation.ExtensionName, StringComparison.OrdinalIgnoreCase))
                {
                    deflateAnswers.Add(extension);
                }
            }

            try
            {
                perMessageDeflate = Compression.PerMessageDeflateNegotiation.ValidateResponse(deflateAnswers, _perMessageDeflate);
            }
            catch (WebSocketHandshakeException ex)
            {
                throw Fail(ex.Reason);
            }
        }

        return new ClientHandshakeResult(subprotocol, extensions, headers, perMessageDeflate);

        WebSocketHandshakeException Fail(string reason) => new(reason, response.StatusCode, headers);
    }

    private static bool ContainsName(IReadOnlyList<WebSocketExtensionOffer> offers, string name)
    {
        foreach (WebSocketExtensionOffer offer in offers)
        {
            if (string.Equals(offer.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private string FormatRequest()
    {
        ValidateOptions();
        StringBuilder builder = new(256);
        builder.Append("GET ").Append(_target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(_host).Append("\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(Key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (_origin is not null)
        {
            builder.Append("Origin: ").Append(_origin).Append("\r\n");
        }

        if (_subprotocols.Length > 0)
        {
            builder.Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", _subprotocols).Append("\r\n");
        }

        if (_extensionOffers is not null)
        {
            builder.Append("Sec-WebSocket-Extensions: ").Append(HttpSyntax.TrimOws(_extensionOffers)).Append("\r\n");
        }

        foreach (KeyValuePair<string, string> header in _headers)
        {
            builder.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        return builder.Append("\r\n").ToString();
    }

    /// <summary>Validates the copied options; returns the parsed extension offers.</summary>
    private IReadOnlyList<WebSocketExtensionOffer> ValidateOptions()
    {
        const string OptionsParameter = "options";
        for (int i = 0; i < _subprotocols.Length; i++)
        {
            string subprotocol = _subprotocols[i];
            if (subprotocol is null || !HttpSyntax.IsToken(subprotocol))
            {
                throw new ArgumentException($"The subprotocol '{subprotocol}' is not a valid token (RFC 6455 §4.1).", OptionsParameter);
            }

            if (Array.IndexOf(_subprotocols, subprotocol, 0, i) >= 0)
            {
                throw new ArgumentException($"The subprotocol '{subprotocol}' is offered more than once (RFC 6455 §4.1).", OptionsParameter);
            }
        }

        if (_origin is not null && (_origin.Length == 0 || _origin.AsSpan().IndexOfAnyExceptInRange('!', '~') >= 0))
        {
            throw new ArgumentException("The Origin must be non-empty visible ASCII.", OptionsParameter);
        }

        IReadOnlyList<WebSocketExtensionOffer> offers = [];
        if (_extensionOffers is not null && !WebSocketExtensionOffer.TryParseHeader([_extensionOffers], out offers))
        {
            throw new ArgumentException("The extension offers are not a valid Sec-WebSocket-Extensions value (RFC 6455 §9.1).", OptionsParameter);
        }

        foreach (KeyValuePair<string, string> header in _headers)
        {
            if (header.Key is null || !HttpSyntax.IsToken(header.Key))
            {
                throw new ArgumentException($"'{header.Key}' is not a valid header name.", OptionsParameter);
            }

            if (IsReserved(header.Key) || (_origin is not null && string.Equals(header.Key, "Origin", StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException($"The header '{header.Key}' is set by the WebSocket handshake and cannot be added as a custom header.", OptionsParameter);
            }

            if (header.Value is null || !HttpSyntax.IsFieldValue(header.Value))
            {
                throw new ArgumentException(
                    $"The value of header '{header.Key}' is null or contains CR, LF, NUL, another control character or a character above U+00FF.",
                    OptionsParameter);
            }
        }

        return offers;
    }

    private static bool IsReserved(string name)
    {
        foreach (string reserved in s_reservedHeaders)
        {
            if (string.Equals(reserved, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
