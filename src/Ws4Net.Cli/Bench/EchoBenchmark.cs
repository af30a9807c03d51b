using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// <c>ws4net bench echo</c>: N connections to an echo endpoint, each keeping D messages in flight (D sent
/// at the start, then one more for every echo received). Latency is per message, from the moment its
/// frame is handed to the socket to the read that completes its echo (echoes are FIFO per connection).
/// One instance per run; not thread-safe.
/// </summary>
/// <param name="target">The echo endpoint.</param>
/// <param name="connections">Number of connections.</param>
/// <param name="size">Payload size in bytes.</param>
/// <param name="pipeline">Messages in flight per connection.</param>
/// <param name="duration">Measured time.</param>
/// <param name="warmup">Time before measuring (load runs, nothing is recorded).</param>
/// <param name="text">Text messages (ASCII payload) instead of binary.</param>
/// <param name="serverPid">The server's process id for its CPU use, or <see langword="null"/>.</param>
internal sealed class EchoBenchmark(BenchTarget target, int connections, int size, int pipeline, TimeSpan duration, TimeSpan warmup, bool text, int? serverPid)
{
    private const int ReceiveBufferSize = 64 * 1024;
    private const int SendBatchBytes = 256 * 1024;

    // At most this many bytes in flight per connection: the receive loop sends the next frames itself
    // (no hand-off); the kernel's socket buffers hold everything in flight, so sending cannot block
    // behind unread echoes. Above it, a separate send loop keeps reading and writing independent.
    private const int InlineSendMaxBytes = 64 * 1024;
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(3);

    private volatile bool _recording;
    private volatile bool _stopping;

    private int Size => size;

    private int Pipeline => pipeline;

    private bool Text => text;

    /// <summary>Runs the benchmark.</summary>
    /// <param name="cancellationToken">Ctrl-C: ends the run early (figures cover the time run).</param>
    /// <returns>The figures.</returns>
    /// <exception cref="BenchException">The connections could not be opened.</exception>
    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        RawConnection[] opened = await RawConnection.ConnectManyAsync(target, connections, 64, cancellationToken).ConfigureAwait(false);
        Worker[] workers = Array.ConvertAll(opened, c => new Worker(this, c));

        using var abort = new CancellationTokenSource();
        Task[] running = Array.ConvertAll(workers, w => w.RunAsync(abort.Token));
        using var progressStop = new CancellationTokenSource();
        long start = Stopwatch.GetTimestamp();
        long lastCount = 0;
        long lastTime = start;
        Task progress = ProgressLine.RunAsync(
            () =>
            {
                long count = 0;
                foreach (Worker w in workers)
                {
                    count += Volatile.Read(ref w.Received);
                }

                long now = Stopwatch.GetTimestamp();
                double rate = (count - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                lastCount = count;
                lastTime = now;
                string phase = _recording ? "measuring" : "warming up";
                return string.Create(CultureInfo.InvariantCulture, $"echo {phase} {Stopwatch.GetElapsedTime(start).TotalSeconds:0}s: {rate:#,0} msgs/s, {count:#,0} echoes");
            },
            progressStop.Token);

        var cpu = new CpuMeter(serverPid);
        long measureStart = start;
        try
        {
            await Task.Delay(warmup, cancellationToken).ConfigureAwait(false);
            cpu.Start();
            measureStart = Stopwatch.GetTimestamp();
            _recording = true;
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: report what was measured.
        }

        _recording = false;
        _stopping = true;
        TimeSpan measured = Stopwatch.GetElapsedTime(measureStart);
        cpu.Stop();
        abort.CancelAfter(s_drainTimeout);
        await Task.WhenAll(running).ConfigureAwait(false);
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);

        var histogram = new LatencyHistogram();
        long messages = 0;
        long unanswered = 0;
        long errors = 0;
        foreach (Worker w in workers)
        {
            histogram.Merge(w.Histogram);
            messages += w.Measured;
            unanswered += w.Unanswered;
            if (w.Failure is { } failure)
            {
                errors++;
                if (errors <= 3)
                {
                    await Console.Error.WriteLineAsync($"connection error: {failure.Message}").ConfigureAwait(false);
                }
            }
        }

