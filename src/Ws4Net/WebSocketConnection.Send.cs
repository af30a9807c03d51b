using System.Buffers;
using System.Text;
using Ws4Net.Internal;
using Ws4Net.Protocol;

namespace Ws4Net;

public sealed partial class WebSocketConnection
{
    private readonly Lock _sendLock = new();
    private readonly SendQueue _queue = new();
    private long _buffered;
    private bool _writing;
    private bool _corked;
    private bool _sendFailed;
    private List<ArraySegment<byte>>? _segments;
    private ValueTask _pendingWrite;
    private int _pendingWriteBytes;
    private Action? _writeContinuation;
    private long _writeStarted;
    private long _lastSent;
    private TaskCompletionSource? _spaceWaiter;
    private TaskCompletionSource? _drainWaiter;

    // fragmented-message lease (RFC 6455 §5.4: the fragments of one message may not interleave with another's)
    private object? _leaseOwner;
    private Queue<(object Owner, TaskCompletionSource Granted)>? _leaseWaiters;
    private List<DeferredMessage>? _deferred;
    private long _deferredBytes;
    private static readonly object s_streamingOwner = new();

    /// <summary>
    /// Gets the number of bytes queued and not yet handed to the transport, framing included (like the
    /// browser's <c>bufferedAmount</c>). Never above <see cref="WebSocketConnectionOptions.MaxBufferedAmount"/>
    /// plus one control frame. Safe to read from any thread.
    /// </summary>
    public long BufferedAmount => Volatile.Read(ref _buffered);

    // =====================================================================================
    // Complete messages
    // =====================================================================================

