using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Ws4Net.Protocol;

namespace Ws4Net;

public sealed partial class WebSocketConnection
{
    /// <summary>At most this many pings wait for their pong at once (count); older ones are forgotten.</summary>
    private const int MaxOutstandingPings = 16;

    private static long s_nextPingId;

    private readonly Lock _pingLock = new();
    private List<OutstandingPing>? _pings;
    private long _keepAlivePingAt;
    private long _latencyTicks = -1;

    /// <summary>Gets the round-trip time of the last ping answered by a pong (a keepalive ping or <see cref="PingAsync"/>), or <see langword="null"/> before the first.</summary>
    public TimeSpan? Latency
    {
        get
        {
            long ticks = Volatile.Read(ref _latencyTicks);
            return ticks < 0 ? null : TimeSpan.FromTicks(ticks);
        }
    }

    /// <summary>
    /// Sends a ping (RFC 6455 §5.5.2) with a unique 8-byte payload and completes with the round-trip time
    /// when the matching pong arrives (§5.5.3). Also updates <see cref="Latency"/>. Needs a receive running
    /// (a handler loop or a pending <see cref="ReceiveAsync"/>) to see the pong.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the pong.</param>
    /// <returns>The round-trip time.</returns>
    /// <exception cref="WebSocketClosedException">The connection closed before the pong arrived, or a close was already sent.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var ping = new OutstandingPing(Interlocked.Increment(ref s_nextPingId), Stopwatch.GetTimestamp(), new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously));
        TrackPing(ping);
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(payload, ping.Id);
        try
        {
            SendControl(WebSocketOpcode.Ping, payload, throwIfClosed: true);
        }
        catch
        {
            ForgetPing(ping.Id);
            throw;
        }

        try
        {
            return await ping.Completion!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ForgetPing(ping.Id);
        }
    }

    /// <summary>Called by the shared heartbeat (every 100 ms) with the current <see cref="Environment.TickCount64"/>: send and close timeouts, keepalive, idle.</summary>
    internal void OnHeartbeat(long now)
    {
        if (Volatile.Read(ref _transportClosed) != 0)
        {
            return;
        }

        long writeStarted = Volatile.Read(ref _writeStarted);
        if (writeStarted != 0 && _options.SendTimeout != Timeout.InfiniteTimeSpan && now - writeStarted > (long)_options.SendTimeout.TotalMilliseconds)
        {
            LogSendTimeout(_logger, Id, (long)_options.SendTimeout.TotalMilliseconds);
            SetCloseStatus(WebSocketCloseCode.AbnormalClosure, "A write to the peer timed out.", false);
            CloseTransport(abort: true);
            return;
        }

        long closeDeadline = Volatile.Read(ref _closeDeadline);
        if (closeDeadline != 0 && now > closeDeadline)
        {
            LogCloseTimeout(_logger, Id);
            SetCloseStatus(WebSocketCloseCode.AbnormalClosure, "The close handshake timed out.", false);
            CloseTransport(abort: true);
            return;
        }

        if (closeDeadline != 0 || _protocol.State != WebSocketProtocolState.Open)
        {
            return;
        }

        long lastReceived = Volatile.Read(ref _lastReceived);
        long interval = (long)_options.KeepAliveInterval.TotalMilliseconds;
        if (interval > 0)
        {
            long pingAt = Volatile.Read(ref _keepAlivePingAt);
            if (pingAt != 0 && lastReceived < pingAt && now - pingAt > (long)_options.KeepAliveTimeout.TotalMilliseconds)
            {
                LogKeepAliveTimeout(_logger, Id, now - pingAt);
                Volatile.Write(ref _keepAlivePingAt, 0);
                TryQueueClose(WebSocketCloseCode.InternalError, "keepalive ping timeout");
                return;
            }

            if ((pingAt == 0 || lastReceived >= pingAt) && now - lastReceived >= interval)
            {
                SendKeepAlivePing(now);
            }
        }

        long idle = (long)_options.IdleTimeout.TotalMilliseconds;
        if (idle > 0 && now - Math.Max(lastReceived, Volatile.Read(ref _lastSent)) >= idle)
        {
            LogIdleTimeout(_logger, Id, idle);
            TryQueueClose(WebSocketCloseCode.GoingAway, "idle timeout");
        }
    }

    private void SendKeepAlivePing(long now)
    {
        var ping = new OutstandingPing(Interlocked.Increment(ref s_nextPingId), Stopwatch.GetTimestamp(), null);
        TrackPing(ping);
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(payload, ping.Id);
        Volatile.Write(ref _keepAlivePingAt, now);
        if (!SendControl(WebSocketOpcode.Ping, payload, throwIfClosed: false))
        {
            ForgetPing(ping.Id);
        }
    }

    private void TrackPing(OutstandingPing ping)
    {
        lock (_pingLock)
        {
            _pings ??= [];
            if (_pings.Count >= MaxOutstandingPings)
            {
                _pings[0].Completion?.TrySetException(new TimeoutException("Too many pings are waiting for their pong; the oldest was forgotten."));
                _pings.RemoveAt(0);
            }

            _pings.Add(ping);
        }
    }

    private void ForgetPing(long id)
    {
        lock (_pingLock)
        {
            _pings?.RemoveAll(p => p.Id == id);
        }
    }

    /// <summary>A pong arrived: if it answers one of our pings, record the round-trip time (any pong also proves the peer alive).</summary>
    private void OnPong(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 8 || _pings is null)
        {
            return;
        }

        long id = BinaryPrimitives.ReadInt64BigEndian(payload);
        OutstandingPing? match = null;
        lock (_pingLock)
        {
            int index = _pings.FindIndex(p => p.Id == id);
            if (index >= 0)
            {
                match = _pings[index];
                _pings.RemoveAt(index);
            }
        }

        if (match is { } ping)
        {
            TimeSpan rtt = Stopwatch.GetElapsedTime(ping.SentAt);
            Volatile.Write(ref _latencyTicks, rtt.Ticks);
            Diagnostics.Ws4NetMetrics.PingRoundTrip(Role, rtt);
            ping.Completion?.TrySetResult(rtt);
        }
    }

    /// <summary>The transport closed: fail waiting pings, release the send side.</summary>
    private void OnTransportClosed(WebSocketCloseInfo status)
    {
        ReleaseSendSide();
        List<OutstandingPing>? pings;
        lock (_pingLock)
        {
            pings = _pings;
            _pings = null;
        }

        if (pings is not null)
        {
            foreach (OutstandingPing ping in pings)
            {
                ping.Completion?.TrySetException(new WebSocketClosedException("The connection closed before the pong arrived.", status));
            }
        }
    }

    private readonly record struct OutstandingPing(long Id, long SentAt, TaskCompletionSource<TimeSpan>? Completion);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: no pong within {ElapsedMs} ms of a keepalive ping, closing with 1011")]
    private static partial void LogKeepAliveTimeout(ILogger logger, string connectionId, long elapsedMs);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId}: no traffic for {IdleMs} ms, closing with 1001")]
    private static partial void LogIdleTimeout(ILogger logger, string connectionId, long idleMs);
}
