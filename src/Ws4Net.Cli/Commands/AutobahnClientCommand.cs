using System.CommandLine;
using System.Globalization;
using Ws4Net.Client;
using Ws4Net.Protocol;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// <c>ws4net autobahn-client</c>: the standard client harness for the Autobahn|Testsuite fuzzing
/// server. Reads the case count from <c>/getCaseCount</c>, then for each case connects to
/// <c>/runCase?case=N&amp;agent=AGENT</c> and echoes every message (same opcode) until the server closes,
/// and finally asks <c>/updateReports?agent=AGENT</c> to write the reports.
/// </summary>
internal static class AutobahnClientCommand
{
    /// <summary>Builds the command.</summary>
    /// <returns>The <c>autobahn-client</c> command.</returns>
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base URL of the fuzzing server.", DefaultValueFactory = _ => "ws://127.0.0.1:9001" };
        var agent = new Option<string>("--agent") { Description = "Agent name in the reports.", DefaultValueFactory = _ => "Ws4Net" };
        var cases = new Option<int?>("--cases") { Description = "Run cases 1..N only (default: all the server has)." };
        var noCompression = new Option<bool>("--no-compression") { Description = "Do not offer permessage-deflate (the 12.x/13.x cases then report unimplemented)." };
        var maxMessage = new Option<long>("--max-message-size") { Description = "Largest message accepted, in bytes.", DefaultValueFactory = _ => 64L * 1024 * 1024 };

        var command = new Command("autobahn-client", "Run the Autobahn|Testsuite fuzzing server's cases against the Ws4Net client.")
        {
            url, agent, cases, maxMessage, noCompression,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string baseUrl = parse.GetValue(url)!.TrimEnd('/');
            string agentName = parse.GetValue(agent)!;
            var options = new WebSocketClientOptions
            {
                PerMessageDeflate = parse.GetValue(noCompression) ? null : new Ws4Net.Protocol.Compression.PerMessageDeflateOptions { Threshold = 0 },
            };
            options.Connection.Protocol.MaxMessageSize = parse.GetValue(maxMessage);
            options.Connection.CloseTimeout = TimeSpan.FromSeconds(10);
            try
            {
                int count = await GetCaseCountAsync(new Uri(baseUrl + "/getCaseCount"), options, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(cases) is int limit)
                {
                    count = Math.Min(count, limit);
                }

                Console.Out.WriteLine($"{count} cases");
                string escapedAgent = Uri.EscapeDataString(agentName);
                for (int i = 1; i <= count; i++)
                {
                    WebSocketCloseInfo status = await RunCaseAsync(new Uri($"{baseUrl}/runCase?case={i}&agent={escapedAgent}"), options, cancellationToken).ConfigureAwait(false);
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"case {i}/{count}: closed {(int)status.Code}"));
                }

                await using (WebSocketConnection reports = await WebSocketClient.ConnectAsync(new Uri($"{baseUrl}/updateReports?agent={escapedAgent}"), options, cancellationToken).ConfigureAwait(false))
                {
                    while (await reports.ReceiveAsync(cancellationToken).ConfigureAwait(false) is not null)
                    {
                    }
                }

                Console.Out.WriteLine("reports updated");
                return 0;
            }
            catch (Exception ex) when (ex is WebSocketConnectException or IOException or FormatException or UriFormatException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> GetCaseCountAsync(Uri uri, WebSocketClientOptions options, CancellationToken cancellationToken)
    {
        await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(uri, options, cancellationToken).ConfigureAwait(false);
        WebSocketMessage? message = await connection.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (message is not { IsText: true } text)
        {
            throw new FormatException("/getCaseCount did not send the case count as a text message.");
        }

        int count = int.Parse(text.GetText().Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        return count;
    }

    private static async Task<WebSocketCloseInfo> RunCaseAsync(Uri uri, WebSocketClientOptions options, CancellationToken cancellationToken)
    {
        WebSocketConnection connection;
        try
        {
            connection = await WebSocketClient.ConnectAsync(uri, options, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketConnectException ex) when (ex.HandshakeException is { } handshake)
        {
            // Some cases fail the opening handshake on purpose; the report records it.
            Console.Out.WriteLine($"handshake refused: {handshake.Reason}");
            return new WebSocketCloseInfo(WebSocketCloseCode.AbnormalClosure, handshake.Reason, true);
        }

        await using (connection.ConfigureAwait(false))
        {
            while (await connection.ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                try
                {
                    await connection.SendAsync(message.Payload, message.Type, message.EndOfMessage, cancellationToken).ConfigureAwait(false);
                }
                catch (WebSocketClosedException)
                {
                    break;
                }
            }

            return await connection.Completion.WaitAsync(options.Connection.CloseTimeout * 2, cancellationToken).ConfigureAwait(false);
        }
    }
}
