using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// <c>ws4net bench broadcast</c>: N receivers on a broadcast endpoint and one extra sender connection that
/// sends R binary messages per second, each carrying its send timestamp (8 bytes) and sequence number
/// (8 bytes). Measures deliveries per second, delivery latency, and messages missing per receiver after
/// a drain. One instance per run; not thread-safe.
/// </summary>
/// <param name="target">The broadcast endpoint.</param>
/// <param name="connections">Number of receivers.</param>
/// <param name="size">Payload size in bytes (at least 16).</param>
/// <param name="rate">Messages per second sent.</param>
/// <param name="duration">Measured time.</param>
/// <param name="warmup">Time before measuring (messages sent then are not counted).</param>
/// <param name="serverPid">The server's process id for its CPU use, or <see langword="null"/>.</param>
internal sealed class BroadcastBenchmark(BenchTarget target, int connections, int size, int rate, TimeSpan duration, TimeSpan warmup, int? serverPid)
{
    /// <summary>The smallest payload: timestamp and sequence number.</summary>
    public const int MinimumSize = 16;

    private const int ReceiveBufferSize = 16 * 1024;
    private const int MaxFramesPerSend = 64;
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(3);

    private long _firstMeasured = long.MaxValue;
    private long _sent;
    private volatile bool _stopping;

    /// <summary>Runs the benchmark.</summary>
    /// <param name="cancellationToken">Ctrl-C: ends the run early.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="BenchException">The connections could not be opened.</exception>
    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        RawConnection[] opened = await RawConnection.ConnectManyAsync(target, connections + 1, 64, cancellationToken).ConfigureAwait(false);
        RawConnection senderConnection = opened[^1];
        Receiver[] receivers = new Receiver[connections];
        for (int i = 0; i < connections; i++)
        {
            receivers[i] = new Receiver(this, opened[i]);
        }

        var drain = new Receiver(this, senderConnection);   // the sender gets the broadcasts too: read and discard them
        using var abort = new CancellationTokenSource();
        Task[] receiving = Array.ConvertAll(receivers, r => r.RunAsync(abort.Token));
        Task senderDrain = drain.RunAsync(abort.Token);

