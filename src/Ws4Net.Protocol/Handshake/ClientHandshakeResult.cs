namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The values a server accepted in a valid opening handshake response, as returned by
/// <see cref="ClientHandshake.ValidateResponse"/>. Immutable apart from <see cref="Headers"/>, which is the
/// response's collection; thread-safe for reads.
/// </summary>
public sealed class ClientHandshakeResult
{
    internal ClientHandshakeResult(string? subprotocol, IReadOnlyList<WebSocketExtensionOffer> extensions, HttpHeaderCollection headers, Compression.PerMessageDeflateParameters? perMessageDeflate = null)
    {
        PerMessageDeflate = perMessageDeflate;
        Subprotocol = subprotocol;
        Extensions = extensions;
        Headers = headers;
    }

    /// <summary>The subprotocol the server selected (one the client offered), or <see langword="null"/> for none.</summary>
    public string? Subprotocol { get; }

    /// <summary>
    /// The extensions in use, from the response's <c>Sec-WebSocket-Extensions</c>, in the server's order
    /// (which is the order they apply to outgoing data, RFC 6455 §9.1); empty when none.
    /// </summary>
    public IReadOnlyList<WebSocketExtensionOffer> Extensions { get; }

    /// <summary>The permessage-deflate agreement (RFC 7692) when the server accepted the offer, else <see langword="null"/>.</summary>
    public Compression.PerMessageDeflateParameters? PerMessageDeflate { get; }

    /// <summary>All header fields of the 101 response (for example <c>Set-Cookie</c>).</summary>
    public HttpHeaderCollection Headers { get; }
}
