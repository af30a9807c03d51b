using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Compression;

namespace Ws4Net.Soak;

/// <summary>
/// The mixed traffic against one server (ws or wss): paced echo clients (latency recorded), a broadcast
/// stream to receivers (one of which stops reading for long stretches), chat members, and churn loops that
/// connect and leave in every way (clean close, abort, chat join with history, raw sockets reset in the
/// middle of the upgrade request or of a frame). Half of the WebSocket clients offer permessage-deflate.
/// Latencies are collected per sampling interval (<see cref="TakeEchoLatencies"/>). Thread-safe.
/// </summary>
internal sealed class Traffic
{
    private static readonly TimeSpan s_reconnectDelay = TimeSpan.FromSeconds(1);
    private readonly Uri _base;
    private readonly bool _tls;
    private readonly IPEndPoint _endPoint;
    private ConcurrentQueue<double> _latencies = new();
    private long _unexpected;
    private long _churned;
    private long _echoes;
    private long _broadcastReceived;
    private long _chatReceived;

    /// <summary>Creates the traffic for one server.</summary>
    /// <param name="port">The server's port on 127.0.0.1.</param>
    /// <param name="tls">Whether it serves wss.</param>
    public Traffic(int port, bool tls)
    {
        _tls = tls;
        _endPoint = new IPEndPoint(IPAddress.Loopback, port);
        _base = new Uri($"{(tls ? "wss" : "ws")}://127.0.0.1:{port}/");
    }

    /// <summary>Gets the number of failures of long-lived clients (reconnected each time); the run fails when it is not 0.</summary>
    public long Unexpected => Interlocked.Read(ref _unexpected);

    /// <summary>Gets the number of churn iterations done.</summary>
    public long Churned => Interlocked.Read(ref _churned);

    /// <summary>Gets the number of echoes received.</summary>
    public long Echoes => Interlocked.Read(ref _echoes);

    /// <summary>Gets the number of broadcast messages received.</summary>
    public long BroadcastReceived => Interlocked.Read(ref _broadcastReceived);

    /// <summary>Gets the number of chat messages received.</summary>
    public long ChatReceived => Interlocked.Read(ref _chatReceived);

    /// <summary>Gets the last unexpected failure, for the log.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Returns the echo round-trip times (ms) recorded since the previous call.</summary>
    /// <returns>The latencies.</returns>
    public double[] TakeEchoLatencies() => Interlocked.Exchange(ref _latencies, new ConcurrentQueue<double>()).ToArray();

    /// <summary>Runs every workload until <paramref name="stop"/> is cancelled.</summary>
    /// <param name="stop">Ends the traffic.</param>
    /// <returns>Completes when every loop has ended.</returns>
    public Task RunAsync(CancellationToken stop)
    {
        var loops = new List<Task>();
        for (int i = 0; i < 6; i++)
        {
            int id = i;
            loops.Add(Task.Run(() => EchoLoopAsync(id, compress: id % 2 == 0, stop)));
        }

        for (int i = 0; i < 8; i++)
        {
            int id = i;
            loops.Add(Task.Run(() => BroadcastReceiverAsync(compress: id % 2 == 0, lazy: id == 0, stop)));
        }

        loops.Add(Task.Run(() => BroadcastSenderAsync(stop)));
        for (int i = 0; i < 5; i++)
        {
            int id = i;
            loops.Add(Task.Run(() => ChatMemberAsync(id, compress: id % 2 == 1, stop)));
        }

        for (int i = 0; i < 2; i++)
        {
            int id = i;
            loops.Add(Task.Run(() => ChurnLoopAsync(id, stop)));
        }

        return Task.WhenAll(loops);
    }

