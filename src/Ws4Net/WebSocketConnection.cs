using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ws4Net.Internal;
using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// One open WebSocket connection over a duplex byte transport (a <see cref="Stream"/>): the I/O driver
/// of the sans-I/O <see cref="WebSocketProtocol"/>. It owns one read side (a single receive loop, or
/// the caller of <see cref="ReceiveAsync"/>) and one writer: sends from any thread are safe, are
/// encoded atomically into a send queue and written by whichever sender holds the write lock, several
/// queued frames in one write (batching). Frames never interleave. No thread per connection.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every send member may be called concurrently from any thread. Receiving
/// (<see cref="ReceiveAsync"/>, <see cref="ReadMessagesAsync"/>) allows one caller at a time.</para>
/// <para>Lifecycle: <see cref="Completion"/> completes exactly once, with the close status, when the
/// transport is closed (RFC 6455 §7.1.4).</para>
/// </remarks>
public sealed partial class WebSocketConnection : IAsyncDisposable
{
    private static long s_nextId;

    private readonly Stream _stream;
    private readonly WebSocketProtocol _protocol;
    private readonly WebSocketConnectionOptions _options;
    private readonly ILogger _logger;

    // receive side
    private byte[]? _readBuffer;
    private int _readStart;
    private int _readEnd;
    private int _readerActive;

    // send side
    private readonly Lock _pendingLock = new();
    private PooledBufferWriter _pending = new();
    private PooledBufferWriter _writing = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private CancellationTokenSource? _sendTimer;   // reused for every write; only the write-lock holder touches it

    // lifecycle
    private readonly TaskCompletionSource<WebSocketCloseStatus> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebSocketCloseStatus? _closeStatus;
    private int _state;
    private int _transportClosed;
    private CancellationTokenSource? _closeTimer;
    private bool _closeInitiatedByUs;

