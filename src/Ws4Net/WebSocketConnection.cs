using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ws4Net.Internal;
using Ws4Net.Internal.Transports;
using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// One open WebSocket connection over a duplex byte transport: the I/O driver of the sans-I/O
/// <see cref="WebSocketProtocol"/>. It owns one read side (a handler loop from <see cref="RunAsync"/>, or
/// the caller of <see cref="ReceiveAsync"/>) and one writer. Sends from any thread are encoded atomically
/// into a bounded send queue; whoever finds the writer idle writes everything queued in one (gather)
/// write. Replies produced while a handler processes a batch of received frames leave in one write at
/// the end of the batch (corking). No thread per connection; every timeout runs on one shared tick.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every send member may be called concurrently from any thread; frames never
/// interleave, and a complete message is never turned into another caller's continuation (a fragmented
/// send holds a lease, see <see cref="BeginMessageAsync"/>). Receiving (<see cref="ReceiveAsync"/>,
/// <see cref="ReadMessagesAsync"/>, <see cref="RunAsync"/>) allows one caller at a time.</para>
/// <para>Memory: the send queue is bounded (<see cref="WebSocketConnectionOptions.SendHighWaterMark"/>,
/// <see cref="WebSocketConnectionOptions.MaxBufferedAmount"/>); an idle connection holds no receive or
/// send buffer.</para>
/// <para>Lifecycle: <see cref="Completion"/> completes exactly once, with the close status, when the
/// transport is closed (RFC 6455 §7.1.4).</para>
/// </remarks>
public sealed partial class WebSocketConnection : IAsyncDisposable
{
    private static long s_nextId;
    private static string s_nodeId = RandomNumberGenerator.GetHexString(8, lowercase: true);

    private readonly WebSocketTransport _transport;
    private readonly WebSocketProtocol _protocol;
    private readonly WebSocketConnectionOptions _options;
    private readonly ILogger _logger;

    // lifecycle
    private readonly TaskCompletionSource<WebSocketCloseInfo> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StrongBox<WebSocketCloseInfo>? _closeStatus;
    private int _state;
    private int _transportClosed;
    private long _closeDeadline;
    private bool _closeInitiatedByUs;
    private int _heartbeatSlot = -1;

    /// <summary>
    /// Creates a connection over a stream on which the opening handshake has already completed (a TLS
    /// stream, a <see cref="NetworkStream"/>, the stream of an upgraded HTTP/1.1 request or of an RFC 8441
    /// HTTP/2 stream, any custom duplex stream).
    /// </summary>
    /// <param name="stream">The duplex transport; the connection owns it and disposes it when closed.</param>
    /// <param name="creation">The role, the negotiated subprotocol and extension, early bytes, options and logger.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="creation"/> is null.</exception>
    /// <exception cref="ArgumentException">The permessage-deflate agreement asks this endpoint to compress with an 8-bit window.</exception>
    public WebSocketConnection(Stream stream, WebSocketConnectionCreationOptions creation)
        : this(CreateStreamTransport(stream, creation), creation)
    {
    }

    /// <summary>
    /// Creates a connection over a connected socket (TCP or Unix domain) on which the opening handshake
    /// has already completed. The socket is used directly (no <see cref="NetworkStream"/>).
    /// </summary>
    /// <param name="socket">The connected socket; the connection owns it and disposes it when closed.</param>
    /// <param name="creation">The role, the negotiated subprotocol and extension, early bytes, options and logger.</param>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> or <paramref name="creation"/> is null.</exception>
    /// <exception cref="ArgumentException">The permessage-deflate agreement asks this endpoint to compress with an 8-bit window.</exception>
    public WebSocketConnection(Socket socket, WebSocketConnectionCreationOptions creation)
        : this(CreateSocketTransport(socket, creation), creation)
    {
    }

    internal WebSocketConnection(WebSocketTransport transport, WebSocketConnectionCreationOptions creation)
        : this(transport, creation.Role, creation.Options, creation.Request, creation.Subprotocol, creation.Logger, creation.PerMessageDeflate)
    {
    }

