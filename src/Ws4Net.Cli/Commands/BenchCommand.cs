using System.CommandLine;
using Ws4Net.Cli.Bench;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// <c>ws4net bench echo|broadcast|idle|connect-rate</c>: load generators that measure a WebSocket server
/// from outside, over raw sockets (the generator must not be the bottleneck); <c>ws4net bench backplane</c>
/// measures the RabbitMQ backplane across two nodes against a RabbitMQ.Client loop. Each prints a progress line
/// on standard error, then a summary and exactly one <c>JSON {...}</c> line on standard output.
/// Exit codes: 0 done, 1 cannot connect or handshake rejected, 2 invalid arguments, 3 the run had errors.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    /// <returns>The <c>bench</c> command.</returns>
    public static Command Create() => new("bench", "Load benchmarks against a WebSocket server (raw sockets; JSON line at the end).")
    {
        CreateEcho(),
        CreateBroadcast(),
        CreateIdle(),
        CreateConnectRate(),
        CreateBackplane(),
    };

    private static Option<string> UrlOption(string example) => new("--url") { Description = $"Endpoint, e.g. {example} (ws:// with an IP address).", Required = true };

    private static Option<int> IntOption(string name, string description, int defaultValue) => new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static Option<double> SecondsOption(string name, string description, double defaultValue) => new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static Option<int?> ServerPidOption() => new("--server-pid") { Description = "Server process id: its CPU use is measured from /proc/PID/stat." };

    private static Command CreateEcho()
    {
        Option<string> url = UrlOption("ws://127.0.0.1:9000/echo");
        Option<int> connections = IntOption("--connections", "Number of connections.", 100);
        Option<int> size = IntOption("--size", "Payload size in bytes.", 64);
        Option<int> pipeline = IntOption("--pipeline", "Messages in flight per connection.", 16);
        Option<double> duration = SecondsOption("--duration", "Measured seconds.", 10);
        Option<double> warmup = SecondsOption("--warmup", "Seconds of load before measuring.", 2);
        var text = new Option<bool>("--text") { Description = "Send text messages (ASCII) instead of binary." };
        Option<int?> serverPid = ServerPidOption();
        var command = new Command("echo", "N connections, each keeping D messages in flight on an echo endpoint: msgs/s, MiB/s, latency.")
        {
            url, connections, size, pipeline, duration, warmup, text, serverPid,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(url),
            parse.GetValue(serverPid),
            () => Positive(parse.GetValue(connections), "--connections") ?? NonNegative(parse.GetValue(size), "--size")
                ?? Positive(parse.GetValue(pipeline), "--pipeline") ?? PositiveSeconds(parse.GetValue(duration), "--duration")
                ?? NonNegativeSeconds(parse.GetValue(warmup), "--warmup")
                ?? (parse.GetValue(size) > 256 * 1024 * 1024 ? "--size must be at most 256 MiB" : null),
            target => new EchoBenchmark(
                target,
                parse.GetValue(connections),
                parse.GetValue(size),
                parse.GetValue(pipeline),
                TimeSpan.FromSeconds(parse.GetValue(duration)),
                TimeSpan.FromSeconds(parse.GetValue(warmup)),
                parse.GetValue(text),
                parse.GetValue(serverPid)).RunAsync(cancellationToken)));
        return command;
    }

    private static Command CreateBroadcast()
    {
        Option<string> url = UrlOption("ws://127.0.0.1:9000/broadcast");
        Option<int> connections = IntOption("--connections", "Number of receivers (one more connection sends).", 1000);
        Option<int> size = IntOption("--size", "Payload size in bytes (at least 16: timestamp and sequence number).", 1024);
        Option<int> rate = IntOption("--rate", "Messages sent per second.", 100);
        Option<double> duration = SecondsOption("--duration", "Measured seconds.", 10);
        Option<double> warmup = SecondsOption("--warmup", "Seconds of load before measuring.", 1);
        Option<int?> serverPid = ServerPidOption();
        var command = new Command("broadcast", "N receivers on a broadcast endpoint, one sender at R msgs/s: deliveries/s, delivery latency, missing messages.")
        {
            url, connections, size, rate, duration, warmup, serverPid,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(url),
            parse.GetValue(serverPid),
            () => Positive(parse.GetValue(connections), "--connections") ?? Positive(parse.GetValue(rate), "--rate")
                ?? PositiveSeconds(parse.GetValue(duration), "--duration") ?? NonNegativeSeconds(parse.GetValue(warmup), "--warmup")
                ?? (parse.GetValue(size) < BroadcastBenchmark.MinimumSize ? $"--size must be at least {BroadcastBenchmark.MinimumSize} bytes" : null),
            target => new BroadcastBenchmark(
                target,
                parse.GetValue(connections),
                parse.GetValue(size),
                parse.GetValue(rate),
                TimeSpan.FromSeconds(parse.GetValue(duration)),
                TimeSpan.FromSeconds(parse.GetValue(warmup)),
                parse.GetValue(serverPid)).RunAsync(cancellationToken)));
        return command;
    }

    private static Command CreateBackplane()
    {
        var amqp = new Option<string>("--amqp") { Description = "RabbitMQ broker URI, e.g. amqp://guest:guest@127.0.0.1:5672/.", Required = true };
        Option<int> messages = IntOption("--messages", "Messages per run.", 50_000);
        var sizes = new Option<string>("--sizes") { Description = "Payload sizes in bytes, comma-separated.", DefaultValueFactory = _ => "64,1024" };
        var command = new Command("backplane", "Messages/s across two nodes through the RabbitMQ backplane (topic publish on A, WebSocket subscriber on B) per payload size, with a RabbitMQ.Client loop on the same broker as the reference.")
        {
            amqp, messages, sizes,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string uri = parse.GetValue(amqp)!;
            if (!Uri.TryCreate(uri, UriKind.Absolute, out Uri? parsed) || parsed.Scheme is not ("amqp" or "amqps"))
            {
                await Console.Error.WriteLineAsync("error: --amqp must be an amqp:// or amqps:// URI").ConfigureAwait(false);
                return 2;
            }

            var sizeList = new List<int>();
            foreach (string part in (parse.GetValue(sizes) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size) || size < 2 || size > 16 * 1024 * 1024)
                {
                    await Console.Error.WriteLineAsync("error: --sizes must list sizes from 2 bytes to 16 MiB").ConfigureAwait(false);
                    return 2;
                }

                sizeList.Add(size);
            }

            if (sizeList.Count == 0 || Positive(parse.GetValue(messages), "--messages") is { } problem)
            {
                await Console.Error.WriteLineAsync("error: --sizes and --messages must be given").ConfigureAwait(false);
                return 2;
            }

            try
            {
                return await new BackplaneBenchmark(uri, parse.GetValue(messages), sizeList).RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException ex)
            {
                await Console.Error.WriteLineAsync($"error: cannot reach the broker: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static Command CreateIdle()
    {
        Option<string> url = UrlOption("ws://127.0.0.1:9000/echo");
        Option<int> connections = IntOption("--connections", "Number of idle connections.", 10_000);
        var pid = new Option<int>("--pid") { Description = "Server process id: VmRSS is read from /proc/PID/status.", Required = true };
        Option<double> settle = SecondsOption("--settle", "Seconds between the last handshake and the memory sample.", 3);
        var deflate = new Option<int>("--deflate") { Description = "Offer permessage-deflate as browsers do and exchange this many compressed 2 KiB text messages per connection before idling (0: no compression).", DefaultValueFactory = _ => 0 };
        var command = new Command("idle", "Opens N idle connections and reports the server's resident memory per connection (KiB).")
        {
            url, connections, pid, settle, deflate,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(url),
            parse.GetValue(pid),
            () => Positive(parse.GetValue(connections), "--connections") ?? NonNegativeSeconds(parse.GetValue(settle), "--settle"),
            target => new IdleBenchmark(target, parse.GetValue(connections), parse.GetValue(pid), TimeSpan.FromSeconds(parse.GetValue(settle)), Math.Max(0, parse.GetValue(deflate))).RunAsync(cancellationToken)));
        return command;
    }

    private static Command CreateConnectRate()
    {
        Option<string> url = UrlOption("ws://127.0.0.1:9000/echo");
        Option<int> concurrency = IntOption("--concurrency", "Number of connect loops.", 16);
        Option<double> duration = SecondsOption("--duration", "Measured seconds.", 10);
        Option<int?> serverPid = ServerPidOption();
        var command = new Command("connect-rate", "C loops of connect + handshake + close: handshakes/s and handshake latency.")
        {
            url, concurrency, duration, serverPid,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(url),
            parse.GetValue(serverPid),
            () => Positive(parse.GetValue(concurrency), "--concurrency") ?? PositiveSeconds(parse.GetValue(duration), "--duration"),
            target => new ConnectRateBenchmark(target, parse.GetValue(concurrency), TimeSpan.FromSeconds(parse.GetValue(duration)), parse.GetValue(serverPid)).RunAsync(cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(string? url, int? serverPid, Func<string?> validate, Func<BenchTarget, Task<BenchReport>> run)
    {
        if (!BenchTarget.TryParse(url, out BenchTarget? target, out string? urlError))
        {
            return await FailAsync(urlError!, 2).ConfigureAwait(false);
        }

        if (validate() is { } invalid)
        {
            return await FailAsync(invalid, 2).ConfigureAwait(false);
        }

        if (serverPid is { } pid && !ProcessStats.Exists(pid))
        {
            return await FailAsync($"process {pid} does not exist or /proc/{pid}/stat cannot be read", 2).ConfigureAwait(false);
        }

        // One connection first: a refused connection or a rejected handshake is reported clearly, once.
        try
        {
            using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            RawConnection connection = await RawConnection.ConnectAsync(target!, TimeSpan.FromSeconds(10), probe.Token).ConfigureAwait(false);
            await connection.CloseAsync(null, new byte[256], TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (BenchException ex)
        {
            return await FailAsync(ex.Message, 1).ConfigureAwait(false);
        }

        BenchReport report;
        try
        {
            report = await run(target!).ConfigureAwait(false);
        }
        catch (BenchException ex)
        {
            return await FailAsync(ex.Message, 1).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return await FailAsync("interrupted before any figure was measured", 1).ConfigureAwait(false);
        }

        report.Write(Console.Out);
        return report.Get("errors") is long errors && errors > 0 ? 3 : 0;
    }

    private static async Task<int> FailAsync(string message, int exitCode)
    {
        await Console.Error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
        return exitCode;
    }

    private static string? Positive(int value, string name) => value > 0 ? null : $"{name} must be at least 1";

    private static string? NonNegative(int value, string name) => value >= 0 ? null : $"{name} must not be negative";

    private static string? PositiveSeconds(double value, string name) => value > 0 && double.IsFinite(value) ? null : $"{name} must be a positive number of seconds";

    private static string? NonNegativeSeconds(double value, string name) => value >= 0 && double.IsFinite(value) ? null : $"{name} must not be negative";
}
