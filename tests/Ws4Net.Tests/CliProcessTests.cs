using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Client;
using Ws4Net.Protocol;

namespace Ws4Net.Tests;

/// <summary>
/// The main job as a user runs it: the `ws4net` executable in its own process. `serve` prints its URL,
/// serves the page and the endpoints, and on SIGTERM closes every client with 1001 and exits 0;
/// `connect` sends typed lines and exits non-zero with a clear message when it cannot connect.
/// </summary>
public sealed partial class CliProcessTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    [Fact]
    public async Task Serve_prints_its_url_serves_and_stops_gracefully_on_SIGTERM()
    {
        using Process serve = Start("serve", "--port", "0");
        try
        {
            string url = await ReadUntilAsync(serve, UrlPattern()).WithTimeout(TimeSpan.FromSeconds(30));
            var http = new Uri(url);

            using (var client = new HttpClient())
            {
                string page = await client.GetStringAsync(http).WithTimeout();
                Assert.Contains("Ws4Net", page, StringComparison.Ordinal);
            }

            var ws = new Uri($"ws://{http.Authority}/echo");
            await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(ws).WithTimeout();
            await connection.SendTextAsync("ping from a test").WithTimeout();
            Assert.Equal("ping from a test", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());

            Assert.Equal(0, Kill(serve.Id, 15));   // SIGTERM, as a service manager would
            Assert.Null(await connection.ReceiveAsync().WithTimeout());
            Assert.Equal(WebSocketCloseCode.GoingAway, connection.CloseStatus!.Value.Code);
            await serve.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
            Assert.Equal(0, serve.ExitCode);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Connect_fails_with_a_clear_message_and_a_non_zero_exit_code()
    {
        using Process connect = Start("connect", "ws://127.0.0.1:1/");
        connect.StandardInput.Close();
        string stderr = await connect.StandardError.ReadToEndAsync().WithTimeout(TimeSpan.FromSeconds(30));
        await connect.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, connect.ExitCode);
        Assert.Contains("cannot connect to ws://127.0.0.1:1/", stderr, StringComparison.Ordinal);
    }

    private static Process Start(params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing from the test output");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(CliDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
    }

    private static async Task<string> ReadUntilAsync(Process process, Regex pattern)
    {
        var seen = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            seen.AppendLine(line);
            Match match = pattern.Match(line);
            if (match.Success)
            {
                return match.Groups["url"].Value;
            }
        }

        throw new InvalidOperationException($"serve ended without printing its URL. Output:\n{seen}");
    }

    private static int Kill(int pid, int signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [GeneratedRegex(@"Open (?<url>http://[^ ]+/) in a browser")]
    private static partial Regex UrlPattern();
}