        double seconds = Math.Max(measured.TotalSeconds, 1e-9);
        var report = new BenchReport();
        report.Add("bench", "echo");
        report.Add("url", target.Uri.ToString());
        report.Add("connections", connections);
        report.Add("size_bytes", size);
        report.Add("pipeline", pipeline);
        report.Add("type", text ? "text" : "binary");
        report.Add("duration_s", seconds);
        report.Add("messages", messages);
        report.Add("msgs_per_s", messages / seconds);
        report.Add("mib_per_s", messages * (double)size / (1024 * 1024) / seconds);
        report.AddLatency(histogram);
        report.Add("errors", errors);
        report.Add("unanswered", unanswered);
        report.AddCpu(cpu);
        return report;
    }

    /// <summary>One connection: a receive loop that counts echoes and grants credits, and a send loop that spends them.</summary>
    private sealed class Worker
    {
        private readonly EchoBenchmark _bench;
        private readonly RawConnection _connection;
        private readonly ServerFrameParser _parser = new(keepPrefix: false);
        private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
        private readonly byte[] _frames;
        private readonly int _frameLength;
        private readonly int _framesPerSend;
        private readonly long[] _stamps;
        private readonly Channel<int> _credits = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly bool _inline;
        private long _sent;

        public Worker(EchoBenchmark bench, RawConnection connection)
        {
            _bench = bench;
            _connection = connection;
            _stamps = new long[bench.Pipeline];
            _frameLength = ClientFrames.FrameLength(bench.Size);
            _framesPerSend = Math.Clamp(SendBatchBytes / _frameLength, 1, bench.Pipeline);
            _inline = (long)_frameLength * bench.Pipeline <= InlineSendMaxBytes;
            byte[] payload = new byte[bench.Size];
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] = (byte)('a' + (i % 26));
            }

            _frames = new byte[_frameLength * _framesPerSend];
            for (int i = 0; i < _framesPerSend; i++)
            {
                ClientFrames.Write(_frames.AsSpan(i * _frameLength), bench.Text ? ClientFrames.Text : ClientFrames.Binary, payload, connection.Mask);
            }
        }

        public long Received;

        public long Measured { get; private set; }

        public long Unanswered { get; private set; }

        public LatencyHistogram Histogram { get; } = new();

        public Exception? Failure { get; private set; }

        public async Task RunAsync(CancellationToken abort)
        {
            Task sender = Task.CompletedTask;
            try
            {
                if (_inline)
                {
                    // The first D frames (at most 64 KiB) before reading: sends never overlap.
                    await SendAsync(_stamps.Length, abort).ConfigureAwait(false);
                }
                else
                {
                    sender = SendLoopAsync(abort);
                }

                await ReceiveLoopAsync(abort).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_bench._stopping)
            {
                // Drain timeout: the missing echoes count as unanswered.
            }
            catch (Exception ex) when (ex is SocketException or BenchException or InvalidDataException or OperationCanceledException)
            {
                Failure = ex;
            }

            _credits.Writer.TryComplete();
            try
            {
                await sender.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (!_bench._stopping || ex is SocketException)
                {
                    Failure ??= ex;
                }
            }

            Unanswered = Math.Max(0, Volatile.Read(ref _sent) - Received);
            if (Failure is null)
            {
                await _connection.CloseAsync(_parser, _receiveBuffer, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            else
            {
                _connection.Dispose();
            }
        }

        private async Task ReceiveLoopAsync(CancellationToken abort)
        {
            int pipeline = _stamps.Length;
            long received = 0;
            int pending = _connection.Leftover.Length;
            if (pending > 0)
            {
                _connection.Leftover.CopyTo(_receiveBuffer, 0);
            }

            while (!_bench._stopping || received < Volatile.Read(ref _sent))
            {
                int read = pending > 0 ? pending : await _connection.Socket.ReceiveAsync(_receiveBuffer, SocketFlags.None, abort).ConfigureAwait(false);
                pending = 0;
                if (read == 0)
                {
                    throw new BenchException("the server closed the connection");
                }

                int completed = _parser.Feed(_receiveBuffer.AsSpan(0, read));
                if (_parser.CloseReceived)
                {
                    throw new BenchException("the server closed the WebSocket");
                }

                if (completed == 0)
                {
                    continue;
                }

                if (_bench._recording)
                {
                    long now = Stopwatch.GetTimestamp();
                    for (int i = 0; i < completed; i++)
                    {
                        Histogram.Record(now - _stamps[(int)((received + i) % pipeline)]);
                    }

                    Measured += completed;
                }

                received += completed;
                Volatile.Write(ref Received, received);
                if (_bench._stopping)
                {
                    continue;
                }

                if (_inline)
                {
                    await SendAsync(completed, abort).ConfigureAwait(false);
                }
                else
                {
                    _credits.Writer.TryWrite(completed);
                }
            }
        }

        private async Task SendLoopAsync(CancellationToken abort)
        {
            await SendAsync(_stamps.Length, abort).ConfigureAwait(false);
            ChannelReader<int> credits = _credits.Reader;
            while (await credits.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                int count = 0;
                while (credits.TryRead(out int granted))
                {
                    count += granted;
                }

                if (_bench._stopping)
                {
                    return;
                }

                await SendAsync(count, abort).ConfigureAwait(false);
            }
        }

        private async ValueTask SendAsync(int count, CancellationToken abort)
        {
            int pipeline = _stamps.Length;
            long sent = _sent;
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                _stamps[(int)((sent + i) % pipeline)] = now;
            }

            Volatile.Write(ref _sent, sent + count);
            while (count > 0)
            {
                int frames = Math.Min(count, _framesPerSend);
                await _connection.SendAllAsync(_frames.AsMemory(0, frames * _frameLength), abort).ConfigureAwait(false);
                count -= frames;
            }
        }
    }
}
