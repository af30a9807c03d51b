namespace Ws4Net.Diagnostics;

/// <summary>
/// The names under which Ws4Net reports what it does: the <see cref="System.Diagnostics.Metrics.Meter"/>
/// and <see cref="System.Diagnostics.ActivitySource"/> names, every instrument name and every tag key, for
/// <c>MeterListener</c>, <c>ActivityListener</c>, <c>dotnet-counters</c> or an OpenTelemetry SDK
/// (<c>AddMeter(Ws4NetDiagnostics.MeterName)</c>, <c>AddSource(Ws4NetDiagnostics.ActivitySourceName)</c>).
/// Names and units follow the OpenTelemetry semantic conventions (UCUM units: <c>{connection}</c>,
/// <c>By</c> for bytes, <c>s</c> for seconds). See <c>docs/observability.md</c>.
/// </summary>
/// <remarks>
/// Every member is a constant; the instruments live for the life of the process (one static meter).
/// Instruments cost one branch per event while nobody listens, and allocate nothing per message while
/// somebody does.
/// </remarks>
public static class Ws4NetDiagnostics
{
    /// <summary>The name of the meter that owns every Ws4Net instrument: <c>Ws4Net</c>.</summary>
    public const string MeterName = "Ws4Net";

    /// <summary>The name of the activity source of the opening handshakes: <c>Ws4Net</c>.</summary>
    public const string ActivitySourceName = "Ws4Net";

    /// <summary>The activity of a server's opening handshake (RFC 6455 §4.2), from the parsed request to the response written; <see cref="System.Diagnostics.ActivityKind.Server"/>.</summary>
    public const string ServerHandshakeActivity = "ws4net.server.handshake";

    /// <summary>The activity of a client's opening handshake (RFC 6455 §4.1), from the TCP connect to the validated response; <see cref="System.Diagnostics.ActivityKind.Client"/>.</summary>
    public const string ClientHandshakeActivity = "ws4net.client.handshake";

    // ----- instruments -----

    /// <summary>Up/down counter, unit <c>{connection}</c>: connections open now (constructed and not yet closed). Tag: <see cref="RoleTag"/>.</summary>
    public const string ConnectionsActive = "ws4net.connections.active";

    /// <summary>Counter, unit <c>{connection}</c>: connections opened (the handshake succeeded). Tag: <see cref="RoleTag"/>.</summary>
    public const string ConnectionsOpened = "ws4net.connections.opened";

    /// <summary>Counter, unit <c>{connection}</c>: connections closed (transport closed). Tags: <see cref="RoleTag"/>, <see cref="CloseCodeTag"/>, <see cref="CloseInitiatorTag"/>.</summary>
    public const string ConnectionsClosed = "ws4net.connections.closed";

    /// <summary>Histogram, unit <c>s</c>: how long connections stayed open, recorded when they close. Tags as <see cref="ConnectionsClosed"/>.</summary>
    public const string ConnectionDuration = "ws4net.connection.duration";

    /// <summary>Counter, unit <c>{handshake}</c>: opening handshakes that failed or were rejected. Tags: <see cref="RoleTag"/>, <see cref="ErrorTypeTag"/>, and <see cref="HttpStatusCodeTag"/> when an HTTP status was sent or received.</summary>
    public const string HandshakeFailures = "ws4net.handshake.failures";

    /// <summary>Counter, unit <c>{message}</c>: complete data messages received (RFC 6455 §5.6; a fragmented message counts once, at its last frame). Tag: <see cref="MessageTypeTag"/>.</summary>
    public const string MessagesReceived = "ws4net.messages.received";

    /// <summary>Counter, unit <c>{message}</c>: complete data messages queued for sending (counted when encoded into the send queue). Tag: <see cref="MessageTypeTag"/>.</summary>
    public const string MessagesSent = "ws4net.messages.sent";

    /// <summary>Counter, unit <c>By</c>: application payload bytes of the data messages received (after decompression). Tag: <see cref="MessageTypeTag"/>.</summary>
    public const string BytesReceived = "ws4net.bytes.received";

