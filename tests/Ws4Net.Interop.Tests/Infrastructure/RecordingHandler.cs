using System.Threading.Channels;
using Ws4Net.Protocol;

namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>A handler that records what arrives, so a test can await messages and pongs in order.</summary>
internal sealed class RecordingHandler : WebSocketHandler
{
    private readonly Channel<(WebSocketMessageKind Type, byte[] Payload, bool EndOfMessage)> _messages = Channel.CreateUnbounded<(WebSocketMessageKind, byte[], bool)>();
    private readonly Channel<byte[]> _pongs = Channel.CreateUnbounded<byte[]>();
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<WebSocketCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closeCalls;
    private int _errors;

    public Task Opened => _opened.Task;

    public Task<WebSocketCloseInfo> Closed => _closed.Task;

    public int CloseCalls => Volatile.Read(ref _closeCalls);

    public int Errors => Volatile.Read(ref _errors);

    public async Task<(WebSocketMessageKind Type, byte[] Payload)> NextMessageAsync(TimeSpan timeout)
    {
        (WebSocketMessageKind type, byte[] payload, bool end) = await _messages.Reader.ReadAsync().AsTask().WaitAsync(timeout).ConfigureAwait(false);
        Assert.True(end, "The connection delivered a fragment although DeliverFragments is off.");
        return (type, payload);
    }

    public async Task<byte[]> NextPongAsync(TimeSpan timeout)
        => await _pongs.Reader.ReadAsync().AsTask().WaitAsync(timeout).ConfigureAwait(false);

    protected override ValueTask OnOpenAsync()
    {
        _opened.TrySetResult();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        _messages.Writer.TryWrite((message.Type, message.ToArray(), message.EndOfMessage));
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnPongAsync(ReadOnlyMemory<byte> payload)
    {
        _pongs.Writer.TryWrite(payload.ToArray());
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnCloseAsync(WebSocketCloseInfo status)
    {
        Interlocked.Increment(ref _closeCalls);
        _closed.TrySetResult(status);
        _messages.Writer.TryComplete();
        _pongs.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnErrorAsync(Exception exception)
    {
        Interlocked.Increment(ref _errors);
        return ValueTask.CompletedTask;
    }
}
