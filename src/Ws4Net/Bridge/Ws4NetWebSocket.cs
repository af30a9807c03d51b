using System.Runtime.CompilerServices;
using System.Text;
using BclCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;
using BclMessageFlags = System.Net.WebSockets.WebSocketMessageFlags;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;
using BclReceiveResult = System.Net.WebSockets.WebSocketReceiveResult;
using BclState = System.Net.WebSockets.WebSocketState;
using BclValueReceiveResult = System.Net.WebSockets.ValueWebSocketReceiveResult;
using BclWebSocket = System.Net.WebSockets.WebSocket;
using BclWebSocketError = System.Net.WebSockets.WebSocketError;
using BclWebSocketException = System.Net.WebSockets.WebSocketException;
using CloseCode = Ws4Net.Protocol.WebSocketCloseCode;
using CoreMessageType = Ws4Net.Protocol.WebSocketMessageKind;
using ProtocolEvent = Ws4Net.Protocol.WebSocketEvent;
using ProtocolEventType = Ws4Net.Protocol.WebSocketEventType;

namespace Ws4Net.Bridge;

/// <summary>
/// A <see cref="WebSocketConnection"/> seen as a <see cref="System.Net.WebSockets.WebSocket"/>, so that code
/// written against the BCL type (libraries that take a <c>WebSocket</c>, ASP.NET Core style receive loops)
/// runs on Ws4Net unchanged. Create one with <see cref="WebSocketConnectionBridgeExtensions.AsWebSocket"/>.
/// </summary>
/// <remarks>
/// <para>Semantics follow the BCL's documented contract and <c>ManagedWebSocket</c>'s observable behaviour:
/// <see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/> hands out a message in as many pieces as the
/// caller's buffer needs (<c>EndOfMessage</c> on the last one) and returns a
/// <see cref="System.Net.WebSockets.WebSocketMessageType.Close"/> result when the peer's close frame arrives
/// (RFC 6455 §5.5.1); the state goes <c>Open</c> → <c>CloseSent</c>/<c>CloseReceived</c> → <c>Closed</c>, or
/// <c>Aborted</c>; an operation in a state that does not allow it throws a
/// <see cref="System.Net.WebSockets.WebSocketException"/> (<see cref="System.Net.WebSockets.WebSocketError.InvalidState"/>);
/// cancelling a pending operation's token aborts the WebSocket, as <c>ManagedWebSocket</c> does.</para>
/// <para>Differences, all due to the Ws4Net core answering the peer's close frame itself (RFC 6455 §5.5.1, the
/// reply echoes the peer's code with an empty reason): when the peer closes first, the status passed to
/// <see cref="CloseAsync"/>/<see cref="CloseOutputAsync"/> is not sent (the echo already was), and no data may be
/// sent in <c>CloseReceived</c> (a send throws <see cref="System.Net.WebSockets.WebSocketException"/> with
/// <see cref="System.Net.WebSockets.WebSocketError.InvalidState"/>). A client-role connection returns the
/// <c>Close</c> result once the server has closed TCP (RFC 6455 §7.1.1), within
/// <see cref="WebSocketConnectionOptions.CloseTimeout"/>. Received messages are limited by
/// <see cref="Protocol.WebSocketProtocolOptions.MaxMessageSize"/> (1009 beyond it); codes RFC 6455 §7.4 forbids
/// on the wire (1004, 1016-2999) are refused with <see cref="ArgumentOutOfRangeException"/>, and
/// <see cref="System.Net.WebSockets.WebSocketCloseStatus.Empty"/> sends 1000. See docs/bridge.md.</para>
/// <para>Thread-safety: one receive and one send may be outstanding at the same time; further calls of the
/// same kind wait their turn in order. <see cref="CloseOutputAsync"/> and <see cref="CloseAsync"/> may run
/// while a receive is pending. <see cref="Abort"/>, <see cref="Dispose"/> and the properties are safe from any
/// thread.</para>
/// </remarks>
public sealed class Ws4NetWebSocket : BclWebSocket
{
    private static readonly Action<object?> s_abort = static state => ((Ws4NetWebSocket)state!).Abort();

