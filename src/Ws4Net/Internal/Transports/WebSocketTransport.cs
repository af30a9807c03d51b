using System.Net;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// A duplex byte transport under one connection: the bytes provider. Reads hand out WRITABLE memory
/// (the protocol core unmasks in place); writes take one buffer or an ordered list of buffers (gather).
/// One reader and one writer may run at the same time; neither side is re-entrant.
/// </summary>
internal abstract class WebSocketTransport
{
    /// <summary>
    /// Waits for received bytes and returns them as writable memory, valid until the next call to
    /// <see cref="ReadAsync"/> or <see cref="ReleaseReadBuffer"/>; empty at the end of the stream.
    /// </summary>
    public abstract ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Returns any receive buffer to its pool (the last memory handed out becomes invalid).</summary>
    public abstract void ReleaseReadBuffer();

    /// <summary>Called by the reader once it will read no more: releases the read side (a pipe's reader is completed).</summary>
    public virtual void CompleteReader() => ReleaseReadBuffer();

    /// <summary>Writes one buffer completely. May complete synchronously.</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> buffer);

    /// <summary>Writes buffers in order, completely, ideally in one system call. May complete synchronously.</summary>
    public abstract ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int totalBytes);

    /// <summary>Gets the peer's address when the transport has one.</summary>
    public virtual EndPoint? RemoteEndPoint => null;

    /// <summary>Closes the transport: gracefully (flushes and shuts the send side down) unless <paramref name="abort"/> (reset). Idempotent.</summary>
    public abstract void Close(bool abort);
}
