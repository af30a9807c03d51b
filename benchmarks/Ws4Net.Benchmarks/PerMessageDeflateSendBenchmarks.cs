using System.Buffers;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Compression;
using BclMessageType = System.Net.WebSockets.WebSocketMessageType;

namespace Ws4Net.Benchmarks;

/// <summary>
/// Compress + frame throughput, server role (unmasked), context takeover, 15-bit windows, zlib level 6:
/// Ws4Net's core against System.Net.WebSockets' WebSocket.CreateFromStream with WebSocketDeflateOptions,
/// on the same JSON-like payloads. One operation sends <see cref="Messages"/> messages.
/// </summary>
[MemoryDiagnoser]
public class PerMessageDeflateSendBenchmarks
{
    public const int Messages = 100;

    private byte[] _payload = [];
    private WebSocketProtocol _ws4net = null!;
    private ArrayBufferWriter<byte> _output = null!;
    private WebSocket _bcl = null!;

    [Params(128, 1024, 16 * 1024, 128 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = Payloads.JsonLike(Size);
        var options = new WebSocketProtocolOptions { MaxMessageSize = 64 * 1024 * 1024 };
        _ws4net = new WebSocketProtocol(WebSocketRole.Server, options, new PerMessageDeflateParameters(false, false, null, null, compressionLevel: 6, threshold: 0));
        _output = new ArrayBufferWriter<byte>(Size * 2 + 1024);
        _bcl = WebSocket.CreateFromStream(new ReplayStream([]), new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = Timeout.InfiniteTimeSpan,
            DangerousDeflateOptions = new WebSocketDeflateOptions(),
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ws4net.Dispose();
        _bcl.Dispose();
    }

    [Benchmark(Baseline = true, Description = "System.Net.WebSockets send")]
    public async Task SystemNetWebSockets()
    {
        for (int i = 0; i < Messages; i++)
        {
            await _bcl.SendAsync(_payload, BclMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [Benchmark(Description = "Ws4Net send")]
    public void Ws4Net()
    {
        for (int i = 0; i < Messages; i++)
        {
            _ws4net.WriteMessage(_output, Protocol.WebSocketMessageKind.Text, _payload);
            _output.ResetWrittenCount();
        }
    }
}
