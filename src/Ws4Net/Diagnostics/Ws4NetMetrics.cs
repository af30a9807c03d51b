using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Ws4Net.Internal;
using Ws4Net.Protocol;
using static Ws4Net.Diagnostics.Ws4NetDiagnostics;

namespace Ws4Net.Diagnostics;

/// <summary>
/// The <c>Ws4Net</c> meter and its instruments (names in <see cref="Ws4NetDiagnostics"/>). Every method
/// checks <see cref="Instrument.Enabled"/> first, so an event costs a branch while nobody listens; tags go
/// in a <see cref="TagList"/> of interned strings (and cached boxed close codes), so a listened message
/// allocates nothing. Thread-safe (instruments are).
/// </summary>
internal static class Ws4NetMetrics
{
    private static readonly Meter s_meter = new(MeterName, typeof(Ws4NetMetrics).Assembly.GetName().Version?.ToString(3));

    private static readonly UpDownCounter<long> s_active = s_meter.CreateUpDownCounter<long>(ConnectionsActive, "{connection}", "Connections open now.");
    private static readonly Counter<long> s_opened = s_meter.CreateCounter<long>(ConnectionsOpened, "{connection}", "Connections opened (handshake succeeded).");
    private static readonly Counter<long> s_closed = s_meter.CreateCounter<long>(ConnectionsClosed, "{connection}", "Connections closed, by close code and initiator.");
    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram(ConnectionDuration, "s", "How long connections stayed open.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 14400, 86400] });

    private static readonly Counter<long> s_handshakeFailures = s_meter.CreateCounter<long>(HandshakeFailures, "{handshake}", "Opening handshakes that failed or were rejected.");
    private static readonly Counter<long> s_messagesReceived = s_meter.CreateCounter<long>(MessagesReceived, "{message}", "Data messages received.");
    private static readonly Counter<long> s_messagesSent = s_meter.CreateCounter<long>(MessagesSent, "{message}", "Data messages queued for sending.");
    private static readonly Counter<long> s_bytesReceived = s_meter.CreateCounter<long>(BytesReceived, "By", "Payload bytes of the data messages received (decompressed).");
    private static readonly Counter<long> s_bytesSent = s_meter.CreateCounter<long>(BytesSent, "By", "Payload bytes of the data messages queued for sending (uncompressed).");
    private static readonly Counter<long> s_dropped = s_meter.CreateCounter<long>(MessagesDropped, "{message}", "Messages refused by backpressure.");
    private static readonly Histogram<double> s_pingRtt = s_meter.CreateHistogram(PingRoundTripTime, "s", "Round-trip time of pings answered by a pong.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly Counter<long> s_uncompressed = s_meter.CreateCounter<long>(CompressionUncompressedBytes, "By", "Payload bytes of data messages on permessage-deflate connections.");
    private static readonly Counter<long> s_wire = s_meter.CreateCounter<long>(CompressionWireBytes, "By", "Wire bytes of the same frames (headers included).");

    private static readonly object?[] s_boxedCodes = CreateBoxedCodes();

    static Ws4NetMetrics()
    {
        s_meter.CreateObservableGauge(SendQueueSize, static () => ConnectionHeartbeat.SumBufferedAmount(), "By", "Bytes queued and not yet written, over every open connection.");
    }

    /// <summary>Gets whether anything on the send path is listened to (one check per encoded message).</summary>
    public static bool SendObserved
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_messagesSent.Enabled || s_bytesSent.Enabled || s_wire.Enabled || s_uncompressed.Enabled;
    }

    /// <summary>Gets whether anything on the receive path is listened to.</summary>
    public static bool ReceiveObserved
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_messagesReceived.Enabled || s_bytesReceived.Enabled || s_wire.Enabled || s_uncompressed.Enabled;
    }

    /// <summary>Gets whether the sent-bytes counter is listened to (a text message's UTF-8 length is counted only then).</summary>
    public static bool SentBytesObserved => s_bytesSent.Enabled || s_uncompressed.Enabled;

    public static void ConnectionOpened(WebSocketRole role)
    {
        if (s_opened.Enabled || s_active.Enabled)
        {
            var tags = new TagList { { RoleTag, RoleName(role) } };
            s_opened.Add(1, in tags);
            s_active.Add(1, in tags);
        }
    }