    /// <summary>Counter, unit <c>By</c>: application payload bytes of the data messages queued for sending (before compression). Tag: <see cref="MessageTypeTag"/>.</summary>
    public const string BytesSent = "ws4net.bytes.sent";

    /// <summary>Observable gauge, unit <c>By</c>: bytes queued and not yet written, summed over every open connection (each one's <c>BufferedAmount</c>). Observed only when a listener collects.</summary>
    public const string SendQueueSize = "ws4net.send_queue.size";

    /// <summary>Counter, unit <c>{message}</c>: messages refused by backpressure (<c>TrySend</c> past <c>MaxBufferedAmount</c>). Tags: <see cref="MessageTypeTag"/>, <see cref="BackpressurePolicyTag"/>.</summary>
    public const string MessagesDropped = "ws4net.messages.dropped";

    /// <summary>Histogram, unit <c>s</c>: round-trip time of our pings (keepalive pings and <c>PingAsync</c>), ping written to matching pong read (RFC 6455 §5.5.2, §5.5.3). Tag: <see cref="RoleTag"/>.</summary>
    public const string PingRoundTripTime = "ws4net.ping.round_trip_time";

    /// <summary>Counter, unit <c>By</c>: on connections with permessage-deflate (RFC 7692), the payload bytes of data messages before compression (sent) or after decompression (received). Tag: <see cref="DirectionTag"/>.</summary>
    public const string CompressionUncompressedBytes = "ws4net.compression.uncompressed_bytes";

    /// <summary>Counter, unit <c>By</c>: on connections with permessage-deflate, the bytes the same data frames took on the wire (frame headers included). Divided by <see cref="CompressionUncompressedBytes"/>: the compression ratio. Tag: <see cref="DirectionTag"/>.</summary>
    public const string CompressionWireBytes = "ws4net.compression.wire_bytes";

    // ----- tags -----

    /// <summary>Tag key: the endpoint's role, <c>server</c> or <c>client</c>.</summary>
    public const string RoleTag = "ws4net.role";

    /// <summary>Tag key: the close code a connection ended with (an integer, RFC 6455 §7.4; 1006 when the transport ended without a close handshake).</summary>
    public const string CloseCodeTag = "ws4net.close.code";

    /// <summary>Tag key: who started the close, <c>local</c> (this endpoint: a close call, a timeout, a protocol violation it detected) or <c>remote</c> (the peer's close frame, or its transport ending).</summary>
    public const string CloseInitiatorTag = "ws4net.close.initiator";

    /// <summary>Tag key: the data message type, <c>text</c> or <c>binary</c> (RFC 6455 §5.6).</summary>
    public const string MessageTypeTag = "ws4net.message.type";

    /// <summary>Tag key: the backpressure policy that refused a message: <c>drop_message</c>, <c>close_policy_violation</c> or <c>close_try_again_later</c>.</summary>
    public const string BackpressurePolicyTag = "ws4net.backpressure.policy";

    /// <summary>Tag key (OpenTelemetry <c>network.io.direction</c>): <c>transmit</c> or <c>receive</c>.</summary>
    public const string DirectionTag = "network.io.direction";

    /// <summary>Tag key (OpenTelemetry <c>error.type</c>): why a handshake failed, a low-cardinality word or the HTTP status as a string (see docs/observability.md).</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Tag key (OpenTelemetry <c>http.response.status_code</c>): the HTTP status of the handshake response (an integer).</summary>
    public const string HttpStatusCodeTag = "http.response.status_code";

    /// <summary>Activity tag key (OpenTelemetry <c>url.path</c>): the request path of the handshake.</summary>
    public const string UrlPathTag = "url.path";

    /// <summary>Activity tag key (OpenTelemetry <c>server.address</c>): the host a client connects to.</summary>
    public const string ServerAddressTag = "server.address";

    /// <summary>Activity tag key: the negotiated subprotocol (RFC 6455 §1.9), absent when none.</summary>
    public const string SubprotocolTag = "ws4net.subprotocol";

    /// <summary>Activity tag key: the negotiated extensions, as the <c>Sec-WebSocket-Extensions</c> response header value (RFC 6455 §9.1), absent when none.</summary>
    public const string ExtensionsTag = "ws4net.extensions";
}
