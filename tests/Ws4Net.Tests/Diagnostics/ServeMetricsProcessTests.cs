using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Client;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>
/// <c>ws4net serve --metrics</c> in its own process prints a live line every second from its own meter:
/// the open connection, the echoed messages in and out, and the p50/p99 round-trip time of its keepalive pings.
/// </summary>
public sealed partial class ServeMetricsProcessTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    [Fact]
    public async Task Serve_with_metrics_prints_connections_rates_and_ping_percentiles_every_second()
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing from the test output");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (string arg in new[] { CliDll, "serve", "--port", "0", "--metrics", "--keepalive", "0.3" })
        {
            info.ArgumentList.Add(arg);
        }

        using Process serve = Process.Start(info)!;
        var lines = new List<string>();
        try
        {
            string? url = null;
            while (url is null && await serve.StandardOutput.ReadLineAsync().WithTimeout(TimeSpan.FromSeconds(30)) is { } line)
            {
                lines.Add(line);
                url = UrlPattern().Match(line) is { Success: true } m ? m.Groups["url"].Value : null;
            }

            Assert.True(url is not null, "serve printed no URL:\n" + string.Join("\n", lines));
            var ws = new Uri($"ws://{new Uri(url).Authority}/echo");
            await using WebSocketConnection client = await WebSocketClient.ConnectAsync(ws).WithTimeout();

            // Bursts of echoes with pauses longer than --keepalive (the server pings after that much silence);
            // a reader loop drains the echoes and answers the pings at once.
            using var stop = new CancellationTokenSource();
            Task reader = Task.Run(async () =>
            {
                while (await client.ReceiveAsync() is not null)
                {
                }
            });
            Task traffic = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    for (int i = 0; i < 20; i++)
                    {
                        await client.SendTextAsync("metrics please");
                    }

                    await Task.Delay(600);
                }
            });

            Match? seen = null;
            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (seen is null && DateTime.UtcNow < deadline && await serve.StandardOutput.ReadLineAsync().WithTimeout(TimeSpan.FromSeconds(30)) is { } line)
            {
                lines.Add(line);
                Match match = MetricsLine().Match(line);
                if (match.Success && match.Groups["rtt"].Success && int.Parse(match.Groups["in"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0)
                {
                    seen = match;
                }
            }

            await stop.CancelAsync();
            await traffic.WithTimeout();
            await client.CloseAsync().WithTimeout();
            await reader.WithTimeout();
            Assert.True(seen is not null, "no metrics line with traffic and a ping round-trip time:\n" + string.Join("\n", lines));
            Assert.Equal("1", seen.Groups["connections"].Value);
            Assert.True(int.Parse(seen.Groups["out"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
            Assert.True(double.Parse(seen.Groups["p99"].Value, System.Globalization.CultureInfo.InvariantCulture) >= double.Parse(seen.Groups["p50"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
                await serve.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
            }
        }
    }

    [GeneratedRegex(@"Open (?<url>http://[^ ]+/) in a browser")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"^metrics: connections (?<connections>\d+) \| msgs/s in (?<in>\d+) out (?<out>\d+) \| MiB/s in \d+\.\d\d out \d+\.\d\d \| ping rtt (?:(?<rtt>p50 (?<p50>\d+\.\d\d) ms p99 (?<p99>\d+\.\d\d) ms)|p50 - p99 - \(no pong yet\))$")]
    private static partial Regex MetricsLine();
}
