using System.Text;
using System.Threading.Channels;
using Ws4Net.Protocol;

namespace Ws4Net.Tests;

/// <summary>A received data message, copied out of the connection's buffers.</summary>
internal sealed record ReceivedMessage(WebSocketMessageKind Type, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public static ReceivedMessage From(WebSocketMessage message) => new(message.Type, message.ToArray());
}

/// <summary>Echoes every message back with the same type (our own test echo, independent of the demo's).</summary>
internal sealed class EchoTestHandler : WebSocketHandler
{
    protected override ValueTask OnMessageAsync(WebSocketMessage message)
        => Connection.SendAsync(message.Payload, message.Type, message.EndOfMessage);
}

/// <summary>The error a test handler throws on purpose.</summary>
internal sealed class TestHandlerException(string message) : Exception(message);

/// <summary>
/// Records every callback in order (as short strings), and exposes awaitable signals: opened, each
/// message, ping and pong payload, errors, and the final close status. Also detects callbacks that
/// overlap, which the handler contract forbids.
/// </summary>
internal class RecordingHandler : WebSocketHandler
{
    private readonly Lock _sync = new();
    private readonly List<string> _events = [];
    private readonly List<Exception> _errors = [];
    private readonly TimeSpan _openDelay;
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<WebSocketCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<ReceivedMessage> _messages = Channel.CreateUnbounded<ReceivedMessage>();
    private readonly Channel<byte[]> _pings = Channel.CreateUnbounded<byte[]>();
    private readonly Channel<byte[]> _pongs = Channel.CreateUnbounded<byte[]>();
    private int _inCallback;
    private int _openCount;
    private int _closeCount;

    public RecordingHandler(TimeSpan openDelay = default) => _openDelay = openDelay;

    public int OpenCount => Volatile.Read(ref _openCount);

    public int CloseCount => Volatile.Read(ref _closeCount);

    /// <summary>Gets whether two callbacks ever ran at the same time.</summary>
    public bool CallbacksOverlapped { get; private set; }

    public Task Opened => _opened.Task;

    public Task<WebSocketCloseInfo> Closed => _closed.Task;

    public ChannelReader<ReceivedMessage> Messages => _messages.Reader;

    public ChannelReader<byte[]> Pings => _pings.Reader;

    public ChannelReader<byte[]> Pongs => _pongs.Reader;

    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_sync)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<Exception> Errors
    {
        get
        {
            lock (_sync)
            {
                return [.. _errors];
            }
        }
    }

    protected override async ValueTask OnOpenAsync()
    {
        Enter("open");
        try
        {
            Interlocked.Increment(ref _openCount);
            if (_openDelay > TimeSpan.Zero)
            {
                await Task.Delay(_openDelay);
            }
        }
        finally
        {
            Exit();
        }

        _opened.TrySetResult();
    }

    protected override ValueTask OnMessageAsync(WebSocketMessage message)
    {
        var copy = ReceivedMessage.From(message);
        Enter(copy.Type == WebSocketMessageKind.Text ? "text:" + copy.Text : "binary:" + copy.Payload.Length);
        Exit();
        _messages.Writer.TryWrite(copy);
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnPingAsync(ReadOnlyMemory<byte> payload)
    {
        Enter("ping:" + Convert.ToHexString(payload.Span));
        Exit();
        _pings.Writer.TryWrite(payload.ToArray());
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnPongAsync(ReadOnlyMemory<byte> payload)
    {
        Enter("pong:" + Convert.ToHexString(payload.Span));
        Exit();
        _pongs.Writer.TryWrite(payload.ToArray());
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnErrorAsync(Exception exception)
    {
        Enter("error:" + exception.GetType().Name);
        lock (_sync)
        {
            _errors.Add(exception);
        }

        Exit();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask OnCloseAsync(WebSocketCloseInfo status)
    {
        Enter($"close:{(int)status.Code}:{status.Reason}:{status.InitiatedByPeer}");
        Interlocked.Increment(ref _closeCount);
        Exit();
        _messages.Writer.TryComplete();
        _pings.Writer.TryComplete();
        _pongs.Writer.TryComplete();
        _closed.TrySetResult(status);
        return ValueTask.CompletedTask;
    }

    private void Enter(string entry)
    {
        if (Interlocked.Increment(ref _inCallback) != 1)
        {
            CallbacksOverlapped = true;
        }

        lock (_sync)
        {
            _events.Add(entry);
        }
    }

    private void Exit() => Interlocked.Decrement(ref _inCallback);
}

/// <summary>Records like <see cref="RecordingHandler"/>, and throws from OnMessageAsync when it receives the text "throw".</summary>
internal sealed class ThrowingHandler : RecordingHandler
{
    protected override async ValueTask OnMessageAsync(WebSocketMessage message)
    {
        bool boom = message.IsText && message.GetText() == "throw";
        await base.OnMessageAsync(message);
        if (boom)
        {
            throw new TestHandlerException("boom from OnMessageAsync");
        }
    }
}

/// <summary>Records like <see cref="RecordingHandler"/>, and starts the close handshake (4001 "server bye") in OnOpenAsync.</summary>
internal sealed class ClosingHandler : RecordingHandler
{
    public const int Code = 4001;
    public const string Reason = "server bye";

    protected override async ValueTask OnOpenAsync()
    {
        await base.OnOpenAsync();
        await CloseAsync((WebSocketCloseCode)Code, Reason);
    }
}
