using Microsoft.Extensions.Logging;
using Ws4Net.Protocol;

namespace Ws4Net;

public sealed partial class WebSocketConnection
{
    /// <summary>
    /// Runs <paramref name="handler"/> on this connection until it closes: one <c>OnOpenAsync</c>, the
    /// message and control callbacks in order, one <c>OnCloseAsync</c>. A callback exception is logged,
    /// given to <c>OnErrorAsync</c> and closes the connection with 1011; later incoming messages are
    /// discarded until the peer answers the close (bounded by <see cref="WebSocketConnectionOptions.CloseTimeout"/>).
    /// </summary>
    /// <param name="handler">A fresh handler instance (one per connection).</param>
    /// <param name="cancellationToken">Stops the handler: the connection is closed with 1001 (going away).</param>
    /// <returns>The close status, once the connection is closed and <c>OnCloseAsync</c> has returned.</returns>
    /// <exception cref="InvalidOperationException">The handler already serves a connection, or another receive is running.</exception>
    public async Task<WebSocketCloseStatus> RunAsync(WebSocketHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.Attach(this);
        EnterReader();
        try
        {
            using CancellationTokenRegistration stop = cancellationToken.Register(
                static s => ((WebSocketConnection)s!).SendCloseInBackground(WebSocketCloseCode.GoingAway, "going away"), this);

            bool failed = !await InvokeAsync(handler, static (h, _) => h.InvokeOpenAsync(), default).ConfigureAwait(false);
            while (true)
            {
                WebSocketEvent e = await ReceiveEventCoreAsync(CancellationToken.None).ConfigureAwait(false);
                if (e.Type is WebSocketEventType.None or WebSocketEventType.Close or WebSocketEventType.Failed)
                {
                    break;
                }

                if (failed)
                {
                    continue;
                }

                failed = !await InvokeAsync(handler, static (h, e) => e.Type switch
                {
                    WebSocketEventType.Ping => h.InvokePingAsync(e.Payload),
                    WebSocketEventType.Pong => h.InvokePongAsync(e.Payload),
                    _ => h.InvokeMessageAsync(new WebSocketMessage(e.MessageType, e.Payload, e.EndOfMessage)),
                }, e).ConfigureAwait(false);
            }
        }
        finally
        {
            ExitReader();
        }

        WebSocketCloseStatus status = await Completion.ConfigureAwait(false);
        try
        {
            await handler.InvokeCloseAsync(status).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogHandlerError(_logger, Id, handler.GetType().Name, ex);
        }

        return status;
    }

    /// <summary>Runs one callback; on an exception logs it, calls OnErrorAsync and starts a 1011 close. Returns false then.</summary>
    private async ValueTask<bool> InvokeAsync(WebSocketHandler handler, Func<WebSocketHandler, WebSocketEvent, ValueTask> callback, WebSocketEvent e)
    {
        try
        {
            await callback(handler, e).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            LogHandlerError(_logger, Id, handler.GetType().Name, ex);
            try
            {
                await handler.InvokeErrorAsync(ex).ConfigureAwait(false);
            }
            catch (Exception inner)
            {
                LogHandlerError(_logger, Id, handler.GetType().Name, inner);
            }

            SendCloseInBackground(WebSocketCloseCode.InternalError, "internal error");
            return false;
        }
    }

    /// <summary>
    /// Queues a close frame and writes it without waiting for the peer; the receive loop sees the
    /// reply, and the close timer bounds the wait. Does nothing when a close was already sent.
    /// Used for shutdown (1001) and handler errors (1011).
    /// </summary>
    internal void SendCloseInBackground(WebSocketCloseCode code, string reason)
    {
        if (TryQueueClose(code, reason))
        {
            _ = FlushInBackgroundAsync();
        }
    }

    private async Task FlushInBackgroundAsync()
    {
        try
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketClosedException)
        {
            // The transport is gone; the receive side notices.
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "WebSocket {ConnectionId}: handler {Handler} threw; closing with 1011")]
    private static partial void LogHandlerError(ILogger logger, string connectionId, string handler, Exception exception);
}
