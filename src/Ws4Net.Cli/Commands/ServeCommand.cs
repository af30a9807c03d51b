using System.CommandLine;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ws4Net.Cli.Demo;
using Ws4Net.Hosting;

namespace Ws4Net.Cli.Commands;

/// <summary><c>ws4net serve</c>: runs the demo server (chat page, /echo, /chat, /broadcast) in a Generic Host until Ctrl-C or SIGTERM.</summary>
public static class ServeCommand
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
        var shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "Seconds to wait, on Ctrl-C or SIGTERM, for connections to finish their 1001 close handshake before aborting them.", DefaultValueFactory = _ => 5 };
        var statsInterval = new Option<double>("--stats-interval")
        {
            Description = "Print a 'stats:' line on standard output every this many seconds (managed heap after the last GC, committed bytes, GC counts, open connections), for soak and load tests. 0 (the default) never.",
            DefaultValueFactory = _ => 0,
        };

        var command = new Command("serve", "Serve the chat page at / and the WebSocket endpoints /echo, /chat and /broadcast (a Generic Host app).")
        {
            host, port, cert, key, certPassword, maxMessage, noCompression, contextTakeover, logLevel, keepAlive, keepAliveTimeout, idleTimeout, backpressure, shutdownTimeout, statsInterval,
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

            var options = new DemoServerOptions
            {
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
            Console.Out.WriteLine($"WebSocket endpoints: {ws}://{authority}/chat  {ws}://{authority}/echo  {ws}://{authority}/broadcast");
            Console.Out.WriteLine("Press Ctrl-C to stop.");
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);

            // Ctrl-C / SIGTERM reach the host's lifetime; the hosted server then stops accepting, sends 1001 to
            // every connection after what it had queued, waits up to --shutdown-timeout and aborts the rest.
            IHostApplicationLifetime lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            using CancellationTokenRegistration stop = cancellationToken.Register(lifetime.StopApplication);
            lifetime.ApplicationStopping.Register(() => Console.Out.WriteLine("Stopping: closing every connection with 1001 (going away)..."));
            Task stats = parse.GetValue(statsInterval) > 0
                ? ServerStats.RunAsync(server, TimeSpan.FromSeconds(parse.GetValue(statsInterval)), Console.Out, lifetime.ApplicationStopping)
                : Task.CompletedTask;
            await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await stats.ConfigureAwait(false);
            Console.Out.WriteLine("Stopped.");
            return 0;
        });
        return command;
    }
}
