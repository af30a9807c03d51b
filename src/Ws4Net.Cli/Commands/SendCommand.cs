using System.CommandLine;
using System.Text;
using Ws4Net.Client;
using Ws4Net.Protocol;

namespace Ws4Net.Cli.Commands;

/// <summary>
/// <c>ws4net send URL MESSAGE</c>: one-shot use for scripts. Connects, sends MESSAGE as one text message
/// (<c>-</c> reads the whole of standard input instead, less one trailing line break), optionally prints the first N replies, closes with
/// 1000 and exits 0 when all of it succeeded; 1 when the connection failed, closed early or a reply is missing;
/// 2 on a usage error.
/// </summary>
internal static class SendCommand
{
    /// <summary>The largest message read from standard input, in UTF-16 characters (16 Mi).</summary>
    private const int MaxStdinChars = 16 * 1024 * 1024;

    /// <summary>Builds the command.</summary>
    /// <returns>The <c>send</c> command.</returns>
    public static Command Create()
    {
        var set = new ClientOptionSet();
        var message = new Argument<string>("message") { Description = "The text to send; '-' reads it from standard input." };
        var binary = new Option<bool>("--binary") { Description = "Send the UTF-8 bytes as a binary message instead of text." };
        var replies = new Option<int>("--replies", "-n") { Description = "Wait for and print this many messages before closing.", DefaultValueFactory = _ => 0 };
        var replyTimeout = new Option<double>("--reply-timeout") { Description = "Seconds to wait for the replies.", DefaultValueFactory = _ => 10 };
        var command = new Command("send", "Send one message and exit (for scripts): exit code 0 when it was sent and the connection closed cleanly.");
        set.AddTo(command);
        command.Add(message);
        command.Add(binary);
        command.Add(replies);
        command.Add(replyTimeout);

        command.SetAction(async (parse, cancellationToken) =>
        {
            (Uri? target, WebSocketClientOptions? options, string? usage) = set.Build(parse);
            if (usage is null && parse.GetValue(replies) < 0)
            {
                usage = "--replies must not be negative";
            }

            if (usage is not null)
            {
                await Console.Error.WriteLineAsync($"error: {usage}").ConfigureAwait(false);
                return 2;
            }

            string text = parse.GetValue(message) ?? string.Empty;
            if (text == "-")
            {
                var input = new StringBuilder();
                char[] chunk = new char[64 * 1024];
                int read;
                while ((read = await Console.In.ReadAsync(chunk.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    input.Append(chunk, 0, read);
                    if (input.Length > MaxStdinChars)
                    {
                        await Console.Error.WriteLineAsync($"error: standard input holds more than {MaxStdinChars} characters").ConfigureAwait(false);
                        return 2;
                    }
                }

                // One trailing line break (as `echo` writes) is not part of the message.
                text = input.ToString();
                text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
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
                try
                {
                    if (parse.GetValue(binary))
                    {
                        await connection.SendBinaryAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await connection.SendTextAsync(text, cancellationToken).ConfigureAwait(false);
                    }

                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wait.CancelAfter(TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(replyTimeout))));
                    for (int i = 0; i < parse.GetValue(replies); i++)
                    {
                        WebSocketMessage? reply = await connection.ReceiveAsync(wait.Token).ConfigureAwait(false);
                        if (reply is not { } m)
                        {
                            await Console.Error.WriteLineAsync($"error: the connection closed after {i} of {parse.GetValue(replies)} replies").ConfigureAwait(false);
                            return 1;
                        }

                        Console.Out.WriteLine(m.IsText ? m.GetText() : Convert.ToHexString(m.Payload.Span));
                    }

                    await connection.CloseAsync(WebSocketCloseCode.NormalClosure, null, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync("error: timed out waiting for the replies").ConfigureAwait(false);
                    return 1;
                }
                catch (WebSocketClosedException ex)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                    return 1;
                }

                WebSocketCloseInfo status = await connection.Completion.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                return status.Code is WebSocketCloseCode.NormalClosure or WebSocketCloseCode.GoingAway ? 0 : 1;
            }
        });
        return command;
    }
}
