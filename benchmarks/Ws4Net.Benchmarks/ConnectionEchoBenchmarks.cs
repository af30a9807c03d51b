using System.IO.Pipelines;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.Benchmarks;

/// <summary>
/// A whole connection, driver included: the client sends a binary message, the server receives it and
/// sends it back, the client receives the echo; <see cref="Messages"/> round trips per operation, over
/// in-memory pipes for both stacks (Ws4Net: InMemoryWebSocket.CreatePair; System.Net.WebSockets:
/// WebSocket.CreateFromStream over the same pipes). The allocation column shows what a message costs.
/// </summary>
[MemoryDiagnoser]
public class ConnectionEchoBenchmarks
{
    public const int Messages = 1000;

    private byte[] _payload = [];
    private byte[] _serverBuffer = [];
    private byte[] _clientBuffer = [];
    private WebSocketConnection _ws4netClient = null!;
    private WebSocketConnection _ws4netServer = null!;
    private WebSocket _bclClient = null!;
    private WebSocket _bclServer = null!;

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = Payloads.JsonLike(Size);
        _serverBuffer = new byte[Size + 1024];
        _clientBuffer = new byte[Size + 1024];
        (_ws4netClient, _ws4netServer) = InMemoryWebSocket.CreatePair();

        var toServer = new Pipe();
        var toClient = new Pipe();
        _bclClient = WebSocket.CreateFromStream(new DuplexStream(toClient.Reader.AsStream(), toServer.Writer.AsStream()), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        _bclServer = WebSocket.CreateFromStream(new DuplexStream(toServer.Reader.AsStream(), toClient.Writer.AsStream()), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ws4netClient.Abort();
        _ws4netServer.Abort();
        _bclClient.Abort();
        _bclServer.Abort();
    }

    [Benchmark(Baseline = true, Description = "System.Net.WebSockets echo")]
    public async Task SystemNetWebSockets()
    {
        for (int i = 0; i < Messages; i++)
        {
            await _bclClient.SendAsync(_payload, BclMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
            ValueWebSocketReceiveResult atServer = await _bclServer.ReceiveAsync(_serverBuffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
            await _bclServer.SendAsync(_serverBuffer.AsMemory(0, atServer.Count), BclMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
            await _bclClient.ReceiveAsync(_clientBuffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
        }
    }

    [Benchmark(Description = "Ws4Net echo")]
    public async Task Ws4Net()
    {
        for (int i = 0; i < Messages; i++)
        {
            await _ws4netClient.SendBinaryAsync(_payload).ConfigureAwait(false);
            WebSocketMessage atServer = (await _ws4netServer.ReceiveAsync().ConfigureAwait(false))!.Value;
            await _ws4netServer.SendBinaryAsync(atServer.Payload).ConfigureAwait(false);
            await _ws4netClient.ReceiveAsync().ConfigureAwait(false);
        }
    }

    private sealed class DuplexStream(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => output.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