    private WebSocketClientOptions Options(bool compress) => new()
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PerMessageDeflate = compress ? new PerMessageDeflateOptions() : null,
        RemoteCertificateValidation = _tls ? (_, _, _, _) => true : null,
    };

    private Task<WebSocketConnection> ConnectAsync(string path, bool compress, CancellationToken cancellationToken) =>
        WebSocketClient.ConnectAsync(new Uri(_base, path), Options(compress), cancellationToken);

    private void Fail(string what, Exception ex)
    {
        Interlocked.Increment(ref _unexpected);
        LastFailure = $"{_base} {what}: {ex.GetType().Name}: {ex.Message}";
        Console.Error.WriteLine($"unexpected: {LastFailure}");
    }

    private async Task EchoLoopAsync(int id, bool compress, CancellationToken stop)
    {
        int[] sizes = [16, 125, 700, 2_000, 16_000, 100_000];
        var random = new Random(id);
        byte[] buffer = new byte[sizes[^1]];
        random.NextBytes(buffer);
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)('a' + (buffer[i] % 26));   // ASCII: valid as text and compressible
        }

        while (!stop.IsCancellationRequested)
        {
            WebSocketConnection? connection = null;
            try
            {
                connection = await ConnectAsync("echo", compress, stop).ConfigureAwait(false);
                long n = 0;
                while (!stop.IsCancellationRequested)
                {
                    int size = sizes[(int)(n % 50 == 49 ? sizes.Length - 1 : random.Next(sizes.Length - 1))];
                    ReadOnlyMemory<byte> payload = buffer.AsMemory(0, size);
                    long started = Stopwatch.GetTimestamp();
                    if (n % 2 == 0)
                    {
                        await connection.SendAsync(payload, WebSocketMessageKind.Text, endOfMessage: true, stop).ConfigureAwait(false);
                    }
                    else
                    {
                        await connection.SendBinaryAsync(payload, stop).ConfigureAwait(false);
                    }

                    WebSocketMessage? echo = await connection.ReceiveAsync(stop).ConfigureAwait(false);
                    if (echo is not { } message || message.Payload.Length != size || !message.Payload.Span.SequenceEqual(payload.Span))
                    {
                        throw new InvalidDataException(echo is null ? "echo connection closed" : $"wrong echo: {echo.Value}");
                    }

                    _latencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Increment(ref _echoes);
                    n++;
                    await Task.Delay(20, stop).ConfigureAwait(false);   // about 40 echoes/s per client
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Fail($"echo {id}", ex);
                await DelayAsync(s_reconnectDelay, stop).ConfigureAwait(false);
            }
            finally
            {
                await CloseQuietlyAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private async Task BroadcastReceiverAsync(bool compress, bool lazy, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WebSocketConnection? connection = null;
            try
            {
                connection = await ConnectAsync("broadcast", compress, stop).ConfigureAwait(false);
                long started = Stopwatch.GetTimestamp();
                while (!stop.IsCancellationRequested)
                {
                    if (lazy && Stopwatch.GetElapsedTime(started).TotalSeconds % 60 > 30)
                    {
                        // Stops reading for half of every minute: the server's send queue for it fills and the
                        // broadcast drops messages for it (the default backpressure policy), nothing grows.
                        await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                        continue;
                    }

                    if (await connection.ReceiveAsync(stop).ConfigureAwait(false) is null)
                    {
                        throw new InvalidDataException("broadcast connection closed");
                    }

                    Interlocked.Increment(ref _broadcastReceived);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Fail(lazy ? "lazy broadcast receiver" : "broadcast receiver", ex);
                await DelayAsync(s_reconnectDelay, stop).ConfigureAwait(false);
            }
            finally
            {
                await CloseQuietlyAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private async Task BroadcastSenderAsync(CancellationToken stop)
    {
        byte[] payload = new byte[4096];
        new Random(7).NextBytes(payload);
        while (!stop.IsCancellationRequested)
        {
            WebSocketConnection? connection = null;
            try
            {
                connection = await ConnectAsync("broadcast", compress: false, stop).ConfigureAwait(false);
                using var drain = CancellationTokenSource.CreateLinkedTokenSource(stop);
                WebSocketConnection sender = connection;
                Task reading = Task.Run(async () =>
                {
                    // The sender is a member too: it reads its own broadcasts back.
                    while (await sender.ReceiveAsync(drain.Token).ConfigureAwait(false) is not null)
                    {
                    }
                });
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(40));   // 25 messages/s of 4 KiB
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    await connection.SendBinaryAsync(payload, stop).ConfigureAwait(false);
                    if (reading.IsCompleted)
                    {
                        await reading.ConfigureAwait(false);
                        throw new InvalidDataException("broadcast sender closed");
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Fail("broadcast sender", ex);
                await DelayAsync(s_reconnectDelay, stop).ConfigureAwait(false);
            }
            finally
            {
                await CloseQuietlyAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private async Task ChatMemberAsync(int id, bool compress, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WebSocketConnection? connection = null;
            try
            {
                connection = await ConnectAsync("chat", compress, stop).ConfigureAwait(false);
                WebSocketConnection member = connection;
                Task reading = Task.Run(async () =>
                {
                    while (await member.ReceiveAsync(stop).ConfigureAwait(false) is not null)
                    {
                        Interlocked.Increment(ref _chatReceived);
                    }
                });
                long n = 0;
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    await connection.SendTextAsync($"member {id} says {n++}: {new string('x', (int)(n % 200))}", stop).ConfigureAwait(false);
                    if (reading.IsCompleted)
                    {
                        await reading.ConfigureAwait(false);
                        throw new InvalidDataException("chat connection closed");
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Fail($"chat member {id}", ex);
                await DelayAsync(s_reconnectDelay, stop).ConfigureAwait(false);
            }
            finally
            {
                await CloseQuietlyAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private async Task ChurnLoopAsync(int id, CancellationToken stop)
    {
        var random = new Random(1000 + id);
        byte[] upgrade = Encoding.ASCII.GetBytes("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        while (!stop.IsCancellationRequested)
        {
            try
            {
                int kind = random.Next(6);
                bool compress = random.Next(2) == 0;
                switch (kind)
                {
                    case 0:
                    case 1:
                    {
                        // Connect, one echo, then a clean close (0) or an abort without a close frame (1).
                        await using WebSocketConnection connection = await ConnectAsync("echo", compress, stop).ConfigureAwait(false);
                        await connection.SendTextAsync("churn", stop).ConfigureAwait(false);
                        _ = await connection.ReceiveAsync(stop).ConfigureAwait(false);
                        if (kind == 0)
                        {
                            await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, stop).ConfigureAwait(false);
                        }
                        else
                        {
                            connection.Abort();
                        }

                        break;
                    }

                    case 2:
                    {
                        // Join the chat (the history is queued to us), read a little, leave.
                        await using WebSocketConnection connection = await ConnectAsync("chat", compress, stop).ConfigureAwait(false);
                        _ = await connection.ReceiveAsync(stop).ConfigureAwait(false);
                        await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, stop).ConfigureAwait(false);
                        break;
                    }

                    case 3:
                    {
                        // Join the broadcast, read one message, abort.
                        await using WebSocketConnection connection = await ConnectAsync("broadcast", compress, stop).ConfigureAwait(false);
                        _ = await connection.ReceiveAsync(stop).ConfigureAwait(false);
                        connection.Abort();
                        break;
                    }

                    default:
                        // Raw TCP: reset in the middle of the upgrade request (4) or of a frame after the upgrade (5).
                        // With TLS, the reset comes in the middle of the TLS handshake instead.
                        await RawResetAsync(upgrade, midFrame: kind == 5 && !_tls, random, stop).ConfigureAwait(false);
                        break;
                }

                Interlocked.Increment(ref _churned);
                await Task.Delay(50, stop).ConfigureAwait(false);   // about 20 churn connections/s per loop
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Fail($"churn {id}", ex);
                await DelayAsync(s_reconnectDelay, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task RawResetAsync(byte[] upgrade, bool midFrame, Random random, CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_endPoint, stop).ConfigureAwait(false);
        if (midFrame)
        {
            await socket.SendAsync(upgrade, SocketFlags.None, stop).ConfigureAwait(false);
            byte[] response = new byte[1024];
            int read = 0;
            while (read < 4 || !response.AsSpan(0, read).EndsWith("\r\n\r\n"u8))
            {
                int n = await socket.ReceiveAsync(response.AsMemory(read), SocketFlags.None, stop).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("raw upgrade: the server closed before answering");
                }

                read += n;
            }

            // A masked binary frame header announcing 1000 bytes, and only 10 of them.
            byte[] partial = [0x82, 0xFE, 0x03, 0xE8, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            await socket.SendAsync(partial, SocketFlags.None, stop).ConfigureAwait(false);
        }
        else
        {
            await socket.SendAsync(upgrade.AsMemory(0, 1 + random.Next(upgrade.Length - 1)), SocketFlags.None, stop).ConfigureAwait(false);
        }

        socket.LingerState = new LingerOption(true, 0);   // close sends RST
        socket.Close();
    }

    private static async Task CloseQuietlyAsync(WebSocketConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketClosedException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            connection.Abort();
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