        // Let the server register every member (some servers add it after the handshake response).
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);

        using var sendStop = new CancellationTokenSource();
        Task sending = SendLoopAsync(senderConnection, sendStop.Token);

        using var progressStop = new CancellationTokenSource();
        long start = Stopwatch.GetTimestamp();
        long lastCount = 0;
        long lastTime = start;
        Task progress = ProgressLine.RunAsync(
            () =>
            {
                long count = 0;
                foreach (Receiver r in receivers)
                {
                    count += Volatile.Read(ref r.Delivered);
                }

                long now = Stopwatch.GetTimestamp();
                double perSecond = (count - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                lastCount = count;
                lastTime = now;
                return string.Create(CultureInfo.InvariantCulture, $"broadcast {Stopwatch.GetElapsedTime(start).TotalSeconds:0}s: sent {Volatile.Read(ref _sent):#,0}, {perSecond:#,0} deliveries/s");
            },
            progressStop.Token);

        var cpu = new CpuMeter(serverPid);
        long measureStart = start;
        long firstMeasured = 0;
        try
        {
            await Task.Delay(warmup, cancellationToken).ConfigureAwait(false);
            cpu.Start();
            measureStart = Stopwatch.GetTimestamp();
            firstMeasured = Volatile.Read(ref _sent);
            Volatile.Write(ref _firstMeasured, firstMeasured);
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: report what was measured.
        }

        await sendStop.CancelAsync().ConfigureAwait(false);
        Exception? sendFailure = null;
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            sendFailure = ex;
        }

        TimeSpan measured = Stopwatch.GetElapsedTime(measureStart);
        cpu.Stop();
        long sentMeasured = Math.Max(0, Volatile.Read(ref _sent) - firstMeasured);

        // Drain: wait until every receiver has every message, or the timeout.
        long drainStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(drainStart) < s_drainTimeout && Array.Exists(receivers, r => !r.IsDone && Volatile.Read(ref r.Counted) < sentMeasured))
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }

        _stopping = true;
        await abort.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(receiving).ConfigureAwait(false);
        await senderDrain.ConfigureAwait(false);
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);

        var histogram = new LatencyHistogram();
        long delivered = 0;
        long missing = 0;
        long maxMissing = 0;
        long errors = sendFailure is null ? 0 : 1;
        if (sendFailure is not null)
        {
            await Console.Error.WriteLineAsync($"sender error: {sendFailure.Message}").ConfigureAwait(false);
        }

        foreach (Receiver r in receivers)
        {
            histogram.Merge(r.Histogram);
            delivered += r.Counted;
            long lost = Math.Max(0, sentMeasured - r.Counted);
            missing += lost;
            maxMissing = Math.Max(maxMissing, lost);
            if (r.Failure is { } failure)
            {
                errors++;
                if (errors <= 3)
                {
                    await Console.Error.WriteLineAsync($"receiver error: {failure.Message}").ConfigureAwait(false);
                }
            }
        }

        double seconds = Math.Max(measured.TotalSeconds, 1e-9);
        var report = new BenchReport();
        report.Add("bench", "broadcast");
        report.Add("url", target.Uri.ToString());
        report.Add("connections", connections);
        report.Add("size_bytes", size);
        report.Add("rate", rate);
        report.Add("duration_s", seconds);
        report.Add("sent", sentMeasured);
        report.Add("sent_per_s", sentMeasured / seconds);
        report.Add("deliveries", delivered);
        report.Add("msgs_per_s", delivered / seconds);
        report.Add("mib_per_s", delivered * (double)size / (1024 * 1024) / seconds);
        report.AddLatency(histogram);
        report.Add("missing", missing);
        report.Add("missing_per_receiver", connections == 0 ? 0 : missing / (double)connections);
        report.Add("max_missing", maxMissing);
        report.Add("errors", errors);
        report.AddCpu(cpu);
        return report;
    }

    private async Task SendLoopAsync(RawConnection connection, CancellationToken stop)
    {
        int frameLength = ClientFrames.FrameLength(size);
        int header = ClientFrames.HeaderLength(size);
        byte[] frames = new byte[frameLength * MaxFramesPerSend];
        byte[] payload = new byte[size];
        payload.AsSpan().Fill((byte)'b');
        for (int i = 0; i < MaxFramesPerSend; i++)
        {
            ClientFrames.Write(frames.AsSpan(i * frameLength), ClientFrames.Binary, payload, connection.Mask);
        }

        long start = Stopwatch.GetTimestamp();
        long sent = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long due = (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate);
                while (sent < due && !stop.IsCancellationRequested)
                {
                    int count = (int)Math.Min(due - sent, MaxFramesPerSend);
                    long now = Stopwatch.GetTimestamp();
                    for (int i = 0; i < count; i++)
                    {
                        WriteStamp(frames.AsSpan((i * frameLength) + header, MinimumSize), now, sent + i, connection.Mask);
                    }

                    await connection.SendAllAsync(frames.AsMemory(0, count * frameLength), stop).ConfigureAwait(false);
                    sent += count;
                    Volatile.Write(ref _sent, sent);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private static void WriteStamp(Span<byte> maskedPayloadStart, long timestamp, long sequence, uint mask)
    {
        Span<byte> plain = stackalloc byte[MinimumSize];
        BinaryPrimitives.WriteInt64LittleEndian(plain, timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(plain[8..], sequence);
        ClientFrames.Mask(plain, maskedPayloadStart, mask, 0);
    }

    /// <summary>One receiver: reads broadcasts, records latency for measured sequence numbers.</summary>
    private sealed class Receiver : ServerFrameParser
    {
        private readonly BroadcastBenchmark _bench;
        private readonly RawConnection _connection;
        private readonly byte[] _buffer = new byte[ReceiveBufferSize];
        private long _arrival;

        public Receiver(BroadcastBenchmark bench, RawConnection connection)
            : base(keepPrefix: true)
        {
            _bench = bench;
            _connection = connection;
        }

        public long Delivered;

        public long Counted;

        public LatencyHistogram Histogram { get; } = new();

        public Exception? Failure { get; private set; }

        public bool IsDone { get; private set; }

        public async Task RunAsync(CancellationToken abort)
        {
            try
            {
                int pending = _connection.Leftover.Length;
                _connection.Leftover.CopyTo(_buffer, 0);
                while (true)
                {
                    int read = pending > 0 ? pending : await _connection.Socket.ReceiveAsync(_buffer, SocketFlags.None, abort).ConfigureAwait(false);
                    pending = 0;
                    if (read == 0)
                    {
                        throw new BenchException("the server closed the connection");
                    }

                    _arrival = Stopwatch.GetTimestamp();
                    Feed(_buffer.AsSpan(0, read));
                    if (CloseReceived)
                    {
                        throw new BenchException("the server closed the WebSocket");
                    }
                }
            }
            catch (OperationCanceledException) when (_bench._stopping)
            {
                // The run ended.
            }
            catch (Exception ex) when (ex is SocketException or BenchException or InvalidDataException or OperationCanceledException)
            {
                Failure = ex;
            }

            IsDone = true;
            if (Failure is null)
            {
                await _connection.CloseAsync(this, _buffer, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            else
            {
                _connection.Dispose();
            }
        }

        protected override void OnMessage(ReadOnlySpan<byte> prefix)
        {
            Volatile.Write(ref Delivered, Delivered + 1);
            if (prefix.Length < MinimumSize)
            {
                return;
            }

            long sequence = BinaryPrimitives.ReadInt64LittleEndian(prefix[8..]);
            if (sequence >= Volatile.Read(ref _bench._firstMeasured))
            {
                Histogram.Record(_arrival - BinaryPrimitives.ReadInt64LittleEndian(prefix));
                Volatile.Write(ref Counted, Counted + 1);
            }
        }
    }
}