    internal WebSocketConnection(
        WebSocketTransport transport,
        WebSocketRole role,
        WebSocketConnectionOptions? options,
        WebSocketUpgradeRequest? request,
        string? subprotocol,
        ILogger? logger,
        Protocol.Compression.PerMessageDeflateParameters? perMessageDeflate)
    {
        _transport = transport;
        _options = options ?? new WebSocketConnectionOptions();
        _protocol = new WebSocketProtocol(role, _options.Protocol, perMessageDeflate);
        _logger = logger ?? NullLogger.Instance;
        Request = request;
        Subprotocol = subprotocol;
        Id = string.Concat(s_nodeId, "-", Interlocked.Increment(ref s_nextId).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        long now = Environment.TickCount64;
        _lastReceived = now;
        _lastSent = now;
        _heartbeatSlot = ConnectionHeartbeat.Register(this);
        OnOpenedDiagnostics();
    }

    /// <summary>
    /// Gets or sets the prefix of every connection <see cref="Id"/> in this process: a node identifier,
    /// unique across the nodes of a deployment (default: 8 random hex digits). Set it at start-up, before
    /// the first connection; later changes apply to connections created afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty or contains a '-'.</exception>
    public static string NodeId
    {
        get => Volatile.Read(ref s_nodeId);
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            if (value.Contains('-', StringComparison.Ordinal))
            {
                throw new ArgumentException("A node id may not contain '-' (it separates the node from the counter).", nameof(value));
            }

            Volatile.Write(ref s_nodeId, value);
        }
    }

    /// <summary>Gets the identifier of this connection: <see cref="NodeId"/>, a dash, and a per-process counter in hex. Unique across nodes whose ids differ.</summary>
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
    public EndPoint? RemoteEndPoint => Request?.RemoteEndPoint ?? _transport.RemoteEndPoint;

    /// <summary>Gets the options in force. Do not change them while the connection runs.</summary>
    public WebSocketConnectionOptions Options => _options;

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

    /// <summary>Gets how the connection ended, once it has (or once the peer's close arrived). Set once; safe to read from any thread.</summary>
    public WebSocketCloseInfo? CloseStatus => Volatile.Read(ref _closeStatus)?.Value;

    /// <summary>Gets a task that completes, exactly once, with the close status when the transport is closed. It never faults.</summary>
    public Task<WebSocketCloseInfo> Completion => _completion.Task;

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
        if (Interlocked.CompareExchange(ref _readerActive, 1, 0) == 0)
        {
            _transport.CompleteReader();
            _protocol.Dispose();
        }
    }

    private static StreamTransport CreateStreamTransport(Stream stream, WebSocketConnectionCreationOptions creation)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(creation);
        WebSocketConnectionOptions options = creation.Options ?? new WebSocketConnectionOptions();
        return new StreamTransport(stream, options.ReceiveBufferSize, options.UseZeroByteReads, creation.BufferedInput.Span);
    }

    private static SocketTransport CreateSocketTransport(Socket socket, WebSocketConnectionCreationOptions creation)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(creation);
        WebSocketConnectionOptions options = creation.Options ?? new WebSocketConnectionOptions();
        return new SocketTransport(socket, options.ReceiveBufferSize, options.UseZeroByteReads, creation.BufferedInput.Span);
    }

    /// <summary>Records how the connection ended; the first status wins.</summary>
    private void SetCloseStatus(WebSocketCloseCode code, string reason, bool initiatedByPeer)
        => Interlocked.CompareExchange(ref _closeStatus, new StrongBox<WebSocketCloseInfo>(new WebSocketCloseInfo(code, reason, initiatedByPeer)), null);

    private void StartCloseTimer()
    {
        long deadline = Environment.TickCount64 + (long)_options.CloseTimeout.TotalMilliseconds;
        Interlocked.CompareExchange(ref _closeDeadline, deadline, 0);
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

        SetCloseStatus(WebSocketCloseCode.AbnormalClosure, error?.Message ?? "Aborted.", error is not null);
        CloseTransport(abort: true);
    }

    private void CloseTransport(bool abort)
    {
        if (Interlocked.Exchange(ref _transportClosed, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _state, (int)(abort ? WebSocketConnectionState.Aborted : WebSocketConnectionState.Closed));
        _transport.Close(abort);
        ConnectionHeartbeat.Unregister(_heartbeatSlot, this);
        SetCloseStatus(WebSocketCloseCode.AbnormalClosure, string.Empty, false);
        WebSocketCloseInfo status = CloseStatus!.Value;
        OnTransportClosed(status);
        OnClosedDiagnostics(status, abort);
        _completion.TrySetResult(status);
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "WebSocket {ConnectionId} failed: peer violated the protocol, closing with {Code}: {Reason}")]
    private static partial void LogProtocolViolation(ILogger logger, string connectionId, int code, string? reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId} transport error: {Error}")]
    private static partial void LogTransportError(ILogger logger, string connectionId, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: a write did not complete within {TimeoutMs} ms, aborting")]
    private static partial void LogSendTimeout(ILogger logger, string connectionId, long timeoutMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: close handshake timed out, aborting")]
    private static partial void LogCloseTimeout(ILogger logger, string connectionId);
}
