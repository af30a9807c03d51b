using System.Text;

namespace Ws4Net.DoS.Tests;

/// <summary>
/// Oversized and malformed input, each answered with the close code or HTTP status docs/limits.md gives, on
/// its header (never after buffering a payload it announced), while the healthy client is served. The
/// server runs with --max-message-size 65536.
/// </summary>
public sealed class MalformedInputTests(ITestOutputHelper output)
{
    private const int MaxMessage = 65_536;

    public static TheoryData<string> FrameCases => new(FrameCaseList.Select(c => c.Name));

    private static readonly (string Name, byte[] Bytes, int Code)[] FrameCaseList =
    [
        ("2^63 payload length", RawPeer.Header64(2, 1UL << 63), 1002),
        ("2^64-1 payload length", RawPeer.Header64(2, ulong.MaxValue), 1002),
        ("2^63-1 payload length", RawPeer.Header64(2, long.MaxValue), 1009),
        ("one frame of MaxMessageSize+1 (header only)", RawPeer.Header64(2, MaxMessage + 1), 1009),
        ("fragments summing to MaxMessageSize+1", [.. RawPeer.Frame(2, new byte[MaxMessage], fin: false), .. RawPeer.Frame(0, new byte[1])], 1009),
        ("126-byte ping", RawPeer.Frame(9, new byte[126]), 1002),
        ("fragmented ping", RawPeer.Frame(9, new byte[3], fin: false), 1002),
        ("126-byte close", RawPeer.Frame(8, [0x03, 0xE8, .. new byte[124]]), 1002),
        ("1-byte close", RawPeer.Frame(8, [0x03]), 1002),
        ("close reason not UTF-8", RawPeer.Frame(8, [0x03, 0xE8, 0xFF]), 1007),
        ("unmasked frame", [0x82, 0x01, 0x00], 1002),
        ("RSV2 set", [0xA2, 0x80, 1, 2, 3, 4], 1002),
        ("reserved opcode 3", RawPeer.Frame(3, [1]), 1002),
        ("continuation without a start", RawPeer.Frame(0, [1]), 1002),
        ("RSV1 without permessage-deflate", RawPeer.Frame(2, [1], rsv1: true), 1002),
    ];