    /// <summary>Sends a text message (RFC 6455 §5.6), UTF-8 encoded straight into the send queue.</summary>
    /// <param name="text">The text; lone surrogates become U+FFFD.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space; a queued frame is always sent whole.</param>
    /// <returns>Completes once the message is queued (written at once when the writer is idle). Waits first while
    /// <see cref="BufferedAmount"/> is above <see cref="WebSocketConnectionOptions.SendHighWaterMark"/> (backpressure).</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting for queue space.</exception>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendAsync(SendRequest.ForString(text), cancellationToken);
    }

    /// <summary>Sends a binary message (RFC 6455 §5.6).</summary>
    /// <param name="data">The payload; copied into the send queue before the returned task completes (before this method returns unless it waits for queue space).</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes once queued (see <see cref="SendTextAsync(string, CancellationToken)"/>).</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting for queue space.</exception>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => SendAsync(SendRequest.ForBytes(data, WebSocketMessageKind.Binary, null), cancellationToken);

    /// <summary>
    /// Sends a prepared message (encoded once, shared by every connection that sends it). A server-role
    /// connection queues a reference to the shared frame, not a copy.
    /// </summary>
    /// <param name="message">The prepared message; it stays alive until written even if its creator disposes it.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="ObjectDisposedException">The message was already released by every holder.</exception>
    public ValueTask SendAsync(WebSocketPreparedMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendAsync(SendRequest.ForPrepared(message), cancellationToken);
    }

    /// <summary>
    /// Queues a text message without ever waiting (for fan-out: a broadcast must not wait for the slowest
    /// peer). At <see cref="WebSocketConnectionOptions.MaxBufferedAmount"/> the
    /// <see cref="WebSocketConnectionOptions.BackpressurePolicy"/> applies.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns><see cref="WebSocketSendStatus.Sent"/>, <see cref="WebSocketSendStatus.Queued"/>, <see cref="WebSocketSendStatus.Dropped"/>
    /// or <see cref="WebSocketSendStatus.Closed"/>. Never throws for a closed peer.</returns>
    public WebSocketSendStatus TrySendText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TrySend(SendRequest.ForString(text));
    }

    /// <summary>Queues a data message without ever waiting (see <see cref="TrySendText"/>).</summary>
    /// <param name="data">The payload (for text: valid UTF-8); copied.</param>
    /// <param name="messageType">Text or binary.</param>
    /// <returns>The outcome; never throws for a closed peer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not text or binary.</exception>
    public WebSocketSendStatus TrySend(ReadOnlyMemory<byte> data, WebSocketMessageKind messageType)
    {
        CheckDataType(messageType);
        return TrySend(SendRequest.ForBytes(data, messageType, null));
    }

    /// <summary>Queues a prepared message without ever waiting; a server-role connection queues a reference, not a copy.</summary>
    /// <param name="message">The prepared message.</param>
    /// <returns>The outcome; never throws for a closed peer.</returns>
    public WebSocketSendStatus TrySend(WebSocketPreparedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return TrySend(SendRequest.ForPrepared(message));
    }

    // =====================================================================================
    // Fragmented messages
    // =====================================================================================

    /// <summary>
    /// Sends a text message, or one fragment of it (RFC 6455 §5.4). This is the streaming API of one
    /// owner at a time (like <c>System.Net.WebSockets.WebSocket.SendAsync</c>): a call with
    /// <paramref name="endOfMessage"/> false takes the connection's message lease, and the following
    /// streaming calls continue that message until one ends it. Complete messages sent meanwhile through
    /// the other APIs (from any thread) wait behind it, never inside it.
    /// </summary>
    /// <param name="text">The text of this fragment.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further calls.</param>
    /// <param name="cancellationToken">Cancels only the waits (for the lease, for queue space).</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">A binary message is in progress on the streaming API.</exception>
    public ValueTask SendTextAsync(ReadOnlyMemory<char> text, bool endOfMessage, CancellationToken cancellationToken = default)
        => SendStreamingAsync(SendRequest.ForChars(text, endOfMessage), cancellationToken);

    /// <summary>Sends a data message or one fragment of it on the streaming API (see <see cref="SendTextAsync(ReadOnlyMemory{char}, bool, CancellationToken)"/>).</summary>
    /// <param name="data">The payload of this frame (for text: UTF-8 bytes, not re-validated).</param>
    /// <param name="messageType">Text or binary; a continuation must repeat the type of the message in progress.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further calls.</param>
    /// <param name="cancellationToken">Cancels only the waits.</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">The type differs from the message in progress.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageKind messageType, bool endOfMessage, CancellationToken cancellationToken = default)
        => SendAsync(data, messageType, endOfMessage ? WebSocketSendFlags.EndOfMessage : WebSocketSendFlags.None, cancellationToken);

    /// <summary>
    /// Sends a data message or one fragment of it on the streaming API, with flags as the BCL's
    /// <c>WebSocketMessageFlags</c>: <see cref="WebSocketSendFlags.EndOfMessage"/> ends the message, and with
    /// permessage-deflate in force <see cref="WebSocketSendFlags.DisableCompression"/> sends it uncompressed
    /// (secrets, already-compressed data; RFC 7692 §6) while <see cref="WebSocketSendFlags.ForceCompression"/>
    /// compresses it whatever its size. Only the first part of a message decides its compression.
    /// </summary>
    /// <param name="data">The payload of this part.</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="flags">End of message and the compression choice.</param>
    /// <param name="cancellationToken">Cancels only the waits.</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">The type differs from the message in progress.</exception>
    /// <exception cref="ArgumentException">Both compression flags are set.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageKind messageType, WebSocketSendFlags flags, CancellationToken cancellationToken = default)
    {
        CheckDataType(messageType);
        bool? compress = flags.CompressionChoice(nameof(flags));
        bool endOfMessage = (flags & WebSocketSendFlags.EndOfMessage) != 0;
        if (endOfMessage && Volatile.Read(ref _leaseOwner) != s_streamingOwner)
        {
            // A complete message, not a continuation: the ordinary path.
            return SendAsync(SendRequest.ForBytes(data, messageType, compress), cancellationToken);
        }

        SendRequest request = SendRequest.ForBytes(data, messageType, compress);
        request.EndOfMessage = endOfMessage;
        return SendStreamingAsync(request, cancellationToken);
    }

    /// <summary>
    /// Takes the connection's message lease and returns a writer for one fragmented message (RFC 6455 §5.4).
    /// While the writer is open, complete messages from other callers wait behind it (they are queued after
    /// its last fragment) and other writers wait for the lease in order; control frames (pings, pongs, the
    /// close) may still go out between its fragments.
    /// </summary>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="flags">The compression choice for the whole message (RFC 7692 §6): <see cref="WebSocketSendFlags.DisableCompression"/>,
    /// <see cref="WebSocketSendFlags.ForceCompression"/>, or neither for the threshold. <see cref="WebSocketSendFlags.EndOfMessage"/> is ignored
    /// (the writer's last write ends the message).</param>
    /// <param name="cancellationToken">Cancels the wait for the lease.</param>
    /// <returns>The writer; complete it with a final write or dispose it (which ends the message with an empty final fragment).</returns>
    /// <exception cref="WebSocketClosedException">The connection is closing or closed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting.</exception>
    /// <exception cref="ArgumentException">Both compression flags are set.</exception>
    public async ValueTask<WebSocketMessageWriter> BeginMessageAsync(WebSocketMessageKind messageType, WebSocketSendFlags flags = WebSocketSendFlags.None, CancellationToken cancellationToken = default)
    {
        CheckDataType(messageType);
        var writer = new WebSocketMessageWriter(this, messageType, flags.CompressionChoice(nameof(flags)));
        await AcquireLeaseAsync(writer, cancellationToken).ConfigureAwait(false);
        return writer;
    }

    internal ValueTask WriteFragmentAsync(WebSocketMessageWriter writer, ReadOnlyMemory<byte> data, bool endOfMessage, CancellationToken cancellationToken)
    {
        SendRequest request = SendRequest.ForBytes(data, writer.MessageType, writer.Compress);
        request.EndOfMessage = endOfMessage;
        request.Owner = writer;
        return SendAsync(request, cancellationToken);
    }

    // =====================================================================================
    // Control frames
    // =====================================================================================

    /// <summary>Sends a ping (RFC 6455 §5.5.2); the peer answers with a pong carrying the same payload. Never waits for queue space.</summary>
    /// <param name="payload">0-125 bytes of application data.</param>
    /// <param name="cancellationToken">Not used beyond an early check (control frames are never held back).</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    public ValueTask SendPingAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SendControl(WebSocketOpcode.Ping, payload.Span, throwIfClosed: true);
        return default;
    }

    /// <summary>Sends an unsolicited pong, a one-way heartbeat (RFC 6455 §5.5.3). Never waits for queue space.</summary>
    /// <param name="payload">0-125 bytes of application data.</param>
    /// <param name="cancellationToken">Not used beyond an early check.</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    public ValueTask PongAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SendControl(WebSocketOpcode.Pong, payload.Span, throwIfClosed: true);
        return default;
    }

    /// <summary>Encodes a control frame into the queue now (control frames bypass the cap and the lease) and starts a write when idle. Returns false when the connection no longer sends.</summary>
    private bool SendControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool throwIfClosed)
    {
        if (payload.Length > Protocol.Framing.WebSocketFrameEncoder.MaxControlPayloadLength)
        {
            throw new ArgumentException("A control frame payload is at most 125 bytes.", nameof(payload));
        }

        bool start = false;
        bool closed = false;
        lock (_sendLock)
        {
            if (!CanSendLocked())
            {
                if (throwIfClosed)
                {
                    ThrowClosed();
                }

                return false;
            }

            long before = _queue.Appended;
            _protocol.WritePendingOutput(_queue);
            if (_protocol.IsCloseSent)
            {
                // The close echo just went into the queue; no control frame may follow it.
                start = CommitLocked(before);
                closed = true;
            }
            else if (opcode == WebSocketOpcode.Ping)
            {
                _protocol.WritePing(_queue, payload);
            }
            else
            {
                _protocol.WritePong(_queue, payload);
            }

            if (!closed)
            {
                start = CommitLocked(before);
            }
        }

        if (start)
        {
            Flush();
        }

        if (closed && throwIfClosed)
        {
            ThrowClosed();
        }

        return !closed;
    }

    // =====================================================================================
    // Close
    // =====================================================================================

    /// <summary>
    /// Starts the close handshake (RFC 6455 §7.1.2): sends a close frame, then, unless a receive is
    /// running (a handler loop or a pending <see cref="ReceiveAsync"/>, which will see the peer's reply),
    /// reads and discards incoming data until the peer's close frame arrives and the transport closes.
    /// If the peer does not complete the handshake within <see cref="WebSocketConnectionOptions.CloseTimeout"/>,
    /// the transport is aborted. Calling it again, or after the peer's close, is harmless.
    /// </summary>
    /// <param name="code">The close code (1000-1003, 1007-1014, 3000-4999).</param>
    /// <param name="reason">At most 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Stops waiting for the peer (the close timer still runs).</param>
    /// <returns>Completes when the close frame is written and, when this call drives the receive side, when the connection is closed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The code may not be sent.</exception>
    /// <exception cref="ArgumentException">The reason is over 123 UTF-8 bytes.</exception>
    public async ValueTask CloseAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        CheckCloseArguments(code, reason);
        if (TryQueueClose(code, reason))
        {
            await WaitForDrainAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Interlocked.CompareExchange(ref _readerActive, 1, 0) == 0)
        {
            try
            {
                while (Volatile.Read(ref _state) == (int)WebSocketConnectionState.Open)
                {
                    WebSocketEvent e = await ReceiveEventCoreAsync(cancellationToken).ConfigureAwait(false);
                    if (e.Type is WebSocketEventType.None or WebSocketEventType.Close or WebSocketEventType.Failed)
                    {
                        break;
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _readerActive, 0);
            }
        }
    }

    /// <summary>
    /// Queues our close frame after everything already queued (RFC 6455 §7.1.2) and returns without
    /// waiting. The handler loop (or the next receive) sees the peer's reply; the close timeout
    /// (<see cref="WebSocketConnectionOptions.CloseTimeout"/>) aborts a peer that never answers. Does
    /// nothing when a close was already sent or the connection is closed.
    /// </summary>
    /// <param name="code">The close code (1000-1003, 1007-1014, 3000-4999).</param>
    /// <param name="reason">At most 123 UTF-8 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The code may not be sent.</exception>
    /// <exception cref="ArgumentException">The reason is over 123 UTF-8 bytes.</exception>
    public void StartClose(WebSocketCloseCode code, string? reason = null)
    {
        CheckCloseArguments(code, reason);
        TryQueueClose(code, reason);
    }

    private static void CheckCloseArguments(WebSocketCloseCode code, string? reason)
    {
        if (!WebSocketCloseCodes.IsValidOnWire((int)code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), (int)code, "This close code may not be sent (RFC 6455 §7.4).");
        }

        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > 123)
        {
            throw new ArgumentException("A close reason is at most 123 UTF-8 bytes.", nameof(reason));
        }
    }

    /// <summary>Queues our close frame (once), starts the close timer and a write; false when a close was already sent or the connection is over.</summary>
    private bool TryQueueClose(WebSocketCloseCode code, string? reason)
    {
        bool start;
        lock (_sendLock)
        {
            if (!CanSendLocked())
            {
                return false;
            }

            long before = _queue.Appended;
            _protocol.WriteClose(_queue, code, reason);
            _closeInitiatedByUs = !_protocol.IsReceiveCompleted;
            DiscardDeferredLocked();
            start = CommitLocked(before, uncork: true);
        }

        StartCloseTimer();
        if (start)
        {
            Flush();
        }

        return true;
    }

    // =====================================================================================
    // The send paths
    // =====================================================================================

    private WebSocketSendStatus TrySend(in SendRequest request)
    {
        bool start;
        WebSocketCloseCode? closeWith = null;
        lock (_sendLock)
        {
            if (!CanSendLocked())
            {
                return WebSocketSendStatus.Closed;
            }

            long size = request.EstimateSize();
            if (Volatile.Read(ref _buffered) + size > _options.MaxBufferedAmount)
            {
                Diagnostics.Ws4NetMetrics.Dropped(request.MessageType, _options.BackpressurePolicy);
                if (_options.BackpressurePolicy == WebSocketBackpressurePolicy.DropMessage)
                {
                    return WebSocketSendStatus.Dropped;
                }

                closeWith = _options.BackpressurePolicy == WebSocketBackpressurePolicy.ClosePolicyViolation
                    ? WebSocketCloseCode.PolicyViolation
                    : WebSocketCloseCode.TryAgainLater;
                start = false;
            }
            else if (_leaseOwner is not null)
            {
                DeferLocked(request, size);
                return WebSocketSendStatus.Queued;
            }
            else
            {
                long before = _queue.Appended;
                bool encoded = EncodeLocked(request);
                start = CommitLocked(before);
                if (!encoded)
                {
                    closeWith = null;
                    if (start)
                    {
                        Flush();
                    }

                    return WebSocketSendStatus.Closed;
                }
            }
        }

        if (closeWith is { } code)
        {
            LogBackpressureClose(_logger, Id, (int)code, Volatile.Read(ref _buffered));
            TryQueueClose(code, "send queue full");
            return WebSocketSendStatus.Closed;
        }

        if (!start)
        {
            return WebSocketSendStatus.Queued;
        }

        Flush();
        return Volatile.Read(ref _writing) ? WebSocketSendStatus.Queued : WebSocketSendStatus.Sent;
    }

    private ValueTask SendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        bool start;
        bool closedBeforeEncoding = false;
        lock (_sendLock)
        {
            if (!CanSendLocked())
            {
                ThrowClosed();
            }

            long size = request.EstimateSize();
            if (size > _options.MaxBufferedAmount)
            {
                return request.Owner is null
                    ? SendLargeAsync(request, cancellationToken)
                    : SendFragmentInPiecesAsync(request, cancellationToken);
            }

            long buffered = QueuedBytesFor(request.Owner);
            if (buffered > _options.SendHighWaterMark || buffered + size > _options.MaxBufferedAmount)
            {
                return WaitThenSendAsync(request, cancellationToken);
            }

            if (_leaseOwner is not null && _leaseOwner != request.Owner)
            {
                DeferLocked(request, size);
                return default;
            }

            long before = _queue.Appended;
            bool encoded = EncodeLocked(request);
            if (encoded && request.Owner is not null && request.EndOfMessage)
            {
                ReleaseLeaseLocked();
            }

            start = CommitLocked(before);
            if (!encoded)
            {
                closedBeforeEncoding = true;
            }
        }

        if (start)
        {
            Flush();
        }

        if (closedBeforeEncoding)
        {
            ThrowClosed();
        }

        return default;
    }

    private async ValueTask WaitThenSendAsync(SendRequest request, CancellationToken cancellationToken)
    {
        await WaitForSpaceAsync(request.EstimateSize(), request.Owner, cancellationToken).ConfigureAwait(false);
        await SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A message larger than the whole cap goes out as fragments under the lease, each queued when there is room (the cap is never exceeded).</summary>
    private async ValueTask SendLargeAsync(SendRequest request, CancellationToken cancellationToken)
    {
        byte[]? rented = null;
        ReadOnlyMemory<byte> payload;
        switch (request.Kind)
        {
            case SendKind.Bytes:
                payload = request.Data;
                break;
            case SendKind.Prepared:
                payload = request.Prepared!.Payload;
                break;
            default:
                rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(request.Text!.Length));
                payload = rented.AsMemory(0, Encoding.UTF8.GetBytes(request.Text, rented));
                break;
        }

        var writer = new WebSocketMessageWriter(this, request.MessageType, request.Compress);
        try
        {
            await AcquireLeaseAsync(writer, cancellationToken).ConfigureAwait(false);
            int piece = LargePieceSize;
            do
            {
                int length = Math.Min(piece, payload.Length);
                await writer.WriteAsync(payload[..length], endOfMessage: length == payload.Length, cancellationToken).ConfigureAwait(false);
                payload = payload[length..];
            }
            while (!payload.IsEmpty);
        }
        finally
        {
            writer.Abandon();
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private async ValueTask SendFragmentInPiecesAsync(SendRequest request, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> payload = request.Data;
        bool end = request.EndOfMessage;
        do
        {
            int length = Math.Min(LargePieceSize, payload.Length);
            SendRequest piece = request;
            piece.Data = payload[..length];
            piece.EndOfMessage = end && length == payload.Length;
            await SendAsync(piece, cancellationToken).ConfigureAwait(false);
            payload = payload[length..];
        }
        while (!payload.IsEmpty);
    }

    private int LargePieceSize => Math.Max(1024, _options.MaxBufferedAmount / 4);

    private async ValueTask SendStreamingAsync(SendRequest request, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _leaseOwner) != s_streamingOwner)
        {
            await AcquireLeaseAsync(s_streamingOwner, cancellationToken).ConfigureAwait(false);
        }

        request.Owner = s_streamingOwner;
        try
        {
            await SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (request.EndOfMessage)
            {
                ReleaseLease(s_streamingOwner);
            }

            throw;
        }
    }

    /// <summary>Encodes one message into the queue (caller holds the send lock and has checked the lease). Owed control frames go first.</summary>
    private bool EncodeLocked(in SendRequest request)
    {
        _protocol.WritePendingOutput(_queue);
        if (_protocol.IsCloseSent)
        {
            // The owed control frames just written ended with the echo of the peer's close (it arrived on
            // the receive side since the caller's check): nothing may follow it (RFC 6455 §5.5.1).
            return false;
        }

        long wireStart = _queue.Appended;
        switch (request.Kind)
        {
            case SendKind.String:
                _protocol.WriteText(_queue, request.Text.AsSpan(), request.EndOfMessage, request.Compress);
                break;
            case SendKind.Chars:
                _protocol.WriteText(_queue, request.Chars.Span, request.EndOfMessage, request.Compress);
                break;
            case SendKind.Bytes:
                _protocol.WriteMessage(_queue, request.MessageType, request.Data.Span, request.EndOfMessage, request.Compress);
                break;
            default:
                WebSocketPreparedMessage message = request.Prepared!;
                if (_protocol.TryGetSharedFrame(message, out ReadOnlyMemory<byte> frame))
                {
                    if (!message.TryRetain())
                    {
                        throw new ObjectDisposedException(nameof(WebSocketPreparedMessage), "The prepared message was already released.");
                    }

                    _queue.AppendShared(message, frame);
                }
                else
                {
                    _protocol.WriteMessage(_queue, message.Type, message.Payload.Span, true, message.Compress);
                }

                break;
        }

        OnEncodedDiagnostics(request, _queue.Appended - wireStart);
        return true;
    }

    /// <summary>Accounts the bytes just encoded and decides whether the caller starts a write (caller holds the send lock).</summary>
    private bool CommitLocked(long appendedBefore, bool uncork = false)
    {
        Volatile.Write(ref _buffered, _buffered + (_queue.Appended - appendedBefore));
        if (_writing || (_corked && !uncork) || _queue.IsEmpty)
        {
            return false;
        }

        _writing = true;
        return true;
    }

    private bool CanSendLocked()
        => !_sendFailed && Volatile.Read(ref _state) <= (int)WebSocketConnectionState.Closing && !_protocol.IsCloseSent;

    private void ThrowClosed()
    {
        if (_protocol.IsCloseSent && Volatile.Read(ref _state) <= (int)WebSocketConnectionState.Closing)
        {
            throw new WebSocketClosedException("A close frame was already sent; no more messages may be sent (RFC 6455 §5.5.1).", CloseStatus);
        }

        throw new WebSocketClosedException("The connection is closed.", CloseStatus);
    }

    private static void CheckDataType(WebSocketMessageKind messageType)
    {
        if (messageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType), messageType, "A data message is text or binary.");
        }
    }

    // =====================================================================================
    // Lease and deferred messages
    // =====================================================================================

    private ValueTask AcquireLeaseAsync(object owner, CancellationToken cancellationToken)
    {
        TaskCompletionSource granted;
        lock (_sendLock)
        {
            if (!CanSendLocked())
            {
                ThrowClosed();
            }

            if (_leaseOwner is null)
            {
                _leaseOwner = owner;
                return default;
            }

            granted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_leaseWaiters ??= new()).Enqueue((owner, granted));
        }

        return new ValueTask(granted.Task.WaitAsync(cancellationToken));
    }

    internal void ReleaseLease(object owner)
    {
        bool start;
        lock (_sendLock)
        {
            if (_leaseOwner != owner)
            {
                return;
            }

            long before = _queue.Appended;
            ReleaseLeaseLocked();
            start = CommitLocked(before);
        }

        if (start)
        {
            Flush();
        }
    }

    /// <summary>Ends the lease: queues the messages that waited behind it, then hands the lease to the next writer (caller holds the send lock and commits).</summary>
    private void ReleaseLeaseLocked()
    {
        _leaseOwner = null;
        if (_deferred is { Count: > 0 } deferred)
        {
            long parked = 0;
            foreach (DeferredMessage message in deferred)
            {
                parked += message.Size;
                if (CanSendLocked())
                {
                    EncodeLocked(message.ToRequest());
                }

                message.Release();
            }

            deferred.Clear();
            _deferredBytes = 0;
            Volatile.Write(ref _buffered, _buffered - parked);
        }

        while (_leaseWaiters is { Count: > 0 } waiters)
        {
            (object owner, TaskCompletionSource granted) = waiters.Dequeue();
            if (granted.Task.IsCompleted)
            {
                continue;   // its wait was cancelled
            }

            _leaseOwner = owner;
            if (granted.TrySetResult())
            {
                break;
            }

            _leaseOwner = null;
        }
    }

    /// <summary>Parks a complete message while another caller's fragmented message holds the lease; counted in <see cref="BufferedAmount"/>.</summary>
    private void DeferLocked(in SendRequest request, long size)
    {
        (_deferred ??= []).Add(DeferredMessage.Create(request, size));
        _deferredBytes += size;
        Volatile.Write(ref _buffered, _buffered + size);
    }

    private void DiscardDeferredLocked()
    {
        if (_deferred is { Count: > 0 } deferred)
        {
            long parked = 0;
            foreach (DeferredMessage message in deferred)
            {
                parked += message.Size;
                message.Release();
            }

            deferred.Clear();
            _deferredBytes = 0;
            Volatile.Write(ref _buffered, _buffered - parked);
        }
    }

    // =====================================================================================
    // The writer
    // =====================================================================================

    /// <summary>Writes everything queued; the caller set <c>_writing</c>. Runs synchronously while writes complete at once.</summary>
    private void Flush()
    {
        while (true)
        {
            int total;
            lock (_sendLock)
            {
                if (_sendFailed)
                {
                    _writing = false;
                    return;
                }

                total = _queue.TakeBatch(_segments ??= []);
                if (total == 0)
                {
                    _writing = false;
                    _queue.TrimTail();
                    SignalWaitersLocked();
                    return;
                }
            }

            ValueTask write;
            try
            {
                write = _segments.Count == 1
                    ? _transport.WriteAsync(_segments[0].AsMemory())
                    : _transport.WriteAsync(_segments, total);
            }
            catch (Exception ex)
            {
                OnWriteFailed(ex);
                return;
            }

            if (!write.IsCompleted)
            {
                _pendingWrite = write;
                _pendingWriteBytes = total;
                Volatile.Write(ref _writeStarted, Math.Max(1, Environment.TickCount64));
                write.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_writeContinuation ??= OnWriteCompleted);
                return;
            }

            try
            {
                write.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                OnWriteFailed(ex);
                return;
            }

            FinishBatch(total);
        }
    }

    private void OnWriteCompleted()
    {
        ValueTask write = _pendingWrite;
        _pendingWrite = default;
        Volatile.Write(ref _writeStarted, 0);
        try
        {
            write.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            OnWriteFailed(ex);
            return;
        }

        FinishBatch(_pendingWriteBytes);
        Flush();
    }

    private void FinishBatch(int total)
    {
        lock (_sendLock)
        {
            _queue.CompleteBatch();
            Volatile.Write(ref _buffered, _buffered - total);
            _lastSent = Environment.TickCount64;
            SignalWaitersLocked();
        }
    }

    private void OnWriteFailed(Exception ex)
    {
        lock (_sendLock)
        {
            _sendFailed = true;
            _writing = false;
            _queue.Clear();
            DiscardDeferredLocked();
            Volatile.Write(ref _buffered, 0);
        }

        Abort(ex is OperationCanceledException ? null : ex);
        lock (_sendLock)
        {
            SignalWaitersLocked();
        }
    }

    /// <summary>Wakes a sender waiting for queue space, and a close waiting for the queue to drain (caller holds the send lock).</summary>
    private void SignalWaitersLocked()
    {
        bool failed = _sendFailed || Volatile.Read(ref _transportClosed) != 0;
        if (_spaceWaiter is { } space && (failed || _buffered - _deferredBytes <= _options.SendHighWaterMark))
        {
            _spaceWaiter = null;
            space.TrySetResult();
        }

        if (_drainWaiter is { } drain && (failed || (_buffered == 0 && !_writing)))
        {
            _drainWaiter = null;
            drain.TrySetResult();
        }
    }

    /// <summary>The bytes that stand before a new frame of <paramref name="owner"/>: the lease holder does not wait for the messages parked behind it.</summary>
    private long QueuedBytesFor(object? owner)
        => owner is not null && owner == _leaseOwner ? Volatile.Read(ref _buffered) - _deferredBytes : Volatile.Read(ref _buffered);

    private async ValueTask WaitForSpaceAsync(long size, object? owner, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            bool start = false;
            lock (_sendLock)
            {
                if (!CanSendLocked())
                {
                    ThrowClosed();
                }

                long buffered = QueuedBytesFor(owner);
                if (buffered <= _options.SendHighWaterMark && buffered + size <= _options.MaxBufferedAmount)
                {
                    return;
                }

                // Waiting for room must never wait on our own cork.
                if (!_writing && !_queue.IsEmpty)
                {
                    _writing = true;
                    start = true;
                }

                _spaceWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _spaceWaiter.Task;
            }

            if (start)
            {
                Flush();
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until everything queued (our close frame included) is written or the transport is gone. Bounded by the close and send timeouts.</summary>
    private async ValueTask WaitForDrainAsync(CancellationToken cancellationToken = default)
    {
        Task wait;
        bool start = false;
        lock (_sendLock)
        {
            if (_sendFailed || Volatile.Read(ref _transportClosed) != 0 || (_buffered == 0 && !_writing && _queue.IsEmpty))
            {
                return;
            }

            if (!_writing && !_queue.IsEmpty)
            {
                _writing = true;
                start = true;
            }

            _drainWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _drainWaiter.Task;
        }

        if (start)
        {
            Flush();
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Holds back writes while the reader processes a batch of received frames (corking).</summary>
    private void Cork()
    {
        lock (_sendLock)
        {
            _corked = true;
        }
    }

    /// <summary>Ends a batch: everything produced while corked leaves in one write.</summary>
    private void Uncork()
    {
        bool start = false;
        lock (_sendLock)
        {
            _corked = false;
            if (!_writing && !_queue.IsEmpty && !_sendFailed)
            {
                _writing = true;
                start = true;
            }
        }

        if (start)
        {
            Flush();
        }
    }

    /// <summary>Queues the control frames the core owes (pongs, the close echo, a failure close).</summary>
    private void QueueOwedOutput()
    {
        bool start;
        lock (_sendLock)
        {
            if (_sendFailed || Volatile.Read(ref _transportClosed) != 0)
            {
                return;
            }

            long before = _queue.Appended;
            _protocol.WritePendingOutput(_queue);
            start = CommitLocked(before);
        }

        if (start)
        {
            Flush();
        }
    }

    /// <summary>Releases everything the send side holds once the transport is gone.</summary>
    private void ReleaseSendSide()
    {
        lock (_sendLock)
        {
            _sendFailed = true;
            if (!_writing)
            {
                _queue.Clear();
                _queue.TrimTail();
            }

            DiscardDeferredLocked();
            while (_leaseWaiters is { Count: > 0 } waiters)
            {
                waiters.Dequeue().Granted.TrySetException(new WebSocketClosedException("The connection is closed.", CloseStatus));
            }

            SignalWaitersLocked();
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 6, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "WebSocket {ConnectionId}: send queue full ({Buffered} bytes), closing with {Code}")]
    private static partial void LogBackpressureClose(Microsoft.Extensions.Logging.ILogger logger, string connectionId, int code, long buffered);
}
