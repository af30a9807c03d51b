using System.CommandLine;
using System.Globalization;
using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// <c>ws4net connect URL</c>: an interactive client. Each line read from standard input is sent as a
/// text message; received messages are printed (binary as length and hex). Commands: <c>/ping [text]</c>,
/// <c>/close [code] [reason]</c>. End of input closes with 1000.
/// </summary>
public static class ConnectCommand
{
    /// <summary>Builds the command.</summary>
    /// <returns>The <c>connect</c> command.</returns>
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "ws:// or wss:// URL." };
        var subprotocols = new Option<string[]>("--subprotocol") { Description = "Subprotocol to offer (repeatable).", AllowMultipleArgumentsPerToken = false };
        var headers = new Option<string[]>("--header", "-H") { Description = "Extra request header as Name:Value (repeatable)." };
        var origin = new Option<string?>("--origin") { Description = "Origin header to send." };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "Do not validate the server's TLS certificate (testing only)." };
        var compress = new Option<bool>("--compress") { Description = "Offer permessage-deflate (RFC 7692)." };
        var timeout = new Option<double>("--connect-timeout") { Description = "Connect timeout in seconds.", DefaultValueFactory = _ => 10 };

        var command = new Command("connect", "Interactive WebSocket client: lines you type are sent as text messages.")
        {
            url, subprotocols, headers, origin, insecure, compress, timeout,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new WebSocketClientOptions
            {
                Origin = parse.GetValue(origin),
                ConnectTimeout = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(timeout))),
                PerMessageDeflate = parse.GetValue(compress) ? new Ws4Net.Protocol.Compression.PerMessageDeflateOptions() : null,
            };
            foreach (string p in parse.GetValue(subprotocols) ?? [])
            {
                options.Subprotocols.Add(p);
            }

            foreach (string h in parse.GetValue(headers) ?? [])
            {
                int colon = h.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    await Console.Error.WriteLineAsync($"error: --header must be Name:Value, got '{h}'").ConfigureAwait(false);
                    return 2;
                }

                options.Headers.Add(new(h[..colon].Trim(), h[(colon + 1)..].Trim()));
            }

            if (parse.GetValue(insecure))
            {
                options.RemoteCertificateValidation = (_, _, _, _) => true;
            }

            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out Uri? target) || target.Scheme is not ("ws" or "wss" or "http" or "https"))
            {
                await Console.Error.WriteLineAsync($"error: '{parse.GetValue(url)}' is not a ws:// or wss:// URL").ConfigureAwait(false);
                return 2;
            }

            WebSocketConnection connection;
            try
            {
                connection = await WebSocketClient.ConnectAsync(target, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketHandshakeException or TimeoutException or System.Net.Sockets.SocketException or IOException
                or System.Security.Authentication.AuthenticationException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"error: cannot connect to {target}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (connection.ConfigureAwait(false))
            {
                Console.Out.WriteLine($"connected to {target}"
                    + (connection.Subprotocol is { } sp ? $" (subprotocol {sp})" : string.Empty)
                    + (connection.PerMessageDeflate is { } deflate ? $" ({deflate})" : string.Empty));
                Task printer = PrintIncomingAsync(connection);
                Task<int> typer = SendTypedLinesAsync(connection, cancellationToken);
                Task first = await Task.WhenAny(printer, typer).ConfigureAwait(false);
                if (first == typer && connection.State == WebSocketConnectionState.Open)
                {
                    await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                }

                WebSocketCloseStatus status = await connection.Completion.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                await printer.ConfigureAwait(false);
                string name = Enum.IsDefined(status.Code) ? $" ({status.Code})" : string.Empty;
                Console.Out.WriteLine($"closed: {(int)status.Code}{name} {status.Reason}".TrimEnd());
                bool clean = !status.InitiatedByPeer
                    || status.Code is WebSocketCloseCode.NormalClosure or WebSocketCloseCode.GoingAway or WebSocketCloseCode.NoStatusReceived;
                return clean && status.Code != WebSocketCloseCode.AbnormalClosure ? 0 : 1;
            }
        });
        return command;
    }

    private static async Task PrintIncomingAsync(WebSocketConnection connection)
    {
        try
        {
            await foreach (WebSocketMessage message in connection.ReadMessagesAsync().ConfigureAwait(false))
            {
                if (message.IsText)
                {
                    Console.Out.WriteLine($"< {message.GetText()}");
                }
                else
                {
                    int shown = Math.Min(message.Payload.Length, 64);
                    string hex = Convert.ToHexString(message.Payload.Span[..shown]);
                    Console.Out.WriteLine($"< [binary {message.Payload.Length} B] {hex}{(shown < message.Payload.Length ? "..." : string.Empty)}");
                }
            }
        }
        catch (InvalidOperationException)
        {
            // CloseAsync took over the receive side.
        }
    }

    private static async Task<int> SendTypedLinesAsync(WebSocketConnection connection, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string? line;
            try
            {
                line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }

            if (line is null || connection.State != WebSocketConnectionState.Open)
            {
                return 0;
            }

            try
            {
                if (line.StartsWith("/ping", StringComparison.Ordinal))
                {
                    await connection.SendPingAsync(Encoding.UTF8.GetBytes(line.Length > 6 ? line[6..] : string.Empty), cancellationToken).ConfigureAwait(false);
                    Console.Out.WriteLine("> ping");
                }
                else if (line.StartsWith("/close", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
                    var code = WebSocketCloseCode.NormalClosure;
                    if (parts.Length > 1 && ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort raw))
                    {
                        code = (WebSocketCloseCode)raw;
                    }

                    await connection.CloseAsync(code, parts.Length > 2 ? parts[2] : null, cancellationToken).ConfigureAwait(false);
                    return 0;
                }
                else
                {
                    await connection.SendTextAsync(line, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            }
            catch (WebSocketClosedException)
            {
                return 0;
            }
        }

        return 0;
    }
}