    [Fact]
    public async Task Malformed_and_oversized_frames_get_their_close_code_and_the_connection_is_cut()
    {
        await using ServeProcess server = await ServeProcess.StartAsync("--max-message-size", MaxMessage.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using HealthProbe probe = await HealthProbe.StartAsync(server);

        // A message of exactly MaxMessageSize is accepted (the limit is not off by one).
        (RawPeer exact, _) = await RawPeer.HandshakeAsync(server.Port);
        await using (exact)
        {
            await exact.SendAsync(RawPeer.Frame(2, new byte[MaxMessage]));
            ServerFrame? echo = await exact.ReadFrameAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            Assert.Equal(MaxMessage, echo?.Payload.Length);
        }

        var results = await Task.WhenAll(FrameCaseList.Select(async c =>
        {
            (RawPeer peer, _) = await RawPeer.HandshakeAsync(server.Port);
            await using (peer)
            {
                try
                {
                    await peer.SendAsync(c.Bytes);
                }
                catch (IOException)
                {
                    // The server may cut before reading everything.
                }

                // The peer never answers the close: the server cuts TCP after CloseTimeout.
                PeerEnd end = await peer.ReadToEndAsync(Bounds.CloseTimeout + Bounds.TimeoutSlack);
                return (c.Name, c.Code, end);
            }
        }));

        await probe.StopAndAssertAsync(output, rssBoundMiB: 32);
        foreach ((string name, int code, PeerEnd end) in results)
        {
            output.WriteLine($"{name}: close {end.CloseCode} (expected {code}), cut: {end.Eof}");
        }

        Assert.All(results, r => Assert.True(r.end.CloseCode == r.Code && r.end.Eof, $"{r.Name}: close {r.end.CloseCode}, expected {r.Code}; cut by the server: {r.end.Eof}"));
    }

    [Fact]
    public async Task Invalid_UTF8_at_every_position_of_a_text_message_is_1007_whole_or_fragmented()
    {
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        const int length = 48;
        var cases = new List<(string Name, byte[] Bytes)>();
        for (int position = 0; position < length; position++)
        {
            byte[] text = Encoding.ASCII.GetBytes(new string('x', length));
            text[position] = 0xFF;   // never valid in UTF-8
            cases.Add(($"0xFF at {position}", RawPeer.Frame(1, text)));
            cases.Add(($"0xFF at {position}, fragmented there", [.. RawPeer.Frame(1, text.AsSpan(0, position), fin: false), .. RawPeer.Frame(0, text.AsSpan(position))]));
            byte[] truncated = Encoding.ASCII.GetBytes(new string('x', length));
            truncated[position] = 0xE2;   // the first byte of a 3-byte sequence followed by ASCII
            cases.Add(($"truncated sequence at {position}", RawPeer.Frame(1, truncated)));
        }

        cases.Add(("overlong encoding of '/'", RawPeer.Frame(1, [0xC0, 0xAF])));
        cases.Add(("UTF-16 surrogate U+D800", RawPeer.Frame(1, [0xED, 0xA0, 0x80])));
        cases.Add(("above U+10FFFF", RawPeer.Frame(1, [0xF4, 0x90, 0x80, 0x80])));
        cases.Add(("sequence cut at the end of the message", RawPeer.Frame(1, [0x41, 0xE2, 0x82])));

        (string Name, int Code)[] results = await ParallelRun.ForAsync(cases.Count, 16, async i =>
        {
            (RawPeer peer, _) = await RawPeer.HandshakeAsync(server.Port);
            await using (peer)
            {
                await peer.SendAsync(cases[i].Bytes);
                PeerEnd end = await peer.ReadToEndAsync(TimeSpan.FromSeconds(10));
                return (cases[i].Name, end.CloseCode);
            }
        });

        await probe.StopAndAssertAsync(output, rssBoundMiB: 32);
        output.WriteLine($"{results.Length} invalid texts, {results.Count(r => r.Code == 1007)} closed with 1007");
        Assert.All(results, r => Assert.True(r.Code == 1007, $"{r.Name}: close {r.Code}, expected 1007"));
    }

    [Fact]
    public async Task Request_heads_over_the_limits_get_414_or_431_without_the_server_buffering_them()
    {
        await using ServeProcess server = await ServeProcess.StartAsync();
        await using HealthProbe probe = await HealthProbe.StartAsync(server);
        string upgrade = RawPeer.UpgradeRequest();
        string headers = upgrade[(upgrade.IndexOf("\r\n", StringComparison.Ordinal) + 2)..^2];
        var cases = new (string Name, string Request, int Status)[]
        {
            ("start line of 8193 bytes", $"GET /{new string('a', 8192)} HTTP/1.1\r\n{headers}\r\n", 414),
            ("header line of 8193 bytes", $"GET /echo HTTP/1.1\r\nX-Long: {new string('a', 8193)}\r\n{headers}\r\n", 431),
            ("10,000 headers", $"GET /echo HTTP/1.1\r\n{string.Concat(Enumerable.Range(0, 10_000).Select(i => $"X-H{i}: v\r\n"))}{headers}\r\n", 431),
            ("head of 20 KiB in short lines", $"GET /echo HTTP/1.1\r\n{string.Concat(Enumerable.Range(0, 40).Select(i => $"X-H{i}: {new string('v', 500)}\r\n"))}{headers}\r\n", 431),
            ("a 1 MiB header that never ends", $"GET /echo HTTP/1.1\r\nX-Endless: {new string('a', 1 << 20)}", 431),
        };

        var results = await Task.WhenAll(cases.Select(async c =>
        {
            RawPeer peer = await RawPeer.ConnectAsync(server.Port);
            await using (peer)
            {
                Task send = Task.Run(async () =>
                {
                    try
                    {
                        await peer.SendAsync(c.Request);
                    }
                    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
                    {
                        // Cut off once the limit was passed.
                    }
                });
                string head;
                try
                {
                    head = await peer.ReadHttpHeadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                }
                catch (Exception ex) when (ex is IOException or EndOfStreamException or System.Net.Sockets.SocketException)
                {
                    head = $"(no answer: {ex.Message})";
                }

                (int _, bool eof) = await peer.DrainAsync(TimeSpan.FromSeconds(10));
                await send;
                return (c.Name, c.Status, Head: head, Closed: eof);
            }
        }));

        await probe.StopAndAssertAsync(output, rssBoundMiB: 32);
        foreach (var r in results)
        {
            output.WriteLine($"{r.Name}: {r.Head.Split("\r\n")[0]} (expected {r.Status}), closed: {r.Closed}");
        }

        Assert.All(results, r => Assert.True(r.Head.StartsWith($"HTTP/1.1 {r.Status} ", StringComparison.Ordinal) && r.Closed, $"{r.Name}: {r.Head.Split("\r\n")[0]}, expected {r.Status}; closed: {r.Closed}"));
    }
}