    /// <summary>
    /// Creates a connection over a transport on which the opening handshake has already completed.
    /// Used by the server, the client and custom adapters (an in-memory pipe, Kestrel).
    /// </summary>
    /// <param name="stream">The duplex transport; the connection owns it and disposes it when closed.</param>
    /// <param name="role">Client (masks its frames) or server.</param>
    /// <param name="options">Limits, buffers and timeouts; <see langword="null"/> for the defaults.</param>
    /// <param name="request">The upgrade request as the server saw it (server role), or <see langword="null"/>.</param>
    /// <param name="subprotocol">The negotiated subprotocol (RFC 6455 §1.9), or <see langword="null"/>.</param>
    /// <param name="bufferedInput">Bytes already read from the transport after the handshake (frames the peer sent early); copied.</param>
    /// <param name="logger">Where connection events are logged; <see langword="null"/> for none.</param>
    /// <param name="perMessageDeflate">The negotiated permessage-deflate agreement (RFC 7692), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    public WebSocketConnection(
        Stream stream,
        WebSocketRole role,
        WebSocketConnectionOptions? options = null,
        WebSocketUpgradeRequest? request = null,
        string? subprotocol = null,
        ReadOnlyMemory<byte> bufferedInput = default,
        ILogger? logger = null,
        Protocol.Compression.PerMessageDeflateParameters? perMessageDeflate = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _options = options ?? new WebSocketConnectionOptions();
        _protocol = new WebSocketProtocol(role, _options.Protocol, perMessageDeflate);
        _logger = logger ?? NullLogger.Instance;
        Request = request;
        Subprotocol = subprotocol;
        Id = Interlocked.Increment(ref s_nextId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        if (!bufferedInput.IsEmpty)
        {
            _readBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferedInput.Length, _options.ReceiveBufferSize));
            bufferedInput.CopyTo(_readBuffer);
            _readEnd = bufferedInput.Length;
        }
    }

    /// <summary>Gets a short identifier of this connection, unique in the process (for logs).</summary>
    public string Id { get; }

    /// <summary>Gets the role this endpoint plays.</summary>
    public WebSocketRole Role => _protocol.Role;

    /// <summary>Gets the upgrade request the server accepted (server role), or <see langword="null"/> on a client.</summary>
    public WebSocketUpgradeRequest? Request { get; }

    /// <summary>Gets the negotiated subprotocol, or <see langword="null"/> when none was agreed.</summary>
    public string? Subprotocol { get; }

    /// <summary>Gets the permessage-deflate agreement (RFC 7692) when compression was negotiated, else <see langword="null"/>.</summary>
    public Protocol.Compression.PerMessageDeflateParameters? PerMessageDeflate => _protocol.PerMessageDeflate;

    /// <summary>Gets whether the connection holds a zlib state now (dedicated contexts, or a pooled one mid-message).</summary>
    public bool HoldsCompressionState => _protocol.HoldsCompressionState;

    /// <summary>Gets the remote endpoint, when the transport has one.</summary>
    public EndPoint? RemoteEndPoint => Request?.RemoteEndPoint;

    /// <summary>Gets the current lifecycle state. Safe to read from any thread.</summary>
    public WebSocketConnectionState State
    {
        get
        {
            var state = (WebSocketConnectionState)Volatile.Read(ref _state);
            if (state == WebSocketConnectionState.Open && _protocol.State != WebSocketProtocolState.Open)
            {
                return WebSocketConnectionState.Closing;
            }

            return state;
        }
    }

    /// <summary>Gets how the connection ended, once it has (or once the peer's close arrived).</summary>
    public WebSocketCloseStatus? CloseStatus => _closeStatus;

    /// <summary>Gets a task that completes, exactly once, with the close status when the transport is closed. It never faults.</summary>
    public Task<WebSocketCloseStatus> Completion => _completion.Task;

    // =====================================================================================
    // Sending
    // =====================================================================================

    /// <summary>Sends a text message (RFC 6455 §5.6), UTF-8 encoded straight into the send queue.</summary>
    /// <param name="text">The text; lone surrogates become U+FFFD.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space; a queued frame is always sent whole.</param>
    /// <returns>Completes when the frame is written to the transport, or queued behind another writer within <see cref="WebSocketConnectionOptions.MaxPendingSendBytes"/>.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting for queue space.</exception>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendTextAsync(text.AsMemory(), true, cancellationToken);
    }

    /// <summary>Sends a text message, or one fragment of it (RFC 6455 §5.4).</summary>
    /// <param name="text">The text of this fragment.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further calls.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued (see <see cref="SendTextAsync(string, CancellationToken)"/>).</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">A binary message is in progress.</exception>
    public ValueTask SendTextAsync(ReadOnlyMemory<char> text, bool endOfMessage, CancellationToken cancellationToken = default)
    {
        lock (_pendingLock)
        {
            PrepareSend();
            _protocol.WriteText(_pending, text.Span, endOfMessage);
        }

        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends a binary message (RFC 6455 §5.6).</summary>
    /// <param name="data">The payload; copied into the send queue before this method returns its task.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued (see <see cref="SendTextAsync(string, CancellationToken)"/>).</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => SendAsync(data, WebSocketMessageType.Binary, true, cancellationToken);

    /// <summary>Sends a data message or one fragment of it (RFC 6455 §5.4, §5.6).</summary>
    /// <param name="data">The payload of this frame (for text: UTF-8 bytes, not re-validated).</param>
    /// <param name="messageType">Text or binary; a continuation must repeat the type of the message in progress.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further calls.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">The type differs from the message in progress.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken = default)
        => SendAsync(data, messageType, endOfMessage, null, cancellationToken);

    /// <summary>
    /// Sends a data message or one fragment of it, choosing whether it is compressed when
    /// permessage-deflate is in force (RFC 7692 §6: a sender may leave any message uncompressed).
    /// </summary>
    /// <param name="data">The payload of this part.</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="endOfMessage"><see langword="false"/> to continue the message with further calls.</param>
    /// <param name="compress"><see langword="false"/> to send this message uncompressed (secrets, already-compressed data);
    /// <see langword="true"/> to compress it whatever its size; <see langword="null"/> to follow the threshold. Only the first part of a message decides.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued.</returns>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    /// <exception cref="InvalidOperationException">The type differs from the message in progress.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool endOfMessage, bool? compress, CancellationToken cancellationToken = default)
    {
        lock (_pendingLock)
        {
            PrepareSend();
            _protocol.WriteMessage(_pending, messageType, data.Span, endOfMessage, compress);
        }

        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends a ping (RFC 6455 §5.5.2); the peer answers with a pong carrying the same payload.</summary>
    /// <param name="payload">0-125 bytes of application data.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued.</returns>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    public ValueTask PingAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        lock (_pendingLock)
        {
            PrepareSend();
            _protocol.WritePing(_pending, payload.Span);
        }

        return FlushAsync(cancellationToken);
    }

    /// <summary>Sends an unsolicited pong, a one-way heartbeat (RFC 6455 §5.5.3).</summary>
    /// <param name="payload">0-125 bytes of application data.</param>
    /// <param name="cancellationToken">Cancels only the wait for queue space.</param>
    /// <returns>Completes when written or queued.</returns>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="WebSocketClosedException">A close frame was already sent or the connection is aborted.</exception>
    public ValueTask PongAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        lock (_pendingLock)
        {
            PrepareSend();
            _protocol.WritePong(_pending, payload.Span);
        }

        return FlushAsync(cancellationToken);
    }

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
    /// <returns>Completes when the close frame is sent and, when this call drives the receive side, when the connection is closed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The code may not be sent.</exception>
    /// <exception cref="ArgumentException">The reason is over 123 UTF-8 bytes.</exception>
    public async ValueTask CloseAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (!WebSocketCloseCodes.IsValidOnWire((int)code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), (int)code, "This close code may not be sent (RFC 6455 §7.4).");
        }

        if (TryQueueClose(code, reason))
        {
            try
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketClosedException)
            {
                return;
            }
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

    /// <summary>Queues our close frame (once) and starts the close timer; false when a close was already sent or the connection is over.</summary>
    private bool TryQueueClose(WebSocketCloseCode code, string? reason)
    {
        lock (_pendingLock)
        {
            if (Volatile.Read(ref _state) != (int)WebSocketConnectionState.Open || _protocol.IsCloseSent)
            {
                return false;
            }

            _protocol.WriteClose(_pending, code, reason);
            _closeInitiatedByUs = !_protocol.IsReceiveCompleted;
        }

        StartCloseTimer();
        return true;
    }

    /// <summary>
    /// Closes the transport at once, without a close handshake. Pending and later operations fail
    /// with <see cref="WebSocketClosedException"/>; <see cref="Completion"/> completes with 1006.
    /// Safe to call from any thread, any number of times.
    /// </summary>
    public void Abort() => Abort(null);

    /// <summary>
    /// Closes gracefully when still open (close 1000, bounded by <see cref="WebSocketConnectionOptions.CloseTimeout"/>)
    /// and releases the transport and buffers.
    /// </summary>
    /// <returns>Completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (State == WebSocketConnectionState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(_options.CloseTimeout);
                await CloseAsync(WebSocketCloseCode.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketClosedException or IOException)
            {
                // Fall through to the abort below.
            }
        }

        CloseTransport(abort: State != WebSocketConnectionState.Closed);
        _closeTimer?.Dispose();
        if (_readerActive == 0 && _readBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_readBuffer);
            _readBuffer = null;
        }

        if (_readerActive == 0)
        {
            _protocol.Dispose();
        }
    }

    /// <summary>Caller holds _pendingLock. Writes owed control frames first, then checks a data frame may follow.</summary>
    private void PrepareSend()
    {
        if (Volatile.Read(ref _state) > (int)WebSocketConnectionState.Closing)
        {
            throw new WebSocketClosedException("The connection is closed.", _closeStatus);
        }

        _protocol.WritePendingOutput(_pending);
        if (_protocol.IsCloseSent)
        {
            throw new WebSocketClosedException("A close frame was already sent; no more messages may be sent (RFC 6455 §5.5.1).", _closeStatus);
        }
    }

    private ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_writeLock.Wait(0))
        {
            return DrainAsync();
        }

        int queued;
        lock (_pendingLock)
        {
            queued = _pending.WrittenCount;
        }

        return queued <= _options.MaxPendingSendBytes ? default : WaitAndDrainAsync(cancellationToken);
    }

    private async ValueTask WaitAndDrainAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        await DrainAsync().ConfigureAwait(false);
    }

    /// <summary>Writes everything queued; the caller holds _writeLock, which this method releases.</summary>
    private async ValueTask DrainAsync()
    {
        while (true)
        {
            try
            {
                while (true)
                {
                    lock (_pendingLock)
                    {
                        if (_pending.WrittenCount == 0)
                        {
                            break;
                        }

                        (_pending, _writing) = (_writing, _pending);
                    }

                    await WriteWithTimeoutAsync(_writing.WrittenMemory).ConfigureAwait(false);
                    _writing.Reset();
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException or OperationCanceledException)
            {
                _writing.Reset();
                _writeLock.Release();
                Abort(ex);
                throw new WebSocketClosedException("The transport failed while sending.", _closeStatus, ex);
            }

            _writeLock.Release();
            bool more;
            lock (_pendingLock)
            {
                more = _pending.WrittenCount > 0;
            }

            // A sender may have queued bytes after our last check and before our release; it tried the
            // lock and found it taken, so it is our job (or whoever gets the lock now) to write them.
            if (!more || !_writeLock.Wait(0))
            {
                return;
            }
        }
    }

    /// <summary>One transport write, bounded by <see cref="WebSocketConnectionOptions.SendTimeout"/> (caller holds _writeLock).</summary>
    private ValueTask WriteWithTimeoutAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_options.SendTimeout == Timeout.InfiniteTimeSpan)
        {
            return _stream.WriteAsync(bytes);
        }

        // The timer is armed only when the write does not complete at once (the transport's buffers are
        // full), so the common case costs no timer operation.
        _sendTimer ??= new CancellationTokenSource();
        ValueTask write = _stream.WriteAsync(bytes, _sendTimer.Token);
        if (write.IsCompletedSuccessfully)
        {
            return default;
        }

        _sendTimer.CancelAfter(_options.SendTimeout);
        return AwaitWriteAsync(write);
    }

    private async ValueTask AwaitWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_sendTimer!.IsCancellationRequested)
        {
            LogSendTimeout(_logger, Id, (long)_options.SendTimeout.TotalMilliseconds);
            _closeStatus ??= new WebSocketCloseStatus(WebSocketCloseCode.AbnormalClosure, "A write to the peer timed out.", false);
            throw;
        }

        if (!_sendTimer!.TryReset())
        {
            _sendTimer.Dispose();
            _sendTimer = null;
        }
    }

    /// <summary>Waits (bounded by the close timeout) until everything queued, the close frame included, is written.</summary>
    private async ValueTask FlushAllAsync()
    {
        try
        {
            if (await _writeLock.WaitAsync(_options.CloseTimeout).ConfigureAwait(false))
            {
                await DrainAsync().ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
            // The transport is gone already.
        }
    }

    private async ValueTask FlushOwedAsync()
    {
        lock (_pendingLock)
        {
            _protocol.WritePendingOutput(_pending);
        }

        try
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketClosedException)
        {
            // The transport is gone; the read side notices on its next read.
        }
    }

    // =====================================================================================
    // Receiving
    // =====================================================================================

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
            Volatile.Write(ref _readerActive, 0);
        }
    }

    /// <summary>Enumerates received data messages until the connection closes. Each message is valid until the next one is requested.</summary>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The messages, in order.</returns>
    /// <exception cref="InvalidOperationException">Another receive is already in progress.</exception>
    public async IAsyncEnumerable<WebSocketMessage> ReadMessagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
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

    internal void ExitReader() => Volatile.Write(ref _readerActive, 0);

    /// <summary>
    /// Reads the next protocol event and runs the lifecycle steps for close, failure and end of
    /// transport. Returns an event of type None when the transport ended. Caller is the single reader.
    /// </summary>
    internal async ValueTask<WebSocketEvent> ReceiveEventCoreAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _state) >= (int)WebSocketConnectionState.Closed)
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
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            Abort(ex);
            return default;
        }

        switch (e.Type)
        {
            case WebSocketEventType.Close:
                await OnPeerCloseAsync(e).ConfigureAwait(false);
                break;
            case WebSocketEventType.Failed:
                LogProtocolViolation(_logger, Id, (int)e.CloseCode, e.Reason);
                _closeStatus = new WebSocketCloseStatus(e.CloseCode, e.Reason ?? string.Empty, false);
                await FlushAllAsync().ConfigureAwait(false);
                CloseTransport(abort: false);
                break;
            case WebSocketEventType.None:
                if (_protocol.IsCloseSent && _protocol.IsReceiveCompleted)
                {
                    CloseTransport(abort: false);
                }
                else
                {
                    _closeStatus ??= new WebSocketCloseStatus(WebSocketCloseCode.AbnormalClosure, "The transport closed without a close frame.", true);
                    CloseTransport(abort: true);
                }

                break;
        }

        return e;
    }

    private async ValueTask OnPeerCloseAsync(WebSocketEvent e)
    {
        _closeStatus = new WebSocketCloseStatus(e.CloseCode, e.Reason ?? string.Empty, !_closeInitiatedByUs);
        StartCloseTimer();
        await FlushAllAsync().ConfigureAwait(false);
        if (Role == WebSocketRole.Server)
        {
            // RFC 6455 §7.1.1: the server closes the TCP connection first, once the handshake is done.
            CloseTransport(abort: false);
            return;
        }

        // Client: wait for the server to close TCP (bounded by the close timer), discarding bytes.
        try
        {
            byte[] scratch = ArrayPool<byte>.Shared.Rent(256);
            try
            {
                while (await _stream.ReadAsync(scratch).ConfigureAwait(false) > 0)
                {
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }

        CloseTransport(abort: false);
    }

    private async ValueTask<WebSocketEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_readEnd > _readStart)
            {
                bool produced = _protocol.TryReadEvent(_readBuffer.AsMemory(_readStart, _readEnd - _readStart), out int consumed, out WebSocketEvent e);
                _readStart += consumed;
                if (_protocol.HasPendingOutput)
                {
                    await FlushOwedAsync().ConfigureAwait(false);
                }

                if (produced)
                {
                    return e;
                }
            }

            _readStart = 0;
            _readEnd = 0;
            if (_options.UseZeroByteReads)
            {
                _protocol.ReleaseBuffers();
                if (_readBuffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_readBuffer);
                    _readBuffer = null;
                }

                await _stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            }

            _readBuffer ??= ArrayPool<byte>.Shared.Rent(_options.ReceiveBufferSize);
            int read = await _stream.ReadAsync(_readBuffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return default;
            }

            _readEnd = read;
        }
    }

    // =====================================================================================
    // Lifecycle
    // =====================================================================================

    private void StartCloseTimer()
    {
        if (_closeTimer is not null)
        {
            return;
        }

        var timer = new CancellationTokenSource();
        if (Interlocked.CompareExchange(ref _closeTimer, timer, null) is not null)
        {
            timer.Dispose();
            return;
        }

        timer.Token.Register(static state =>
        {
            var self = (WebSocketConnection)state!;
            if (Volatile.Read(ref self._transportClosed) == 0)
            {
                LogCloseTimeout(self._logger, self.Id);
                self._closeStatus ??= new WebSocketCloseStatus(WebSocketCloseCode.AbnormalClosure, "The close handshake timed out.", false);
                self.CloseTransport(abort: true);
            }
        }, this);
        timer.CancelAfter(_options.CloseTimeout);
    }

    private void Abort(Exception? error)
    {
        if (Volatile.Read(ref _transportClosed) != 0)
        {
            return;
        }

        if (error is not null)
        {
            LogTransportError(_logger, Id, error.Message);
        }

        _closeStatus ??= new WebSocketCloseStatus(WebSocketCloseCode.AbnormalClosure, error?.Message ?? "Aborted.", error is not null);
        CloseTransport(abort: true);
    }

    private void CloseTransport(bool abort)
    {
        if (Interlocked.Exchange(ref _transportClosed, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _state, (int)(abort ? WebSocketConnectionState.Aborted : WebSocketConnectionState.Closed));
        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // Already broken: nothing more to release.
        }

        _closeTimer?.Dispose();
        WebSocketCloseStatus status = _closeStatus ?? new WebSocketCloseStatus(WebSocketCloseCode.AbnormalClosure, string.Empty, false);
        _closeStatus = status;
        LogClosed(_logger, Id, (int)status.Code, status.Reason, abort);
        _completion.TrySetResult(status);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} closed: {Code} {Reason} (aborted: {Aborted})")]
    private static partial void LogClosed(ILogger logger, string connectionId, int code, string reason, bool aborted);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "WebSocket {ConnectionId} failed: peer violated the protocol, closing with {Code}: {Reason}")]
    private static partial void LogProtocolViolation(ILogger logger, string connectionId, int code, string? reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} transport error: {Error}")]
    private static partial void LogTransportError(ILogger logger, string connectionId, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: a write did not complete within {TimeoutMs} ms, aborting")]
    private static partial void LogSendTimeout(ILogger logger, string connectionId, long timeoutMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: close handshake timed out, aborting")]
    private static partial void LogCloseTimeout(ILogger logger, string connectionId);
}
