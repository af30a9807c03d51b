using System.Buffers;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Ws4Net.Protocol;

namespace Ws4Net.Benchmarks;

/// <summary>
/// Uncompressed receive on the server side: unmasking, validation (UTF-8 for text) and message
/// delivery of <see cref="Messages"/> masked client text messages, the same bytes for both stacks.
/// </summary>
[MemoryDiagnoser]
public class FramingReceiveBenchmarks
{
    public const int Messages = 1000;

    private byte[] _wire = [];
    private byte[] _scratch = [];
    private byte[] _receiveBuffer = [];

    [Params(16, 1024, 64 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] payload = Payloads.JsonLike(Size);
        using var client = new WebSocketProtocol(WebSocketRole.Client, new WebSocketProtocolOptions { MaxMessageSize = 1 << 26 });
        var output = new ArrayBufferWriter<byte>();
        for (int i = 0; i < Messages; i++)
        {
            client.WriteMessage(output, Protocol.WebSocketMessageKind.Text, payload);
        }

        _wire = output.WrittenSpan.ToArray();
        _scratch = new byte[_wire.Length];
        _receiveBuffer = new byte[Size + 4096];
        if (SystemNetWebSockets().GetAwaiter().GetResult() != (long)Size * Messages || Ws4Net() != (long)Size * Messages)
        {
            throw new InvalidOperationException("A receiver did not decode the expected bytes.");
        }
    }

    [Benchmark(Baseline = true, Description = "System.Net.WebSockets receive")]
    public async Task<long> SystemNetWebSockets()
    {
        _wire.CopyTo(_scratch, 0);   // both stacks unmask in place: give each a fresh copy
        using var stream = new ReplayStream(_scratch);
        using WebSocket server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        long total = 0;
        for (int i = 0; i < Messages; i++)
        {
            ValueWebSocketReceiveResult result;
            do
            {
                result = await server.ReceiveAsync(_receiveBuffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                total += result.Count;
            }
            while (!result.EndOfMessage);
        }

        return total;
    }

    [Benchmark(Description = "Ws4Net receive")]
    public long Ws4Net()
    {
        _wire.CopyTo(_scratch, 0);
        using var server = new WebSocketProtocol(WebSocketRole.Server, new WebSocketProtocolOptions { MaxMessageSize = 1 << 26 });
        long total = 0;
        Memory<byte> input = _scratch;
        while (server.TryReadEvent(input, out int consumed, out WebSocketEvent e))
        {
            input = input[consumed..];
            total += e.Payload.Length;
        }

        return total;
    }
}
