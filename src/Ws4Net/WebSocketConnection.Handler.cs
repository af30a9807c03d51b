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
    public async Task<WebSocketCloseInfo> RunAsync(WebSocketHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.Attach(this);
        EnterReader();
        try
        {
            using CancellationTokenRegistration stop = cancellationToken.Register(
                static s => ((WebSocketConnection)s!).StartClose(WebSocketCloseCode.GoingAway, "going away"), this);

            bool failed = !await InvokeAsync(handler, default, open: true).ConfigureAwait(false);
            await RunLoopAsync(handler, failed).ConfigureAwait(false);
        }
        finally
        {
            Uncork();
            ExitReader();
        }

        WebSocketCloseInfo status = await Completion.ConfigureAwait(false);
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
    /// The receive loop of the handler model, flat: it awaits only transport reads, handler callbacks
    /// that do not complete at once, and the close steps. Every complete frame already received is
    /// processed before the next read; replies produced meanwhile stay corked and leave in one write
    /// when the loop needs more bytes; after <see cref="EventsPerTurn"/> events in a row it yields.
    /// </summary>
    private async ValueTask RunLoopAsync(WebSocketHandler handler, bool failed)
    {
        while (true)
        {
            if (_input.IsEmpty)
            {
                Uncork();
                _protocol.ReleaseBuffers();
                ValueTask<Memory<byte>> read = _transport.ReadAsync(CancellationToken.None);
                if (!read.IsCompleted)
                {
                    _eventsThisTurn = 0;
                    _bytesThisTurn = 0;
                }
                else if (_bytesThisTurn >= BytesPerTurn)
                {
                    // Large messages arrive as many reads that complete at once: bytes count as work too.
                    _bytesThisTurn = 0;
                    _eventsThisTurn = 0;
                    await Task.Yield();
                }

                try
                {
                    _input = await read.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or InvalidOperationException)
                {
                    _receiveEnded = true;
                    Abort(Volatile.Read(ref _transportClosed) != 0 ? null : ex);
                    return;
                }

                if (_input.IsEmpty)
                {
                    await OnEndEventAsync(default).ConfigureAwait(false);
                    return;
                }

                _lastReceived = Environment.TickCount64;
                _bytesThisTurn += _input.Length;
                Cork();
            }

            bool produced = _protocol.TryReadEvent(_input, out int consumed, out WebSocketEvent e);
            _input = _input[consumed..];
            OnReadDiagnostics(consumed, produced, e);
            if (_protocol.HasPendingOutput)
            {
                QueueOwedOutput();
            }

            if (!produced)
            {
                continue;
            }

            if (e.Type is WebSocketEventType.Close or WebSocketEventType.Failed)
            {
                await OnEndEventAsync(e).ConfigureAwait(false);
                return;
            }

            if (e.Type == WebSocketEventType.Pong)
            {
                OnPong(e.Payload.Span);
            }

            if (!failed)
            {
                ValueTask<bool> callback = InvokeAsync(handler, e, open: false);
                failed = !(callback.IsCompletedSuccessfully ? callback.Result : await callback.ConfigureAwait(false));
            }

            if (++_eventsThisTurn >= EventsPerTurn)
            {
                // A peer that keeps the buffer full must not keep this thread: let the other connections run.
                _eventsThisTurn = 0;
                Uncork();
                await Task.Yield();
                Cork();
            }
        }
    }

    /// <summary>
    /// Runs one callback; on an exception logs it, calls OnErrorAsync and starts a 1011 close. Returns false
    /// then. A callback that completes synchronously runs inside the batch (its sends stay corked); one that
    /// awaits releases the cork first, so its earlier sends are not held back while it waits.
    /// </summary>
    private ValueTask<bool> InvokeAsync(WebSocketHandler handler, in WebSocketEvent e, bool open)
    {
        ValueTask pending;
        try
        {
            pending = open ? handler.InvokeOpenAsync() : e.Type switch
            {
                WebSocketEventType.Ping => handler.InvokePingAsync(e.Payload),
                WebSocketEventType.Pong => handler.InvokePongAsync(e.Payload),
                _ => handler.InvokeMessageAsync(new WebSocketMessage(e.MessageType, e.Payload, e.EndOfMessage)),
            };
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

        return AwaitCallbackAsync(handler, pending, corked: !open);
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
        finally
        {
            if (corked)
            {
                Cork();
            }
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
