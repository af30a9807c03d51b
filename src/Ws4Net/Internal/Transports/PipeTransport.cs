using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// An <see cref="IDuplexPipe"/> read natively: the connection processes the pipe's own segments (no
/// copy into a separate buffer) and advances the reader once a whole read result is consumed. Writes
/// copy into the pipe writer's memory and flush once per batch.
/// </summary>
/// <remarks>
/// The protocol core unmasks payloads in place, so the segments handed out are the pipe's memory seen
/// as writable (<see cref="MemoryMarshal.AsMemory{T}(ReadOnlyMemory{T})"/>); pipe memory is pooled,
/// writable memory that nobody else reads once handed to the reader.
/// </remarks>
internal sealed class PipeTransport : WebSocketTransport
{
    private readonly IDuplexPipe _pipe;
    private ReadOnlySequence<byte> _current;
    private SequencePosition _next;
    private bool _holding;
    private bool _completed;
    private int _closed;

    public PipeTransport(IDuplexPipe pipe) => _pipe = pipe;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<Memory<byte>> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_holding)
            {
                if (_current.TryGet(ref _next, out ReadOnlyMemory<byte> segment))
                {
                    if (segment.IsEmpty)
                    {
                        continue;
                    }

                    return MemoryMarshal.AsMemory(segment);
                }

                // Every segment of this read result was processed.
                ReleaseReadBuffer();
            }

            if (_completed)
            {
                return Memory<byte>.Empty;
            }

            ReadResult result = await _pipe.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                if (Volatile.Read(ref _closed) != 0)
                {
                    _pipe.Input.AdvanceTo(result.Buffer.Start);
                    _completed = true;
                    return Memory<byte>.Empty;
                }

                throw new OperationCanceledException("The pipe read was cancelled.");
            }

            _current = result.Buffer;
            _next = _current.Start;
            _holding = true;
            _completed = result.IsCompleted;
        }
    }

    public override void ReleaseReadBuffer()
    {
        if (_holding)
        {
            _holding = false;
            _pipe.Input.AdvanceTo(_current.End);
            _current = default;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer)
    {
        ValueTask<FlushResult> flush = _pipe.Output.WriteAsync(buffer);
        return flush.IsCompletedSuccessfully ? CheckFlush(flush.Result) : AwaitFlushAsync(flush);
    }

    public override ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int totalBytes)
    {
        PipeWriter output = _pipe.Output;
        for (int i = 0; i < buffers.Count; i++)
        {
            output.Write(buffers[i].AsSpan());
        }

        ValueTask<FlushResult> flush = output.FlushAsync();
        return flush.IsCompletedSuccessfully ? CheckFlush(flush.Result) : AwaitFlushAsync(flush);
    }

    private static ValueTask CheckFlush(FlushResult result)
        => result.IsCompleted || result.IsCanceled ? ValueTask.FromException(new IOException("The pipe's reader is gone.")) : default;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        FlushResult result = await flush.ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new IOException("The pipe's reader is gone.");
        }
    }

    public override void CompleteReader()
    {
        ReleaseReadBuffer();
        _pipe.Input.Complete();
    }

    public override void Close(bool abort)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        // Completing the output tells the peer's reader the stream ended; cancelling a pending read
        // wakes our own reader so it can observe the end.
        _pipe.Output.Complete(abort ? new IOException("The connection was aborted.") : null);
        _pipe.Input.CancelPendingRead();
    }
}