    public static void ConnectionClosed(WebSocketRole role, WebSocketCloseInfo status, long openedAt)
    {
        if (s_active.Enabled)
        {
            s_active.Add(-1, new KeyValuePair<string, object?>(RoleTag, RoleName(role)));
        }

        if (s_closed.Enabled || s_duration.Enabled)
        {
            var tags = new TagList
            {
                { RoleTag, RoleName(role) },
                { CloseCodeTag, BoxCode((int)status.Code) },
                { CloseInitiatorTag, status.InitiatedByPeer ? "remote" : "local" },
            };
            s_closed.Add(1, in tags);
            s_duration.Record(Stopwatch.GetElapsedTime(openedAt).TotalSeconds, in tags);
        }
    }

    /// <summary>Counts a failed or rejected opening handshake.</summary>
    /// <param name="role">Which side failed it.</param>
    /// <param name="errorType">A low-cardinality reason (see docs/observability.md).</param>
    /// <param name="statusCode">The HTTP status sent (server) or received (client); 0 when none.</param>
    public static void HandshakeFailed(WebSocketRole role, string errorType, int statusCode)
    {
        if (!s_handshakeFailures.Enabled)
        {
            return;
        }

        var tags = new TagList { { RoleTag, RoleName(role) }, { ErrorTypeTag, errorType } };
        if (statusCode != 0)
        {
            tags.Add(HttpStatusCodeTag, statusCode);
        }

        s_handshakeFailures.Add(1, in tags);
    }

    /// <summary>One data frame (or whole message) received: its payload length, whether it ends its message, and the wire bytes it took.</summary>
    public static void Received(WebSocketMessageKind type, int payloadLength, bool endOfMessage, long wireBytes, bool compressionNegotiated)
    {
        var tag = new KeyValuePair<string, object?>(MessageTypeTag, TypeName(type));
        if (endOfMessage)
        {
            s_messagesReceived.Add(1, tag);
        }

        s_bytesReceived.Add(payloadLength, tag);
        if (compressionNegotiated)
        {
            var direction = new KeyValuePair<string, object?>(DirectionTag, "receive");
            s_uncompressed.Add(payloadLength, direction);
            s_wire.Add(wireBytes, direction);
        }
    }

    /// <summary>One data message (or part of one) encoded into the send queue.</summary>
    public static void Sent(WebSocketMessageKind type, long payloadLength, bool endOfMessage, long wireBytes, bool compressionNegotiated)
    {
        var tag = new KeyValuePair<string, object?>(MessageTypeTag, TypeName(type));
        if (endOfMessage)
        {
            s_messagesSent.Add(1, tag);
        }

        s_bytesSent.Add(payloadLength, tag);
        if (compressionNegotiated)
        {
            var direction = new KeyValuePair<string, object?>(DirectionTag, "transmit");
            s_uncompressed.Add(payloadLength, direction);
            s_wire.Add(wireBytes, direction);
        }
    }

    /// <summary>A message refused by backpressure under <paramref name="policy"/>.</summary>
    public static void Dropped(WebSocketMessageKind type, WebSocketBackpressurePolicy policy)
    {
        if (s_dropped.Enabled)
        {
            s_dropped.Add(1, new KeyValuePair<string, object?>(MessageTypeTag, TypeName(type)), new KeyValuePair<string, object?>(BackpressurePolicyTag, policy switch
            {
                WebSocketBackpressurePolicy.DropMessage => "drop_message",
                WebSocketBackpressurePolicy.ClosePolicyViolation => "close_policy_violation",
                _ => "close_try_again_later",
            }));
        }
    }

    /// <summary>A ping answered by its pong after <paramref name="roundTrip"/>.</summary>
    public static void PingRoundTrip(WebSocketRole role, TimeSpan roundTrip)
    {
        if (s_pingRtt.Enabled)
        {
            s_pingRtt.Record(roundTrip.TotalSeconds, new KeyValuePair<string, object?>(RoleTag, RoleName(role)));
        }
    }

    internal static string RoleName(WebSocketRole role) => role == WebSocketRole.Server ? "server" : "client";

    private static string TypeName(WebSocketMessageKind type) => type == WebSocketMessageKind.Text ? "text" : "binary";

    private static object? BoxCode(int code)
        => (uint)(code - 1000) < (uint)s_boxedCodes.Length ? s_boxedCodes[code - 1000] : code;

    private static object?[] CreateBoxedCodes()
    {
        // 1000-1015 (RFC 6455 §7.4.1 and the IANA registry): boxed once, so a close allocates no tag.
        var codes = new object?[16];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = 1000 + i;
        }

        return codes;
    }
}
