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
                static s => ((WebSocketConnection)s!).StartClose(WebSocketCloseCode.GoingAway, "going away"), this);

            bool failed = !await InvokeAsync(handler, static (h, _) => h.InvokeOpenAsync(), default, corked: false).ConfigureAwait(false);
            while (true)
            {
                WebSocketEvent e = await ReceiveEventCoreAsync(CancellationToken.None, corked: true).ConfigureAwait(false);
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
                }, e, corked: true).ConfigureAwait(false);
            }
        }
        finally
        {
            Uncork();
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

    /// <summary>
    /// Runs one callback; on an exception logs it, calls OnErrorAsync and starts a 1011 close. Returns false
    /// then. A callback that completes synchronously runs inside the batch (its sends stay corked); one that
    /// awaits first releases the cork so its earlier sends are not held back while it waits.
    /// </summary>
    private ValueTask<bool> InvokeAsync(WebSocketHandler handler, Func<WebSocketHandler, WebSocketEvent, ValueTask> callback, WebSocketEvent e, bool corked)
    {
        ValueTask pending;
        try
        {
            pending = callback(handler, e);
            if (pending.IsCompletedSuccessfully)
            {
                pending.GetAwaiter().GetResult();
                return new ValueTask<bool>(true);
            }
        }
        catch (Exception ex)
        {
            return OnHandlerErrorAsync(handler, ex);
        }

        return AwaitCallbackAsync(handler, pending, corked);
    }

    private async ValueTask<bool> AwaitCallbackAsync(WebSocketHandler handler, ValueTask pending, bool corked)
    {
        if (corked)
        {
            Uncork();
        }

        try
        {
            await pending.ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            return await OnHandlerErrorAsync(handler, ex).ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> OnHandlerErrorAsync(WebSocketHandler handler, Exception ex)
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

        StartClose(WebSocketCloseCode.InternalError, "internal error");
        return false;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "WebSocket {ConnectionId}: handler {Handler} threw; closing with 1011")]
    private static partial void LogHandlerError(ILogger logger, string connectionId, string handler, Exception exception);
}
