using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using Ws4Net.Cli.Demo;

namespace Ws4Net.Cli.Commands;

/// <summary><c>ws4net serve</c>: runs the demo server (chat page, /echo, /chat, /broadcast) until Ctrl-C or SIGTERM.</summary>
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
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };

        var command = new Command("serve", "Serve the chat page at / and the WebSocket endpoints /echo, /chat and /broadcast.")
        {
            host, port, cert, key, certPassword, maxMessage, noCompression, logLevel,
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

            using ILoggerFactory loggers = LoggerFactory.Create(b => b
                .SetMinimumLevel(parse.GetValue(logLevel))
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                }));

            var options = new DemoServerOptions
            {
                Host = address,
                Port = parse.GetValue(port),
                CertificatePath = parse.GetValue(cert)?.FullName,
                KeyPath = parse.GetValue(key)?.FullName,
                CertificatePassword = parse.GetValue(certPassword),
                MaxMessageSize = parse.GetValue(maxMessage),
                PerMessageDeflate = parse.GetValue(noCompression) ? null : new Ws4Net.Protocol.Compression.PerMessageDeflateOptions { ServerNoContextTakeover = true },
                LoggerFactory = loggers,
            };

            Server.WebSocketServer server;
            try
            {
                server = DemoServer.Create(options);
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
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

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C or SIGTERM.
            }

            Console.Out.WriteLine("Stopping: closing every connection with 1001 (going away)...");
            await server.DisposeAsync().ConfigureAwait(false);
            Console.Out.WriteLine("Stopped.");
            return 0;
        });
        return command;
    }
}
