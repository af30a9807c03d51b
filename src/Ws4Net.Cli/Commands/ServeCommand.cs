using System.CommandLine;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net.Cli.Demo;
using Ws4Net.Cli.Diagnostics;
using Ws4Net.Hosting;

namespace Ws4Net.Cli.Commands;

/// <summary><c>ws4net serve</c>: runs the demo server (chat page, /echo, /chat, /broadcast) in a Generic Host until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    /// <returns>The <c>serve</c> command.</returns>
    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0 picks a free one).", DefaultValueFactory = _ => 9000 };
        var cert = new Option<FileInfo?>("--cert") { Description = "TLS certificate: a PEM file (with --key) or a PFX file. Enables wss://." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key for --cert." };
        var certPassword = new Option<string?>("--cert-password") { Description = "Password of a PFX --cert." };
        var maxMessage = new Option<long>("--max-message-size") { Description = "Largest message accepted, in bytes.", DefaultValueFactory = _ => DemoServerOptions.DefaultMaxMessageSize };
        var noCompression = new Option<bool>("--no-compression") { Description = "Decline permessage-deflate (RFC 7692) even when clients offer it." };
        var contextTakeover = new Option<bool>("--deflate-context-takeover") { Description = "Keep the server's compressor context between messages (better ratio on similar messages, about 256 KiB more per compressed connection). Default: server_no_context_takeover." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level (per-connection lines are Debug).", DefaultValueFactory = _ => LogLevel.Information };
        var keepAlive = new Option<double>("--keepalive") { Description = "Seconds of silence before the server pings a connection; no pong within --keepalive-timeout closes it with 1011. 0 disables.", DefaultValueFactory = _ => 20 };
        var keepAliveTimeout = new Option<double>("--keepalive-timeout") { Description = "Seconds to wait for the keepalive pong.", DefaultValueFactory = _ => 20 };
        var idleTimeout = new Option<double>("--idle-timeout") { Description = "Seconds without traffic either way before a connection is closed with 1001. 0 (the default) never.", DefaultValueFactory = _ => 0 };
        var backpressure = new Option<string>("--backpressure")
        {
            Description = "What /chat and /broadcast do to a member whose send queue is full (a slow browser tab): drop (it misses that message), close (1008 policy violation) or retry (1013 try again later).",
            DefaultValueFactory = _ => "drop",
        };
        backpressure.AcceptOnlyFromAmong("drop", "close", "retry");
        var metrics = new Option<bool>("--metrics") { Description = "Print a live line every second: open connections, messages/s and MiB/s in and out, p50/p99 ping round-trip time (from the Ws4Net meter)." };
        var amqp = new Option<string?>("--amqp") { Description = "RabbitMQ broker URI (amqp://user:password@host:port/vhost): /chat, /broadcast and /pubsub then span every node started with the same URI and exchange." };
        var amqpExchange = new Option<string>("--amqp-exchange") { Description = "The RabbitMQ exchange the nodes share.", DefaultValueFactory = _ => "ws4net" };
        var amqpMaxReconnect = new Option<double>("--amqp-max-reconnect-delay") { Description = "Longest delay, in seconds, between reconnection attempts after losing the broker (exponential backoff with jitter from 0.5 s).", DefaultValueFactory = _ => 30 };
        var nodeId = new Option<string?>("--node-id") { Description = "This node's id: the prefix of its connection ids (no '-'). Default: 8 random hex digits." };
        var shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "Seconds to wait, on Ctrl-C or SIGTERM, for connections to finish their 1001 close handshake before aborting them.", DefaultValueFactory = _ => 5 };
        var statsInterval = new Option<double>("--stats-interval")
        {
            Description = "Print a 'stats:' line on standard output every this many seconds (managed heap after the last GC, committed bytes, GC counts, open connections), for soak and load tests. 0 (the default) never.",
            DefaultValueFactory = _ => 0,
        };

        var command = new Command("serve", "Serve the chat page at / and the WebSocket endpoints /echo, /chat, /broadcast and /pubsub (a Generic Host app; --amqp spans nodes).")
        {
            host, port, cert, key, certPassword, maxMessage, noCompression, contextTakeover, logLevel, keepAlive, keepAliveTimeout, idleTimeout, backpressure, shutdownTimeout, metrics, amqp, amqpExchange, amqpMaxReconnect, nodeId, statsInterval,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(host), out IPAddress? address))
            {
                await Console.Error.WriteLineAsync($"error: --host must be an IP address, got '{parse.GetValue(host)}'").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(maxMessage) < 1)
            {
                await Console.Error.WriteLineAsync("error: --max-message-size must be at least 1 byte").ConfigureAwait(false);
                return 2;
            }

            foreach ((string name, double value) in new[] { ("--keepalive", parse.GetValue(keepAlive)), ("--keepalive-timeout", parse.GetValue(keepAliveTimeout)), ("--idle-timeout", parse.GetValue(idleTimeout)), ("--shutdown-timeout", parse.GetValue(shutdownTimeout)), ("--stats-interval", parse.GetValue(statsInterval)) })
            {
                if (value < 0 || double.IsNaN(value) || value > TimeSpan.MaxValue.TotalSeconds / 2)
                {
                    await Console.Error.WriteLineAsync($"error: {name} must be a number of seconds >= 0").ConfigureAwait(false);
                    return 2;
                }
            }

            if (parse.GetValue(amqp) is { } amqpUri && (!Uri.TryCreate(amqpUri, UriKind.Absolute, out Uri? parsed) || parsed.Scheme is not ("amqp" or "amqps")))
            {
                await Console.Error.WriteLineAsync($"error: --amqp must be an amqp:// or amqps:// URI, got '{amqpUri}'").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(nodeId) is { } node && (node.Length == 0 || node.Contains('-', StringComparison.Ordinal)))
            {
                await Console.Error.WriteLineAsync("error: --node-id must be non-empty and contain no '-'").ConfigureAwait(false);
                return 2;
            }

            double maxReconnect = parse.GetValue(amqpMaxReconnect);
            if (!(maxReconnect >= 0.5 && maxReconnect <= 3600))
            {
                await Console.Error.WriteLineAsync("error: --amqp-max-reconnect-delay must be 0.5 to 3600 seconds").ConfigureAwait(false);
                return 2;
            }

            var options = new DemoServerOptions
            {
                AmqpUri = parse.GetValue(amqp),
                AmqpExchange = parse.GetValue(amqpExchange) ?? "ws4net",
                AmqpMaxReconnectDelay = TimeSpan.FromSeconds(maxReconnect),
                NodeId = parse.GetValue(nodeId),
                Host = address,
                Port = parse.GetValue(port),
                CertificatePath = parse.GetValue(cert)?.FullName,
                KeyPath = parse.GetValue(key)?.FullName,
                CertificatePassword = parse.GetValue(certPassword),
                MaxMessageSize = parse.GetValue(maxMessage),
                PerMessageDeflate = parse.GetValue(noCompression) ? null : new Ws4Net.Protocol.Compression.PerMessageDeflateOptions { ServerNoContextTakeover = !parse.GetValue(contextTakeover) },
                KeepAliveInterval = TimeSpan.FromSeconds(parse.GetValue(keepAlive)),
                KeepAliveTimeout = TimeSpan.FromSeconds(parse.GetValue(keepAliveTimeout) > 0 ? parse.GetValue(keepAliveTimeout) : 20),
                IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(idleTimeout)),
                BackpressurePolicy = parse.GetValue(backpressure) switch
                {
                    "close" => WebSocketBackpressurePolicy.ClosePolicyViolation,
                    "retry" => WebSocketBackpressurePolicy.CloseTryAgainLater,
                    _ => WebSocketBackpressurePolicy.DropMessage,
                },
            };

            // Listening starts before the server, so that the sum of the active-connections counter starts at zero.
            using LiveMetrics? live = parse.GetValue(metrics) ? new LiveMetrics() : null;
            using IHost app = DemoHost.Build(options, parse.GetValue(logLevel), TimeSpan.FromSeconds(parse.GetValue(shutdownTimeout)));
            Server.WebSocketServer server;
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                server = app.Services.GetRequiredService<Ws4NetHostedServer>().Server;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or System.Security.Cryptography.CryptographicException)
            {
                await Console.Error.WriteLineAsync($"error: cannot start the server: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            var bound = (IPEndPoint)server.LocalEndPoint!;
            string scheme = options.CertificatePath is null ? "http" : "https";
            string ws = options.CertificatePath is null ? "ws" : "wss";
            string authority = bound.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{bound.Address}]:{bound.Port}" : $"{bound.Address}:{bound.Port}";
            Console.Out.WriteLine($"Ws4Net is serving. Open {scheme}://{authority}/ in a browser.");
            Console.Out.WriteLine($"WebSocket endpoints: {ws}://{authority}/chat  {ws}://{authority}/echo  {ws}://{authority}/broadcast  {ws}://{authority}/pubsub");
            if (options.AmqpUri is not null)
            {
                Console.Out.WriteLine($"Node {WebSocketConnection.NodeId}: /chat, /broadcast and /pubsub span every node on exchange '{options.AmqpExchange}' (RabbitMQ backplane, at-most-once across nodes).");
            }

            Console.Out.WriteLine("Press Ctrl-C to stop.");
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            // Ctrl-C / SIGTERM reach the host's lifetime; the hosted server then stops accepting, sends 1001 to
            // every connection after what it had queued, waits up to --shutdown-timeout and aborts the rest.
            IHostApplicationLifetime lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            using CancellationTokenRegistration stop = cancellationToken.Register(lifetime.StopApplication);
            lifetime.ApplicationStopping.Register(() => Console.Out.WriteLine("Stopping: closing every connection with 1001 (going away)..."));
            using var stopMetrics = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
            Task printing = live?.RunAsync(Console.Out, TimeSpan.FromSeconds(1), stopMetrics.Token) ?? Task.CompletedTask;
            Task stats = parse.GetValue(statsInterval) > 0
                ? ServerStats.RunAsync(server, TimeSpan.FromSeconds(parse.GetValue(statsInterval)), Console.Out, lifetime.ApplicationStopping)
                : Task.CompletedTask;
            await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await stopMetrics.CancelAsync().ConfigureAwait(false);
            await printing.ConfigureAwait(false);
            await stats.ConfigureAwait(false);
            Console.Out.WriteLine("Stopped.");
            return 0;
        });
        return command;
    }
}
