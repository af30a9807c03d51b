using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>
/// The hosted samples run as real processes for a moment: they serve, and on SIGTERM the Generic
/// Host's lifetime closes every client with 1001 and the process exits 0.
/// </summary>
public sealed partial class SampleProcessTests
{
    [Fact]
    public async Task HostedChat_relays_between_members_of_a_room_and_stops_gracefully_on_SIGTERM()
    {
        using Process chat = Start("HostedChat.dll", "--Ws4Net:Port=0");
        try
        {
            string url = await ReadUntilAsync(chat, ChatUrl()).WithTimeout(TimeSpan.FromSeconds(30));
            var baseUri = new Uri(url);
            WebSocketConnection ann = await WebSocketClient.ConnectAsync(new Uri(baseUri, "/chat?room=r1&name=ann")).WithTimeout();
            var annInbox = new MessageCollector(ann);
            Assert.StartsWith("* ann joined", (await annInbox.NextAsync()).Text, StringComparison.Ordinal);
            WebSocketConnection bob = await WebSocketClient.ConnectAsync(new Uri(baseUri, "/chat?room=r1&name=bob")).WithTimeout();
            var bobInbox = new MessageCollector(bob);
            Assert.StartsWith("* bob joined", (await bobInbox.NextAsync()).Text, StringComparison.Ordinal);
            Assert.StartsWith("* bob joined", (await annInbox.NextAsync()).Text, StringComparison.Ordinal);

            await ann.SendTextAsync("hi bob").WithTimeout();
            Assert.Equal("ann: hi bob", (await bobInbox.NextAsync()).Text);

            Assert.Equal(0, Kill(chat.Id, 15));
            await Task.WhenAll(annInbox.Loop, bobInbox.Loop).WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, ann.CloseStatus?.Code);
            Assert.Equal(WebSocketCloseCode.GoingAway, bob.CloseStatus?.Code);
            await chat.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
            Assert.Equal(0, chat.ExitCode);
            await ann.DisposeAsync();
            await bob.DisposeAsync();
        }
        finally
        {
            if (!chat.HasExited)
            {
                chat.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Dashboard_serves_its_page_pushes_metrics_to_a_viewer_and_stops_gracefully_on_SIGTERM()
    {
        using Process dashboard = Start("Dashboard.dll", "--Ws4Net:Port=0");
        try
        {
            var page = new Uri(await ReadUntilAsync(dashboard, DashboardUrl()).WithTimeout(TimeSpan.FromSeconds(30)));
            using (var http = new HttpClient())
            {
                Assert.Contains("Server metrics", await http.GetStringAsync(page).WithTimeout(), StringComparison.Ordinal);
            }

            WebSocketConnection viewer = await WebSocketClient.ConnectAsync(new Uri($"ws://{page.Authority}/metrics")).WithTimeout();
            var inbox = new MessageCollector(viewer);
            string metrics = (await inbox.NextAsync(TimeSpan.FromSeconds(10))).Text;
            using (var json = System.Text.Json.JsonDocument.Parse(metrics))
            {
                Assert.Equal(1, json.RootElement.GetProperty("viewers").GetInt32());
                Assert.True(json.RootElement.GetProperty("workingSetMiB").GetDouble() > 0);
            }

            Assert.Equal(0, Kill(dashboard.Id, 15));
            await inbox.Loop.WithTimeout();
            Assert.Equal(WebSocketCloseCode.GoingAway, viewer.CloseStatus?.Code);
            await dashboard.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
            Assert.Equal(0, dashboard.ExitCode);
            await viewer.DisposeAsync();
        }
        finally
        {
            if (!dashboard.HasExited)
            {
                dashboard.Kill(entireProcessTree: true);
            }
        }
    }

    private static Process Start(string dll, params string[] args)
    {
        string path = Path.Combine(AppContext.BaseDirectory, dll);
        Assert.True(File.Exists(path), $"{path} is missing from the test output");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(path);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
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
                // Keep draining stdout so the child never blocks on a full pipe.
                _ = process.StandardOutput.ReadToEndAsync();
                return match.Groups["url"].Value;
            }
        }

        throw new InvalidOperationException($"the sample ended without printing its URL. Output:\n{seen}");
    }

    private static int Kill(int pid, int signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [GeneratedRegex(@"Chat on (?<url>ws://[^/ ]+)/chat")]
    private static partial Regex ChatUrl();

    [GeneratedRegex(@"Dashboard on (?<url>http://[^ ]+/)")]
    private static partial Regex DashboardUrl();
}