    private readonly WebSocketConnection _connection;
    private readonly SemaphoreSlim _receiveGate = new(1, 1);
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Lock _stateLock = new();

    // Receive side: touched only by the holder of _receiveGate. The payload stays valid until the next event is read.
    private ReadOnlyMemory<byte> _pending;
    private BclMessageType _pendingType;
    private bool _pendingEnd;
    private bool _hasPending;

    // Send side: touched only by the holder of _sendGate.
    private bool _sendingFragment;
    private CoreMessageType _fragmentType;
    private bool _fragmentWithoutCompression;

    // Lifecycle: written under _stateLock, read from any thread.
    private volatile bool _sentClose;
    private volatile bool _receivedClose;
    private volatile bool _aborted;
    private volatile bool _disposed;
    private BclCloseStatus? _closeStatus;
    private string? _closeStatusDescription;

    /// <summary>Wraps an open connection. The WebSocket owns it: disposing the WebSocket disposes the connection.</summary>
    /// <param name="connection">An open connection on which nobody else receives (no <see cref="WebSocketConnection.RunAsync"/> loop, no pull receive).</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    public Ws4NetWebSocket(WebSocketConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
    }

    /// <summary>Gets the wrapped connection (its id, remote endpoint, permessage-deflate agreement, pings). Do not receive from it directly.</summary>
    public WebSocketConnection Connection => _connection;

    /// <summary>Gets the close code of the peer's close frame once it was received (RFC 6455 §7.1.5), else <see langword="null"/>.
    /// An empty close frame reads as <see cref="System.Net.WebSockets.WebSocketCloseStatus.NormalClosure"/>, as with <c>ManagedWebSocket</c>.</summary>
    public override BclCloseStatus? CloseStatus
    {
        get
        {
            lock (_stateLock)
            {
                return _closeStatus;
            }
        }
    }

    /// <summary>Gets the reason of the peer's close frame once it was received (RFC 6455 §7.1.6; may be empty), else <see langword="null"/>.</summary>
    public override string? CloseStatusDescription
    {
        get
        {
            lock (_stateLock)
            {
                return _closeStatusDescription;
            }
        }
    }

    /// <summary>
    /// Gets the state: <c>Open</c>; <c>CloseSent</c> after our close frame; <c>CloseReceived</c> once a receive
    /// returned the peer's close; <c>Closed</c> when both happened or after <see cref="Dispose"/>; <c>Aborted</c>
    /// after <see cref="Abort"/>, a cancelled operation, a protocol violation (RFC 6455 §7.1.7), or a transport
    /// that ended without a close handshake.
    /// </summary>
    public override BclState State
    {
        get
        {
            if (_aborted)
            {
                return BclState.Aborted;
            }

            if ((_sentClose && _receivedClose) || _disposed)
            {
                return BclState.Closed;
            }

            if (_receivedClose)
            {
                return BclState.CloseReceived;
            }

            if (_sentClose)
            {
                return BclState.CloseSent;
            }

            return _connection.State == WebSocketConnectionState.Aborted ? BclState.Aborted : BclState.Open;
        }
    }

    /// <summary>Gets the subprotocol negotiated in the opening handshake (RFC 6455 §1.9), or <see langword="null"/>.</summary>
    public override string? SubProtocol => _connection.Subprotocol;

    /// <summary>
    /// Tears the connection down at once, without a close handshake. The state becomes <c>Aborted</c> (unless
    /// already <c>Closed</c>); pending operations end with <see cref="OperationCanceledException"/>; later ones
    /// throw <see cref="System.Net.WebSockets.WebSocketException"/>. Safe from any thread, any number of times.
    /// </summary>
    public override void Abort()
    {
        lock (_stateLock)
        {
            if (State is not (BclState.Closed or BclState.Aborted))
            {
                _aborted = true;
            }
        }

        _connection.Abort();
        Dispose();
    }

    /// <summary>
    /// Releases the connection. When the close handshake has not completed, the transport is closed at once
    /// (no close frame, as <c>ManagedWebSocket</c> does); the state becomes <c>Closed</c> unless <c>Aborted</c>.
    /// Safe from any thread, any number of times.
    /// </summary>
    public override void Dispose()
    {
        lock (_stateLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        ReleaseConnection();
    }

    /// <summary>Receives data into a segment; see <see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/>.</summary>
    /// <param name="buffer">Where the payload bytes go.</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket.</param>
    /// <returns>The result; for a close, with <see cref="CloseStatus"/> and <see cref="CloseStatusDescription"/>.</returns>
    /// <exception cref="ArgumentNullException">The segment has no array.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseSent</c>; the peer violated the protocol (<see cref="System.Net.WebSockets.WebSocketError.Faulted"/>); the transport ended (<see cref="System.Net.WebSockets.WebSocketError.ConnectionClosedPrematurely"/>).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the WebSocket aborted meanwhile.</exception>
    public override Task<BclReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.Array is null)
        {
            throw new ArgumentNullException(nameof(buffer));
        }

        return ReceiveSegmentAsync(buffer, cancellationToken);
    }

    /// <summary>
    /// Receives the next piece of a data message, or the peer's close. A message larger than
    /// <paramref name="buffer"/> comes in several results, <c>EndOfMessage</c> set on the last one; pings are
    /// answered and pongs skipped on the way. One receive may be outstanding (further calls wait their turn).
    /// </summary>
    /// <param name="buffer">Where the payload bytes go.</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket (as <c>ManagedWebSocket</c> does).</param>
    /// <returns>The byte count (0 to <c>buffer.Length</c>), the message type and whether the message ended; <c>Close</c> when the peer's close frame arrived.</returns>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseSent</c>; the peer violated the protocol (<see cref="System.Net.WebSockets.WebSocketError.Faulted"/>, the connection was failed with the RFC 6455 §7.4.1 code); the transport ended without a close frame (<see cref="System.Net.WebSockets.WebSocketError.ConnectionClosedPrematurely"/>).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the WebSocket aborted meanwhile.</exception>
    public override ValueTask<BclValueReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            ThrowIfInvalidState(BclState.Open, BclState.CloseSent);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<BclValueReceiveResult>(ex);
        }

        return ReceiveCoreAsync(buffer, cancellationToken);
    }

    /// <summary>Sends a data message or a fragment of one; see <see cref="SendAsync(ReadOnlyMemory{byte}, BclMessageType, BclMessageFlags, CancellationToken)"/>.</summary>
    /// <param name="buffer">The payload (text: UTF-8).</param>
    /// <param name="messageType">Text or binary (ignored on a continuation, as the frame is a continuation frame).</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further sends (RFC 6455 §5.4).</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket.</param>
    /// <returns>Completes once the frame is queued for sending.</returns>
    /// <exception cref="ArgumentException"><paramref name="messageType"/> is <c>Close</c>, or the segment has no array.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseReceived</c>, or the transport is gone.</exception>
    public override Task SendAsync(ArraySegment<byte> buffer, BclMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (buffer.Array is null)
        {
            throw new ArgumentNullException(nameof(buffer));
        }

        return SendAsync(buffer.AsMemory(), messageType, endOfMessage ? BclMessageFlags.EndOfMessage : default, cancellationToken).AsTask();
    }

    /// <summary>Sends a data message or a fragment of one; see <see cref="SendAsync(ReadOnlyMemory{byte}, BclMessageType, BclMessageFlags, CancellationToken)"/>.</summary>
    /// <param name="buffer">The payload (text: UTF-8).</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further sends.</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket.</param>
    /// <returns>Completes once the frame is queued for sending.</returns>
    /// <exception cref="ArgumentException"><paramref name="messageType"/> is <c>Close</c>.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseReceived</c>, or the transport is gone.</exception>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, BclMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        => SendAsync(buffer, messageType, endOfMessage ? BclMessageFlags.EndOfMessage : default, cancellationToken);

    /// <summary>
    /// Sends a data message or one fragment of it (RFC 6455 §5.4). The first send of a message decides its
    /// type; later sends of the same message are continuation frames. <see cref="BclMessageFlags.DisableCompression"/>
    /// sends the message uncompressed when permessage-deflate is in force (RFC 7692 §6) and must be the same on
    /// every fragment. One send may be outstanding (further calls wait their turn, in order). The payload is
    /// copied before the returned task completes; completion means queued (the connection's send queue is
    /// bounded: the call waits while it is above <see cref="WebSocketConnectionOptions.SendHighWaterMark"/>).
    /// </summary>
    /// <param name="buffer">The payload (text: UTF-8, not re-validated).</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="messageFlags"><see cref="BclMessageFlags.EndOfMessage"/> to end the message; <see cref="BclMessageFlags.DisableCompression"/> to leave it uncompressed.</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket (as <c>ManagedWebSocket</c> does).</param>
    /// <returns>Completes once the frame is queued.</returns>
    /// <exception cref="ArgumentException"><paramref name="messageType"/> is <c>Close</c>, or <see cref="BclMessageFlags.DisableCompression"/> differs from the message's first fragment.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseReceived</c> (<see cref="System.Net.WebSockets.WebSocketError.InvalidState"/>; also in <c>CloseReceived</c>, whose close reply the core already sent), or the transport is gone (<see cref="System.Net.WebSockets.WebSocketError.ConnectionClosedPrematurely"/>).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the WebSocket aborted meanwhile.</exception>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, BclMessageType messageType, BclMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        if (messageType is not (BclMessageType.Text or BclMessageType.Binary))
        {
            throw new ArgumentException("A data message is Text or Binary; use CloseOutputAsync or CloseAsync to send a close frame.", nameof(messageType));
        }

        try
        {
            ThrowIfInvalidState(BclState.Open, BclState.CloseReceived);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        return SendCoreAsync(buffer, messageType, messageFlags, cancellationToken);
    }

    /// <summary>
    /// Sends our close frame (RFC 6455 §7.1.2) without waiting for the peer's: the state becomes <c>CloseSent</c>
    /// (receive until the <c>Close</c> result), or <c>Closed</c> when the peer's close was already received.
    /// </summary>
    /// <param name="closeStatus">The close code (RFC 6455 §7.4).</param>
    /// <param name="statusDescription">The reason, at most 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancelling it aborts the WebSocket.</param>
    /// <returns>Completes once the close frame is queued.</returns>
    /// <exception cref="ArgumentException">The code is not allowed (0-999, 1006, 1015; with <see cref="ArgumentOutOfRangeException"/> also 1004 and 1016-2999), a description comes with <c>Empty</c>, or the description is over 123 bytes.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c> or <c>CloseReceived</c>, or the transport is gone.</exception>
    public override Task CloseOutputAsync(BclCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        CloseCode code = ValidateCloseArguments(closeStatus, statusDescription);
        return CloseOutputCoreAsync(code, statusDescription, cancellationToken);
    }

    /// <summary>
    /// Runs the close handshake (RFC 6455 §7.1.2): sends our close frame unless it was sent, then receives
    /// (discarding data messages) until the peer's close arrives; the state becomes <c>Closed</c>. May run
    /// while a receive is pending: that receive gets the <c>Close</c> result and this call completes after it.
    /// </summary>
    /// <param name="closeStatus">The close code (RFC 6455 §7.4).</param>
    /// <param name="statusDescription">The reason, at most 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancelling it while the close frame is being queued aborts the WebSocket; cancelling the wait for
    /// the peer's close only stops this call's wait (as with <c>ManagedWebSocket</c>: the state stays <c>CloseSent</c> and the handshake
    /// completes in the background when the peer answers).</param>
    /// <returns>Completes when the handshake is done.</returns>
    /// <exception cref="ArgumentException">See <see cref="CloseOutputAsync"/>.</exception>
    /// <exception cref="System.Net.WebSockets.WebSocketException">Not <c>Open</c>, <c>CloseReceived</c> or <c>CloseSent</c>; the peer violated the protocol; the transport ended without the peer's close.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled or the WebSocket aborted meanwhile.</exception>
    public override Task CloseAsync(BclCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        CloseCode code = ValidateCloseArguments(closeStatus, statusDescription);
        try
        {
            ThrowIfInvalidState(BclState.Open, BclState.CloseReceived, BclState.CloseSent);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }

        return CloseCoreAsync(code, statusDescription, cancellationToken);
    }

    // =====================================================================================
    // Receive
    // =====================================================================================

    private async Task<BclReceiveResult> ReceiveSegmentAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        BclValueReceiveResult result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return result.MessageType == BclMessageType.Close
            ? new BclReceiveResult(0, BclMessageType.Close, true, CloseStatus, CloseStatusDescription)
            : new BclReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BclValueReceiveResult> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_abort, this) : default;
        try
        {
            await _receiveGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfInvalidState(BclState.Open, BclState.CloseSent);
                if (_hasPending)
                {
                    return TakePending(buffer.Span);
                }

                ProtocolEvent e = await ReadEventAsync(cancellationToken).ConfigureAwait(false);
                if (e.Type == ProtocolEventType.Close)
                {
                    return new BclValueReceiveResult(0, BclMessageType.Close, true);
                }

                _pending = e.Payload;
                _pendingType = e.MessageType == CoreMessageType.Text ? BclMessageType.Text : BclMessageType.Binary;
                _pendingEnd = e.EndOfMessage;
                _hasPending = true;
                return TakePending(buffer.Span);
            }
            finally
            {
                _receiveGate.Release();
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    private BclValueReceiveResult TakePending(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _pending.Length);
        _pending.Span[..count].CopyTo(destination);
        _pending = _pending[count..];
        bool end = false;
        if (_pending.IsEmpty)
        {
            _hasPending = false;
            end = _pendingEnd;
        }

        return new BclValueReceiveResult(count, _pendingType, end);
    }

    /// <summary>
    /// Reads the next data or close event (caller holds the receive gate). Pings and pongs are handled by the
    /// connection on the way. Failure, end of transport and our own abort surface as exceptions.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ProtocolEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        ProtocolEvent e;
        _hasPending = false;
        _pending = default;
        try
        {
            _connection.EnterReader();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException("The connection is being received from elsewhere (a handler loop or the pull API); a bridged connection must be received through the WebSocket only.", ex);
        }

        try
        {
            do
            {
                e = await _connection.ReceiveEventCoreAsync(CancellationToken.None).ConfigureAwait(false);
            }
            while (e.Type is ProtocolEventType.Ping or ProtocolEventType.Pong);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _connection.Abort();
            throw Ended(cancellationToken, ex);
        }
        finally
        {
            _connection.ExitReader();
            if (_disposed)
            {
                ReleaseConnection();
            }
        }

        if (_disposed && e.Type is ProtocolEventType.Message or ProtocolEventType.Fragment)
        {
            // Disposed (or aborted) while the read was pending: the payload's buffers are released.
            throw Ended(cancellationToken, null);
        }

        switch (e.Type)
        {
            case ProtocolEventType.Message:
            case ProtocolEventType.Fragment:
                return e;
            case ProtocolEventType.Close:
                lock (_stateLock)
                {
                    _receivedClose = true;
                    // ManagedWebSocket reports an empty close frame as NormalClosure; so does the bridge.
                    _closeStatus = e.CloseCode == CloseCode.NoStatusReceived ? BclCloseStatus.NormalClosure : (BclCloseStatus)(int)e.CloseCode;
                    _closeStatusDescription = e.Reason ?? string.Empty;
                }

                if (_sentClose)
                {
                    ReleaseConnection();
                }

                return e;
            case ProtocolEventType.Failed:
                // The core queued the close frame with the RFC 6455 §7.4.1 code; the connection sent it and closed.
                MarkAborted();
                throw new BclWebSocketException(BclWebSocketError.Faulted, $"The peer violated the WebSocket protocol; the connection was closed with {(int)e.CloseCode}: {e.Reason}");
            default:
                throw Ended(cancellationToken, null);
        }
    }

    /// <summary>The exception for a receive whose transport ended: our cancellation or abort, else a premature close by the peer.</summary>
    private Exception Ended(CancellationToken cancellationToken, Exception? inner)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new OperationCanceledException("The operation was canceled; the WebSocket was aborted.", inner, cancellationToken);
        }

        if (_aborted)
        {
            return new OperationCanceledException(nameof(BclState.Aborted), inner);
        }

        if (_disposed)
        {
            return new BclWebSocketException(BclWebSocketError.ConnectionClosedPrematurely, new ObjectDisposedException(nameof(Ws4NetWebSocket)));
        }

        MarkAborted();
        return inner is null
            ? new BclWebSocketException(BclWebSocketError.ConnectionClosedPrematurely, "The remote party closed the WebSocket connection without completing the close handshake.")
            : new BclWebSocketException(BclWebSocketError.ConnectionClosedPrematurely, inner);
    }

    // =====================================================================================
    // Send
    // =====================================================================================

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendCoreAsync(ReadOnlyMemory<byte> buffer, BclMessageType messageType, BclMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_abort, this) : default;
        try
        {
            await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                bool endOfMessage = (messageFlags & BclMessageFlags.EndOfMessage) != 0;
                bool withoutCompression = (messageFlags & BclMessageFlags.DisableCompression) != 0;
                CoreMessageType type;
                if (_sendingFragment)
                {
                    if (withoutCompression != _fragmentWithoutCompression)
                    {
                        throw new ArgumentException("The DisableCompression flag must be the same on every fragment of a message.", nameof(messageFlags));
                    }

                    type = _fragmentType;
                }
                else
                {
                    type = messageType == BclMessageType.Text ? CoreMessageType.Text : CoreMessageType.Binary;
                }

                ThrowIfInvalidState(BclState.Open, BclState.CloseReceived);
                try
                {
                    await _connection.SendAsync(buffer, type, (endOfMessage ? Protocol.WebSocketSendFlags.EndOfMessage : Protocol.WebSocketSendFlags.None) | (withoutCompression ? Protocol.WebSocketSendFlags.DisableCompression : Protocol.WebSocketSendFlags.None), CancellationToken.None).ConfigureAwait(false);
                }
                catch (WebSocketClosedException ex)
                {
                    throw SendFailed(cancellationToken, ex);
                }

                _sendingFragment = !endOfMessage;
                _fragmentType = type;
                _fragmentWithoutCompression = withoutCompression;
            }
            finally
            {
                _sendGate.Release();
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    private Exception SendFailed(CancellationToken cancellationToken, Exception inner)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new OperationCanceledException("The operation was canceled; the WebSocket was aborted.", inner, cancellationToken);
        }

        if (_aborted)
        {
            return new OperationCanceledException(nameof(BclState.Aborted), inner);
        }

        if (_connection.State == WebSocketConnectionState.Aborted)
        {
            return new BclWebSocketException(BclWebSocketError.ConnectionClosedPrematurely, inner);
        }

        // The core answered the peer's close frame already (RFC 6455 §5.5.1): nothing may follow it.
        return new BclWebSocketException(BclWebSocketError.InvalidState, "The peer's close frame was already answered by the Ws4Net core; no data may be sent after it (RFC 6455 §5.5.1).", inner);
    }

    // =====================================================================================
    // Close
    // =====================================================================================

    private async Task CloseOutputCoreAsync(CloseCode code, string? reason, CancellationToken cancellationToken)
    {
        ThrowIfInvalidState(BclState.Open, BclState.CloseReceived);
        await SendCloseAsync(code, reason, cancellationToken).ConfigureAwait(false);
    }

    private async Task CloseCoreAsync(CloseCode code, string? reason, CancellationToken cancellationToken)
    {
        if (!_sentClose)
        {
            await SendCloseAsync(code, reason, cancellationToken).ConfigureAwait(false);
        }

        if (_receivedClose || _aborted)
        {
            return;
        }

        // As ManagedWebSocket does: cancelling the wait for the peer's close does not abort; the receive that
        // waits for it goes on in the background (later receives queue behind it) and completes the handshake.
        Task wait = WaitForPeerCloseAsync();
        if (cancellationToken.CanBeCanceled && !wait.IsCompleted)
        {
            _ = wait.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits behind a pending receive (it may get the peer's close), then reads, discarding data messages, until the close arrives.</summary>
    private async Task WaitForPeerCloseAsync()
    {
        await _receiveGate.WaitAsync().ConfigureAwait(false);
        try
        {
            while (!_receivedClose)
            {
                if (_aborted || _disposed)
                {
                    throw Ended(CancellationToken.None, null);
                }

                _ = await ReadEventAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _receiveGate.Release();
        }
    }

    private async ValueTask SendCloseAsync(CloseCode code, string? reason, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_abort, this) : default;
        try
        {
            // Behind a send in progress, as a close frame may not split a frame (a fragmented message may go on around it).
            await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_receivedClose)
                {
                    if (_connection.State is WebSocketConnectionState.Aborted)
                    {
                        throw SendFailed(cancellationToken, new WebSocketClosedException("The connection is closed.", _connection.CloseStatus));
                    }

                    // A no-op when the core already answered a close frame that no receive has surfaced yet.
                    _connection.StartClose(code, string.IsNullOrEmpty(reason) ? null : reason);
                }

                lock (_stateLock)
                {
                    _sentClose = true;
                }
            }
            finally
            {
                _sendGate.Release();
            }
        }
        finally
        {
            registration.Dispose();
        }

        if (_receivedClose)
        {
            ReleaseConnection();
        }
    }

    // =====================================================================================
    // State
    // =====================================================================================

    private void ThrowIfInvalidState(params ReadOnlySpan<BclState> validStates)
    {
        BclState state = State;
        if (!validStates.Contains(state))
        {
            string valid = string.Join(", ", validStates.ToArray());
            throw new BclWebSocketException(BclWebSocketError.InvalidState, $"The WebSocket is in state '{state}'; this operation is valid in: {valid}.");
        }
    }

    private static CloseCode ValidateCloseArguments(BclCloseStatus closeStatus, string? description)
    {
        int raw = (int)closeStatus;
        if (closeStatus == BclCloseStatus.Empty)
        {
            if (!string.IsNullOrEmpty(description))
            {
                throw new ArgumentException("A close with status Empty may not carry a description.", nameof(description));
            }

            return CloseCode.NormalClosure;
        }

        if (raw is < 1000 or > 4999 or 1006 or 1015)
        {
            throw new ArgumentException($"The close status {raw} may not be sent (RFC 6455 §7.4).", nameof(closeStatus));
        }

        if (!Protocol.WebSocketCloseCodes.IsValidOnWire(raw))
        {
            throw new ArgumentOutOfRangeException(nameof(closeStatus), raw, "This close code is reserved and may not be sent on the wire (RFC 6455 §7.4.2).");
        }

        if (description is not null && Encoding.UTF8.GetByteCount(description) > 123)
        {
            throw new ArgumentException("A close description is at most 123 UTF-8 bytes.", nameof(description));
        }

        return (CloseCode)raw;
    }

    private void MarkAborted()
    {
        lock (_stateLock)
        {
            if (!(_sentClose && _receivedClose) && !_disposed)
            {
                _aborted = true;
            }
        }
    }

    /// <summary>Closes the transport when the close handshake did not finish, and releases the connection's buffers (again after a pending receive ends).</summary>
    private void ReleaseConnection()
    {
        if (_connection.State is WebSocketConnectionState.Open or WebSocketConnectionState.Closing)
        {
            _connection.Abort();
        }

        ValueTask dispose = _connection.DisposeAsync();   // synchronous once the transport is closed
        if (!dispose.IsCompleted)
        {
            _ = dispose.AsTask();
        }
    }
}
