namespace Ws4Net.Protocol;

/// <summary>
/// Close status codes (RFC 6455 §7.4.1), a 16-bit unsigned integer on the wire. Any value in
/// 3000-4999 (registered and private use, §7.4.2) may be cast to this type as well.
/// <see cref="NoStatusReceived"/>, <see cref="AbnormalClosure"/> and <see cref="TlsHandshake"/> are
/// reported locally and never sent in a close frame.
/// </summary>
public enum WebSocketCloseCode : ushort
{
    /// <summary>1000: normal closure; the purpose of the connection was fulfilled.</summary>
    NormalClosure = 1000,

    /// <summary>1001: the endpoint is going away (server shutdown, page navigation).</summary>
    GoingAway = 1001,

    /// <summary>1002: the peer violated the protocol.</summary>
    ProtocolError = 1002,

    /// <summary>1003: the endpoint received a type of data it cannot accept.</summary>
    UnsupportedData = 1003,

    /// <summary>1005: no status code was present in the received close frame. Never sent.</summary>
    NoStatusReceived = 1005,

    /// <summary>1006: the connection closed without a close frame. Never sent.</summary>
    AbnormalClosure = 1006,

    /// <summary>1007: message data inconsistent with its type (for example invalid UTF-8 in a text message).</summary>
    InvalidPayloadData = 1007,

    /// <summary>1008: a message violated the endpoint's policy.</summary>
    PolicyViolation = 1008,

    /// <summary>1009: a frame or message is too big to process (over a configured limit).</summary>
    MessageTooBig = 1009,

    /// <summary>1010: the client expected the server to negotiate an extension it did not.</summary>
    MandatoryExtension = 1010,

    /// <summary>1011: the server met an unexpected condition (for example a handler threw).</summary>
    InternalError = 1011,

    /// <summary>1012: the service is restarting (IANA registry).</summary>
    ServiceRestart = 1012,

    /// <summary>1013: try again later, the service is overloaded (IANA registry).</summary>
    TryAgainLater = 1013,

    /// <summary>1014: the gateway or proxy received an invalid response upstream (IANA registry).</summary>
    BadGateway = 1014,

    /// <summary>1015: the TLS handshake failed. Never sent.</summary>
    TlsHandshake = 1015,
}
