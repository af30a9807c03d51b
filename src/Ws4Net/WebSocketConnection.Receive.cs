using System.Runtime.CompilerServices;
using Ws4Net.Protocol;

namespace Ws4Net;

public sealed partial class WebSocketConnection
{
    /// <summary>Events processed without the transport going asynchronous before the reader yields its thread (fairness between connections).</summary>
    private const int EventsPerTurn = 256;

    /// <summary>Bytes read without the transport going asynchronous before the reader yields its thread.</summary>
    private const int BytesPerTurn = 256 * 1024;

    private int _readerActive;
    private Memory<byte> _input;
    private long _lastReceived;
    private int _eventsThisTurn;
    private int _bytesThisTurn;
    private bool _receiveEnded;

    /// <summary>
    /// Receives the next data message. Pings are answered automatically; pongs are skipped. Returns
    /// <see langword="null"/> once the connection has closed (see <see cref="CloseStatus"/>): the peer's
    /// close was answered, the connection was failed for a protocol violation (1002/1007/1009), or the
    /// transport ended.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait. On a TLS transport, cancelling in the middle of a record may leave the connection unusable: abort it then.</param>
    /// <returns>The message (valid until the next receive), or <see langword="null"/> when closed.</returns>
    /// <exception cref="InvalidOperationException">Another receive is already in progress.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<WebSocketMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        EnterReader();
        try
        {
            while (true)
            {
                WebSocketEvent e = await ReceiveEventCoreAsync(cancellationToken).ConfigureAwait(false);
                switch (e.Type)
                {
                    case WebSocketEventType.Message:
                    case WebSocketEventType.Fragment:
                        return new WebSocketMessage(e.MessageType, e.Payload, e.EndOfMessage);
                    case WebSocketEventType.None:
                    case WebSocketEventType.Close:
                    case WebSocketEventType.Failed:
                        return null;
                }
            }
        }
        finally
        {
            ExitReader();
        }
    }

    /// <summary>Enumerates received data messages until the connection closes. Each message is valid until the next one is requested.</summary>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The messages, in order.</returns>
    /// <exception cref="InvalidOperationException">Another receive is already in progress.</exception>
    public async IAsyncEnumerable<WebSocketMessage> ReadMessagesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)
        {
            yield return message;
        }
    }

    internal void EnterReader()
    {
        if (Interlocked.CompareExchange(ref _readerActive, 1, 0) != 0)
        {
            throw new InvalidOperationException("Another receive is already in progress on this connection.");
        }
    }

    internal void ExitReader()
    {
        if (_receiveEnded)
        {
            _transport.CompleteReader();
        }

        Volatile.Write(ref _readerActive, 0);
    }

    /// <summary>
    /// Reads the next protocol event and runs the lifecycle steps for close, failure and end of
    /// transport. Returns an event of type None when the transport ended. Caller is the single reader
    /// (the pull API and <see cref="CloseAsync"/>; the handler model has its own flat, corked loop).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<WebSocketEvent> ReceiveEventCoreAsync(CancellationToken cancellationToken)
    {
        if (_receiveEnded || Volatile.Read(ref _state) >= (int)WebSocketConnectionState.Closed)
        {
            return default;
        }

        WebSocketEvent e;
        try
        {
            e = await ReadEventAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or InvalidOperationException)
        {
            _receiveEnded = true;
            Abort(Volatile.Read(ref _transportClosed) != 0 ? null : ex);
            return default;
        }

        await OnEventAsync(e).ConfigureAwait(false);
        return e;
    }

    /// <summary>The lifecycle steps an event needs: pongs complete pings; close, failure and end of transport close the connection.</summary>
    private ValueTask OnEventAsync(WebSocketEvent e)
    {
        switch (e.Type)
        {
            case WebSocketEventType.Pong:
                OnPong(e.Payload.Span);
                return default;
            case WebSocketEventType.Message:
            case WebSocketEventType.Fragment:
            case WebSocketEventType.Ping:
                return default;
            default:
                return OnEndEventAsync(e);
        }
    }

    private async ValueTask OnEndEventAsync(WebSocketEvent e)
    {
        switch (e.Type)
        {
            case WebSocketEventType.Close:
                _receiveEnded = true;
                Uncork();
                await OnPeerCloseAsync(e).ConfigureAwait(false);
                break;
            case WebSocketEventType.Failed:
                _receiveEnded = true;
                Uncork();
                LogProtocolViolation(_logger, Id, (int)e.CloseCode, e.Reason);
                SetCloseStatus(e.CloseCode, e.Reason ?? string.Empty, false);
                StartCloseTimer();
                await WaitForDrainAsync().ConfigureAwait(false);
                await FinishTransportAsync().ConfigureAwait(false);   // the core says: FIN after the close frame (RFC 6455 §7.1.7)
                break;
            case WebSocketEventType.None:
                _receiveEnded = true;
                Uncork();
                if (!_protocol.ReceiveEndOfStream())
                {
                    // RFC 6455 §7.1.5: no close frame before the end of the transport is 1006.
                    SetCloseStatus(WebSocketCloseCode.AbnormalClosure, "The transport closed without a close frame.", true);
                }

                CloseTransport(abort: _protocol.TransportAction == WebSocketTransportAction.Abort);
                break;
        }

    }

    private async ValueTask OnPeerCloseAsync(WebSocketEvent e)
    {
        SetCloseStatus(e.CloseCode, e.Reason ?? string.Empty, !_closeInitiatedByUs);
        StartCloseTimer();
        await WaitForDrainAsync().ConfigureAwait(false);
        await FinishTransportAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the transport the way the core's close lifecycle says (RFC 6455 §7.1.1): the server (or a side
    /// that failed the connection) closes at once; the client waits for the server to close, discarding
    /// bytes, bounded by the close timer.
    /// </summary>
    private async ValueTask FinishTransportAsync()
    {
        if (_protocol.TransportAction == WebSocketTransportAction.WaitForEndOfStream)
        {
            try
            {
                while (!(await _transport.ReadAsync(CancellationToken.None).ConfigureAwait(false)).IsEmpty)
                {
                }

                _protocol.ReceiveEndOfStream();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
            }
        }

        CloseTransport(abort: false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_input.IsEmpty)
            {
                bool produced = _protocol.TryReadEvent(_input, out int consumed, out WebSocketEvent e);
                _input = _input[consumed..];
                OnReadDiagnostics(consumed, produced, e);
                if (_protocol.HasPendingOutput)
                {
                    QueueOwedOutput();
                }

                if (produced)
                {
                    return e;
                }
            }

            _protocol.ReleaseBuffers();
            _input = await _transport.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (_input.IsEmpty)
            {
                return default;
            }

            _lastReceived = Environment.TickCount64;
        }
    }
}
