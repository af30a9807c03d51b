using System.CommandLine;
using System.Globalization;
using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// <c>ws4net connect URL</c>: an interactive client. Each line read from standard input is sent as a
/// text message; received messages are printed (binary as length and hex), and pongs with their round-trip
/// time. Commands: <c>/ping [text]</c>, <c>/close [code] [reason]</c>. End of input closes with 1000.
/// </summary>
internal static class ConnectCommand
{
    /// <summary>Builds the command.</summary>
    /// <returns>The <c>connect</c> command.</returns>
    public static Command Create()
    {
        var set = new ClientOptionSet();
        var command = new Command("connect", "Interactive WebSocket client: lines you type are sent as text messages; /ping [text] shows the pong's round-trip time.");
        set.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            (Uri? target, WebSocketClientOptions? options, string? usage) = set.Build(parse);
            if (usage is not null)
            {
                await Console.Error.WriteLineAsync($"error: {usage}").ConfigureAwait(false);
                return 2;
            }

            WebSocketConnection connection;
            try
            {
                connection = await WebSocketClient.ConnectAsync(target!, options, cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketConnectException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ClientOptionSet.Describe(ex)}").ConfigureAwait(false);
                return 1;
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"error: cannot connect to {target}: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            await using (connection.ConfigureAwait(false))
            {
                Console.Out.WriteLine($"connected to {target}"
                    + (connection.Subprotocol is { } sp ? $" (subprotocol {sp})" : string.Empty)
                    + (connection.PerMessageDeflate is { } deflate ? $" ({deflate})" : string.Empty));
                var printer = new ConsoleHandler();
                Task<WebSocketCloseInfo> run = connection.RunAsync(printer, CancellationToken.None);
                Task typer = SendTypedLinesAsync(connection, printer, cancellationToken);
                Task first = await Task.WhenAny(run, typer).ConfigureAwait(false);
                if (first == typer && connection.State == WebSocketConnectionState.Open)
                {
                    await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                }

                WebSocketCloseInfo status = await run.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                string name = Enum.IsDefined(status.Code) ? $" ({status.Code})" : string.Empty;
                Console.Out.WriteLine($"closed: {(int)status.Code}{name} {status.Reason}".TrimEnd());
                bool clean = !status.InitiatedByPeer
                    || status.Code is WebSocketCloseCode.NormalClosure or WebSocketCloseCode.GoingAway or WebSocketCloseCode.NoStatusReceived;
                return clean && status.Code != WebSocketCloseCode.AbnormalClosure ? 0 : 1;
            }
        });
        return command;
    }

    private static async Task SendTypedLinesAsync(WebSocketConnection connection, ConsoleHandler printer, CancellationToken cancellationToken)
    {
        int pings = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string? line;
            try
            {
                line = await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (line is null || connection.State != WebSocketConnectionState.Open)
            {
                return;
            }

            try
            {
                if (line.StartsWith("/ping", StringComparison.Ordinal))
                {
                    string text = line.Length > 6 ? line[6..] : string.Create(CultureInfo.InvariantCulture, $"ws4net-{++pings}");
                    byte[] payload = Encoding.UTF8.GetBytes(text);
                    printer.PingSent(payload);
                    await connection.SendPingAsync(payload, cancellationToken).ConfigureAwait(false);
                    Console.Out.WriteLine($"> ping {text}");
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
                    return;
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
                return;
            }
        }
    }
}
