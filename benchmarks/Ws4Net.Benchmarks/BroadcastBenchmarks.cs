using System.IO.Pipelines;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Ws4Net.Management;
using Ws4Net.Protocol;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.Benchmarks;

/// <summary>
/// One 1 KiB text message to many server connections. Ws4Net: <see cref="WebSocketConnectionManager.Broadcast(WebSocketPreparedMessage, WebSocketConnection?)"/>
/// (encoded once, a reference handed to each connection with a non-waiting send) and
/// <see cref="WebSocketConnectionManager.Publish(string, WebSocketPreparedMessage, WebSocketConnection?)"/> to a topic of
/// <see cref="TopicSize"/> among <see cref="Connections"/>. Baseline: a loop of <c>SendAsync</c> over
/// System.Net.WebSockets server connections (each encodes and writes its own frame), over a list the
/// caller keeps for the topic case. Both stacks write into transports that accept every byte at once
/// and discard it (a PipeWriter / Stream sink), so the figures are the send path's cost per recipient
/// (encoding, queueing, the write call) without the kernel or a reader; allocations are per operation
/// (one broadcast), so "0 B per recipient" means Allocated is independent of <see cref="Connections"/>.
/// </summary>
[MemoryDiagnoser]
public class BroadcastBenchmarks
{
    private const string Topic = "t";

    private readonly WebSocketConnectionManager _manager = new();
    private readonly List<WebSocketConnection> _ws4net = [];
    private WebSocket[] _bcl = [];
    private WebSocket[] _bclTopic = [];
    private string _text = string.Empty;
    private byte[] _utf8 = [];
    private WebSocketBroadcastResult _last;

    [Params(10_000)]
    public int Connections { get; set; }

    [Params(1_000)]
    public int TopicSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _text = System.Text.Encoding.UTF8.GetString(Payloads.JsonLike(1024));
        _utf8 = System.Text.Encoding.UTF8.GetBytes(_text);
        var options = new WebSocketConnectionOptions { KeepAliveInterval = TimeSpan.Zero, SendTimeout = Timeout.InfiniteTimeSpan };
        _bcl = new WebSocket[Connections];
        var topic = new List<WebSocket>();
        int every = Connections / TopicSize;
        for (int i = 0; i < Connections; i++)
        {
            WebSocketConnection connection = InMemoryWebSocket.FromDuplexPipe(new SinkPipe(), WebSocketRole.Server, options);
            _ws4net.Add(connection);
            _manager.Add(connection);
            _bcl[i] = WebSocket.CreateFromStream(new SinkStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
            if (i % every == 0 && topic.Count < TopicSize)
            {
                _manager.Subscribe(connection, Topic);
                topic.Add(_bcl[i]);
            }
        }

        _bclTopic = [.. topic];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Each case must have done the full work on every operation (no drops, no closed peers): printed into the log.
        Console.WriteLine($"// last outcome per operation: {_last}");
        foreach (WebSocketConnection connection in _ws4net)
        {
            connection.Abort();
        }

        foreach (WebSocket socket in _bcl)
        {
            socket.Abort();
        }
    }

    [Benchmark(Baseline = true, Description = "SendAsync loop, System.Net.WebSockets, all")]
    public async Task SystemNetWebSocketsBroadcast()
    {
        foreach (WebSocket socket in _bcl)
        {
            await socket.SendAsync(_utf8, BclMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [Benchmark(Description = "WebSocketConnectionManager.Broadcast, all")]
    public int Ws4NetBroadcast()
    {
        using WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(_text);
        _last = _manager.Broadcast(message);
        return _last.Sent;
    }

    [Benchmark(Description = "TrySend loop over the connections, Ws4Net, all")]
    public int Ws4NetTrySendLoop()
    {
        using WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(_text);
        int sent = 0, queued = 0, dropped = 0, closed = 0;
        foreach (WebSocketConnection connection in _ws4net)
        {
            switch (connection.TrySend(message))
            {
                case WebSocketSendStatus.Sent: sent++; break;
                case WebSocketSendStatus.Queued: queued++; break;
                case WebSocketSendStatus.Dropped: dropped++; break;
                default: closed++; break;
            }
        }

        _last = new WebSocketBroadcastResult(sent, queued, dropped, closed);
        return sent;
    }

    [Benchmark(Description = "SendAsync loop, System.Net.WebSockets, topic")]
    public async Task SystemNetWebSocketsTopic()
    {
        foreach (WebSocket socket in _bclTopic)
        {
            await socket.SendAsync(_utf8, BclMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [Benchmark(Description = "WebSocketConnectionManager.Publish, topic")]
    public int Ws4NetPublish()
    {
        using WebSocketPreparedMessage message = WebSocketPreparedMessage.CreateText(_text);
        _last = _manager.Publish(Topic, message);
        return _last.Sent;
    }

    /// <summary>A duplex pipe whose input never yields data and whose output discards every write at once.</summary>
    private sealed class SinkPipe : IDuplexPipe
    {
        public PipeReader Input { get; } = new Pipe().Reader;

        public PipeWriter Output { get; } = new SinkWriter();
    }

    private sealed class SinkWriter : PipeWriter
    {
        private readonly byte[] _scratch = new byte[64 * 1024];

        public override void Advance(int bytes)
        {
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => sizeHint <= _scratch.Length ? _scratch : new byte[sizeHint];

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => new(new FlushResult(false, false));

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => new(new FlushResult(false, false));
    }

    /// <summary>A stream that discards writes at once and never completes a read.</summary>
    private sealed class SinkStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => 0, TaskScheduler.Default));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => default;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
