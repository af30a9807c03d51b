using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Ws4Net.Diagnostics;
using Ws4Net.Internal;
using Ws4Net.Protocol;

namespace Ws4Net;

// Observability hooks: each is one call from the driver into Ws4NetMetrics and the log (see docs/observability.md).
// While nobody listens to the meter, a hook costs a field update and a branch.
public sealed partial class WebSocketConnection
{
    private long _openedAt;
    private long _receivedWireBytes;

    /// <summary>Counts the connection as opened and logs it (event 9). Called once, from the constructor.</summary>
    private void OnOpenedDiagnostics()
    {
        _openedAt = Stopwatch.GetTimestamp();
        Ws4NetMetrics.ConnectionOpened(Role);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogOpened(_logger, Id, Ws4NetMetrics.RoleName(Role), Request?.Path ?? "-", Subprotocol ?? "-", _protocol.PerMessageDeflate?.ToHeaderValue() ?? "-");
        }
    }

    /// <summary>Counts the connection as closed and logs it (event 1) with who started the close and how long it was open. Called once, when the transport closes.</summary>
    private void OnClosedDiagnostics(WebSocketCloseInfo status, bool aborted)
    {
        Ws4NetMetrics.ConnectionClosed(Role, status, _openedAt);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogClosed(_logger, Id, (int)status.Code, status.Reason, status.InitiatedByPeer ? "remote" : "local", Stopwatch.GetElapsedTime(_openedAt).TotalMilliseconds, aborted);
        }
    }

    /// <summary>After each <see cref="WebSocketProtocol.TryReadEvent"/>: accumulates the bytes the core consumed and, on a data event, counts it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OnReadDiagnostics(int consumed, bool produced, in WebSocketEvent e)
    {
        _receivedWireBytes += consumed;
        if (produced)
        {
            if ((e.Type is WebSocketEventType.Message or WebSocketEventType.Fragment) && Ws4NetMetrics.ReceiveObserved)
            {
                Ws4NetMetrics.Received(e.MessageType, e.Payload.Length, e.EndOfMessage, _receivedWireBytes, _protocol.PerMessageDeflate is not null);
            }

            _receivedWireBytes = 0;
        }
    }

    /// <summary>After a data message (or a part of one) was encoded into the send queue as <paramref name="wireBytes"/> bytes (caller holds the send lock).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OnEncodedDiagnostics(in SendRequest request, long wireBytes)
    {
        if (Ws4NetMetrics.SendObserved)
        {
            Ws4NetMetrics.Sent(request.MessageType, PayloadLength(request), request.EndOfMessage, wireBytes, _protocol.PerMessageDeflate is not null);
        }
    }

    /// <summary>Payload bytes of a request; a text message's UTF-8 length is counted only when a byte counter is listened to.</summary>
    private static long PayloadLength(in SendRequest request) => request.Kind switch
    {
        SendKind.Bytes => request.Data.Length,
        SendKind.Prepared => request.Prepared!.Payload.Length,
        SendKind.String => Ws4NetMetrics.SentBytesObserved ? System.Text.Encoding.UTF8.GetByteCount(request.Text!) : 0,
        _ => Ws4NetMetrics.SentBytesObserved ? System.Text.Encoding.UTF8.GetByteCount(request.Chars.Span) : 0,
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} closed: {Code} {Reason} (initiator: {Initiator}, open {DurationMs:0} ms, aborted: {Aborted})")]
    private static partial void LogClosed(ILogger logger, string connectionId, int code, string reason, string initiator, double durationMs, bool aborted);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} opened ({Role}, path {Path}, subprotocol {Subprotocol}, extensions {Extensions})")]
    private static partial void LogOpened(ILogger logger, string connectionId, string role, string path, string subprotocol, string extensions);
}
