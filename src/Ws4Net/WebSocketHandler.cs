using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// Base class for a ws4py-style connection handler: override the <c>On…Async</c> callbacks you need
/// and call the send methods from anywhere. One instance serves one connection. Handlers get their
/// dependencies through their constructor (the server builds them with a factory or from an
/// <see cref="IServiceProvider"/>).
/// </summary>
/// <remarks>
/// <para>Callbacks run one at a time, in order, on the connection's receive loop: a slow
/// <see cref="OnMessageAsync"/> slows receiving from this peer only (TCP backpressure), never others.</para>
/// <para>Exactly one <see cref="OnOpenAsync"/> precedes all other callbacks and exactly one
/// <see cref="OnCloseAsync"/> ends them, whatever happens. An exception thrown by a callback is
/// logged, passed to <see cref="OnErrorAsync"/>, and closes the connection with 1011 (internal error):
/// it is never swallowed silently.</para>
/// <para>The send members are thread-safe and may be called from any thread, also after
/// <see cref="OnCloseAsync"/> (they then throw <see cref="WebSocketClosedException"/>).</para>
/// </remarks>
public abstract class WebSocketHandler
{
    private WebSocketConnection? _connection;

    /// <summary>Gets the connection this handler serves.</summary>
    /// <exception cref="InvalidOperationException">The handler has not been attached to a connection yet (in its constructor).</exception>
    public WebSocketConnection Connection => _connection ?? throw new InvalidOperationException("The handler is not attached to a connection yet; use OnOpenAsync.");

    /// <summary>Gets the upgrade request (path, query, headers, cookies, endpoints, subprotocol) on a server; <see langword="null"/> on a client.</summary>
    public WebSocketUpgradeRequest? Request => Connection.Request;

    /// <summary>Called once when the connection is open, before any message.</summary>
    /// <returns>A task that completes when the handler is ready for messages.</returns>
    protected virtual ValueTask OnOpenAsync() => ValueTask.CompletedTask;

    /// <summary>Called for each data message (or fragment, when the connection delivers fragments).</summary>
    /// <param name="message">The message; its payload is valid only until this call completes.</param>
    /// <returns>A task; the next message is not delivered before it completes.</returns>
    protected virtual ValueTask OnMessageAsync(WebSocketMessage message) => ValueTask.CompletedTask;

    /// <summary>Called for each ping received; the pong has already been queued by the core (RFC 6455 §5.5.2).</summary>
    /// <param name="payload">The ping's application data (0-125 bytes), valid during the call.</param>
    /// <returns>A task.</returns>
    protected virtual ValueTask OnPingAsync(ReadOnlyMemory<byte> payload) => ValueTask.CompletedTask;

    /// <summary>Called for each pong received (RFC 6455 §5.5.3).</summary>
    /// <param name="payload">The pong's application data (0-125 bytes), valid during the call.</param>
    /// <returns>A task.</returns>
    protected virtual ValueTask OnPongAsync(ReadOnlyMemory<byte> payload) => ValueTask.CompletedTask;

    /// <summary>Called once when the connection has closed, cleanly or not.</summary>
    /// <param name="status">The close code and reason (1005 for an empty close frame, 1006 when the transport died).</param>
    /// <returns>A task.</returns>
    protected virtual ValueTask OnCloseAsync(WebSocketCloseInfo status) => ValueTask.CompletedTask;

    /// <summary>Called when a callback of this handler threw; the connection is then closed with 1011.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <returns>A task.</returns>
    protected virtual ValueTask OnErrorAsync(Exception exception) => ValueTask.CompletedTask;

    /// <summary>Sends a text message. Thread-safe.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels only the wait for send-queue space.</param>
    /// <returns>Completes when the frame is written or queued.</returns>
    /// <exception cref="WebSocketClosedException">The connection can no longer send.</exception>
    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default) => Connection.SendTextAsync(text, cancellationToken);

    /// <summary>Sends a binary message. Thread-safe.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels only the wait for send-queue space.</param>
    /// <returns>Completes when the frame is written or queued.</returns>
    /// <exception cref="WebSocketClosedException">The connection can no longer send.</exception>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Connection.SendBinaryAsync(data, cancellationToken);

    /// <summary>Sends a ping. Thread-safe.</summary>
    /// <param name="payload">0-125 bytes.</param>
    /// <param name="cancellationToken">Cancels only the wait for send-queue space.</param>
    /// <returns>Completes when the frame is written or queued.</returns>
    /// <exception cref="ArgumentException">The payload is over 125 bytes.</exception>
    /// <exception cref="WebSocketClosedException">The connection can no longer send.</exception>
    public ValueTask SendPingAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default) => Connection.SendPingAsync(payload, cancellationToken);

    /// <summary>Starts the close handshake; <see cref="OnCloseAsync"/> follows when it completes.</summary>
    /// <param name="code">The close code.</param>
    /// <param name="reason">At most 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>Completes when the close frame is sent.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The code may not be sent.</exception>
    public ValueTask CloseAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
        => Connection.CloseAsync(code, reason, cancellationToken);

    internal ValueTask InvokeOpenAsync() => OnOpenAsync();

    internal ValueTask InvokeMessageAsync(WebSocketMessage message) => OnMessageAsync(message);

    internal ValueTask InvokePingAsync(ReadOnlyMemory<byte> payload) => OnPingAsync(payload);

    internal ValueTask InvokePongAsync(ReadOnlyMemory<byte> payload) => OnPongAsync(payload);

    internal ValueTask InvokeCloseAsync(WebSocketCloseInfo status) => OnCloseAsync(status);

    internal ValueTask InvokeErrorAsync(Exception exception) => OnErrorAsync(exception);

    internal void Attach(WebSocketConnection connection)
    {
        WebSocketConnection? previous = Interlocked.CompareExchange(ref _connection, connection, null);
        if (previous is not null && previous != connection)
        {
            throw new InvalidOperationException("A handler instance serves exactly one connection.");
        }
    }
}
