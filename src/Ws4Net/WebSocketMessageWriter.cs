using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// Writes one fragmented message (RFC 6455 §5.4) while holding the connection's message lease, obtained
/// from <see cref="WebSocketConnection.BeginMessageAsync"/>. Complete messages that other callers send
/// meanwhile are queued after this message's final fragment; control frames may go out between its
/// fragments. End the message with a write whose <c>endOfMessage</c> is true, or dispose the writer
/// (which sends an empty final fragment if the message was started).
/// </summary>
/// <remarks>Thread-safety: one caller at a time (the fragments of a message have one order).</remarks>
public sealed class WebSocketMessageWriter : IAsyncDisposable
{
    private readonly WebSocketConnection _connection;
    private bool _started;
    private bool _completed;

    internal WebSocketMessageWriter(WebSocketConnection connection, WebSocketMessageKind messageType, bool? compress)
    {
        _connection = connection;
        MessageType = messageType;
        Compress = compress;
    }

    /// <summary>Gets the message type (text or binary).</summary>
    public WebSocketMessageKind MessageType { get; }

    /// <summary>Gets the compression choice of the message (RFC 7692 §6), or <see langword="null"/> for the threshold.</summary>
    public bool? Compress { get; }

    /// <summary>Gets whether the final fragment was written.</summary>
    public bool IsCompleted => _completed;

    /// <summary>Writes the next fragment.</summary>
    /// <param name="data">The fragment's payload (for text: UTF-8; a character may be split between fragments). Copied before the task completes.</param>
    /// <param name="endOfMessage"><see langword="true"/> for the final fragment (FIN); the lease is released.</param>
    /// <param name="cancellationToken">Cancels the wait for queue space.</param>
    /// <returns>Completes once the fragment is queued.</returns>
    /// <exception cref="InvalidOperationException">The message was already completed.</exception>
    /// <exception cref="WebSocketClosedException">The connection is closing or closed.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool endOfMessage = false, CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The message was already completed.");
        }

        await _connection.WriteFragmentAsync(this, data, endOfMessage, cancellationToken).ConfigureAwait(false);
        _started = true;
        _completed = endOfMessage;
    }

    /// <summary>Writes an empty final fragment, ending the message.</summary>
    /// <param name="cancellationToken">Cancels the wait for queue space.</param>
    /// <returns>Completes once queued.</returns>
    /// <exception cref="WebSocketClosedException">The connection is closing or closed.</exception>
    public ValueTask CompleteAsync(CancellationToken cancellationToken = default)
        => _completed ? default : WriteAsync(ReadOnlyMemory<byte>.Empty, endOfMessage: true, cancellationToken);

    /// <summary>Ends the message if it was started (an empty final fragment) and releases the lease. Never throws for a closed connection.</summary>
    /// <returns>Completes once done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_started && !_completed)
        {
            try
            {
                await CompleteAsync().ConfigureAwait(false);
            }
            catch (WebSocketClosedException)
            {
                // Nothing more can be sent.
            }
        }

        Abandon();
    }

    /// <summary>Releases the lease without sending anything more (used when the connection failed).</summary>
    internal void Abandon()
    {
        _completed = true;
        _connection.ReleaseLease(this);
    }
}
