using System.Buffers;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Benchmarks;

/// <summary>
/// Unframe + decompress throughput, client role: both stacks read the SAME byte stream of
/// <see cref="Messages"/> compressed server messages (context takeover, 15-bit windows), produced
/// once in setup. Each operation starts a fresh receiver (zlib init included for both).
/// </summary>
[MemoryDiagnoser]
public class PerMessageDeflateReceiveBenchmarks
{
    public const int Messages = 100;

    private byte[] _wire = [];
    private byte[] _receiveBuffer = [];
    private WebSocketProtocolOptions _options = null!;
    private PerMessageDeflateParameters _parameters = null!;

    [Params(128, 1024, 16 * 1024, 128 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] payload = Payloads.JsonLike(Size);
        _options = new WebSocketProtocolOptions { MaxMessageSize = 64 * 1024 * 1024 };
        _parameters = new PerMessageDeflateParameters(false, false, null, null, threshold: 0);
        using var server = new WebSocketProtocol(WebSocketRole.Server, _options, _parameters);
        var output = new ArrayBufferWriter<byte>();
        for (int i = 0; i < Messages; i++)
        {
            server.WriteMessage(output, Protocol.WebSocketMessageKind.Text, payload);
        }

        _wire = output.WrittenSpan.ToArray();
        _receiveBuffer = new byte[Size + 4096];

        // Both receivers must decode exactly the sent messages, or the comparison is void.
        if (SystemNetWebSockets().GetAwaiter().GetResult() != (long)Size * Messages || Ws4Net() != (long)Size * Messages)
        {
            throw new InvalidOperationException("A receiver did not decode the expected bytes.");
        }
    }

    [Benchmark(Baseline = true, Description = "System.Net.WebSockets receive")]
    public async Task<long> SystemNetWebSockets()
    {
        using var stream = new ReplayStream(_wire);
        using WebSocket client = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = false,
            KeepAliveInterval = Timeout.InfiniteTimeSpan,
            DangerousDeflateOptions = new WebSocketDeflateOptions(),
        });
        long total = 0;
        for (int i = 0; i < Messages; i++)
        {
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(_receiveBuffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                total += result.Count;
            }
            while (!result.EndOfMessage);
        }

        return total;
    }

    [Benchmark(Description = "Ws4Net receive")]
    public long Ws4Net()
    {
        using var client = new WebSocketProtocol(WebSocketRole.Client, _options, _parameters);
        long total = 0;
        Memory<byte> input = _wire;   // server frames are unmasked: the core does not modify them
        while (client.TryReadEvent(input, out int consumed, out WebSocketEvent e))
        {
            input = input[consumed..];
            total += e.Payload.Length;
        }

        return total;
    }
}
