using System.Diagnostics;
using System.IO.Compression;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// Compression bombs (permessage-deflate, RFC 7692): 64 MiB of zeros in about 64 KiB of DEFLATE, sent to a
/// server whose MaxMessageSize is 1 MiB, through every inflate path of `ws4net serve`: one frame or
/// fragments, binary or text (UTF-8 validated while inflating), with the client's context taken over from a
/// first valid message or reset (client_no_context_takeover). Each is failed with 1009 as soon as the
/// inflated bytes pass the limit, and the server's memory does not grow by what the bombs would inflate to.
/// </summary>
public sealed class CompressionBombTests(ITestOutputHelper output)
{
    private const int MaxMessage = 1 << 20;
    private const int BombSize = 64 << 20;

    [Fact]
    public async Task Compression_bombs_through_every_inflate_path_are_stopped_with_1009_at_the_limit()
    {
        // Compressed once, before the probe starts (compressing 64 MiB costs this process a few hundred ms of CPU).
        byte[] hello = "hello, hello, hello, hello"u8.ToArray();
        var fresh = new MessageCompressor();
        byte[] helloFresh = fresh.Compress(hello, 1);
        byte[] bombFresh = new MessageCompressor().Compress(new byte[1 << 20], BombSize >> 20);
        byte[] bombAfterHello = fresh.Compress(new byte[1 << 20], BombSize >> 20);   // continues the first message's DEFLATE stream

        await using ServeProcess server = await ServeProcess.StartAsync("--max-message-size", MaxMessage.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        var cases = new List<(bool ContextTakeover, bool Fragmented, bool Text)>();
        foreach (bool takeover in new[] { false, true })
        {
            foreach (bool fragmented in new[] { false, true })
            {
                foreach (bool text in new[] { false, true })
                {
                    cases.Add((takeover, fragmented, text));
                }
            }
        }

        var results = await Task.WhenAll(cases.Select(async c =>
        {
            string offer = c.ContextTakeover ? "permessage-deflate" : "permessage-deflate; client_no_context_takeover";
            (RawPeer peer, string head) = await RawPeer.HandshakeAsync(server.Port, "/echo", offer);
            await using (peer)
            {
                Assert.Contains("permessage-deflate", head, StringComparison.OrdinalIgnoreCase);
                // A first, valid compressed message: its echo proves the inflater works, and with context
                // takeover the bomb below continues its DEFLATE stream.
                await peer.SendAsync(RawPeer.Frame(c.Text ? 1 : 2, helloFresh, rsv1: true));
                ServerFrame? echo = await peer.ReadFrameAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
                Assert.Equal(hello, echo?.Payload);   // below the server's 1 KiB threshold: echoed uncompressed
                byte[] bomb = c.ContextTakeover ? bombAfterHello : bombFresh;
                var frames = new List<byte>();
                int opcode = c.Text ? 1 : 2;
                if (c.Fragmented)
                {
                    int chunk = (bomb.Length / 16) + 1;
                    for (int offset = 0, i = 0; offset < bomb.Length; offset += chunk, i++)
                    {
                        int n = Math.Min(chunk, bomb.Length - offset);
                        frames.AddRange(RawPeer.Frame(i == 0 ? opcode : 0, bomb.AsSpan(offset, n), fin: offset + n >= bomb.Length, rsv1: i == 0));
                    }
                }
                else
                {
                    frames.AddRange(RawPeer.Frame(opcode, bomb, rsv1: true));
                }

                var watch = Stopwatch.StartNew();
                try
                {
                    await peer.SendAsync(frames.ToArray());
                }
                catch (IOException)
                {
                    // Cut off before everything was sent.
                }

                PeerEnd end = await peer.ReadToEndAsync(Bounds.CloseTimeout + Bounds.TimeoutSlack + TimeSpan.FromSeconds(5));
                return (Case: c, Compressed: bomb.Length, end.CloseCode, end.Eof, Seconds: watch.Elapsed.TotalSeconds);
            }
        }));

        await probe.StopAndAssertAsync(output, rssBoundMiB: 48);
        foreach (var r in results)
        {
            output.WriteLine($"context takeover {r.Case.ContextTakeover}, fragmented {r.Case.Fragmented}, text {r.Case.Text}: {r.Compressed} B inflating to {BombSize >> 20} MiB -> close {r.CloseCode}, cut {r.Eof}, {r.Seconds:0.00} s");
        }

        Assert.All(results, r => Assert.True(r.CloseCode == 1009 && r.Eof, $"{r.Case}: close {r.CloseCode}, cut {r.Eof}"));
    }

    /// <summary>A client-side permessage-deflate compressor: raw DEFLATE, each message ended by a sync flush whose 00 00 FF FF tail is removed (RFC 7692 §7.2.1).</summary>
    private sealed class MessageCompressor
    {
        private readonly MemoryStream _output = new();
        private readonly DeflateStream _deflate;

        public MessageCompressor() => _deflate = new DeflateStream(_output, CompressionLevel.SmallestSize, leaveOpen: true);

        public byte[] Compress(byte[] block, int repeat)
        {
            _output.SetLength(0);
            for (int i = 0; i < repeat; i++)
            {
                _deflate.Write(block);
            }

            _deflate.Flush();
            byte[] bytes = _output.ToArray();
            Assert.True(bytes.AsSpan().EndsWith(new byte[] { 0, 0, 0xFF, 0xFF }), "DeflateStream.Flush did not end with a sync flush");
            return bytes[..^4];
        }
    }
}
