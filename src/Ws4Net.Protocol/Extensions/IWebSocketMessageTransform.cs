using Ws4Net.Protocol.Messages;

namespace Ws4Net.Protocol.Extensions;

/// <summary>
/// An extension that transforms the payload of data messages and marks them with RSV1 (RFC 6455 §9,
/// §5.2): on receive it turns the payload of a message whose first frame had RSV1 set back into the
/// application data, on send it turns application data into the payload to frame. permessage-deflate
/// (RFC 7692) is the first implementation (<see cref="Compression.PerMessageDeflateTransform"/>).
/// </summary>
/// <remarks>
/// The receive members are called by the one receive side, the send members by the one send side; the
/// two sides may run on two threads at once, so an implementation keeps their state apart.
/// </remarks>
internal interface IWebSocketMessageTransform : IDisposable
{
    /// <summary>Gets the payload size, in bytes, from which messages are transformed when the sender does not choose.</summary>
    int Threshold { get; }

    /// <summary>Gets whether the transform holds per-connection state right now (for memory accounting).</summary>
    bool HoldsState { get; }

    /// <summary>
    /// Decodes payload bytes of a transformed message into <paramref name="sink"/>, which enforces the size
    /// limits and UTF-8 as the data arrives.
    /// </summary>
    /// <param name="payload">The next payload bytes of the message (already unmasked), possibly empty.</param>
    /// <param name="endOfMessage">Whether these are the last bytes of the message.</param>
    /// <param name="sink">The message assembler receiving the decoded bytes.</param>
    /// <param name="code">The close code of a failure.</param>
    /// <returns>The violated rule, or <see langword="null"/> on success.</returns>
    string? Decode(ReadOnlySpan<byte> payload, bool endOfMessage, WebSocketMessageAssembler sink, out WebSocketCloseCode code);

    /// <summary>Encodes one part of a message to send into <paramref name="output"/>.</summary>
    /// <param name="payload">Application data.</param>
    /// <param name="output">Where the transformed payload goes.</param>
    /// <param name="endOfMessage">Whether this is the last part of the message.</param>
    void Encode(ReadOnlySpan<byte> payload, Buffers.PooledBufferWriter output, bool endOfMessage);

    /// <summary>
    /// Gets the transformed whole-frame encoding of a prepared message that every connection with the same
    /// settings can share, when this connection's send state allows it (no state carried between messages).
    /// </summary>
    /// <param name="message">The prepared message.</param>
    /// <param name="frame">The shared frame (owned by the message).</param>
    /// <returns><see langword="false"/> when this connection must encode the message itself.</returns>
    bool TryGetSharedFrame(WebSocketPreparedMessage message, out ReadOnlyMemory<byte> frame);
}
