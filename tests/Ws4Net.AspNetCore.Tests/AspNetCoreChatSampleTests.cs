using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Ws4Net.AspNetCore.Tests.Infrastructure;
using BclCloseStatus = System.Net.WebSockets.WebSocketCloseStatus;

namespace Ws4Net.AspNetCore.Tests;

/// <summary>samples/AspNetCoreChat as a child process: https (HTTP/1.1 + HTTP/2) and cleartext HTTP/2, identities from a header and a cookie, SIGTERM sends 1001.</summary>
public sealed class AspNetCoreChatSampleTests
{
    [Fact]
    public async Task Members_over_h2c_and_https_chat_under_their_names_and_SIGTERM_closes_them_with_1001()
    {
        using Process chat = Start("AspNetCoreChat.dll", "--port", "0", "--h2c-port", "0");
        try
        {
            List<string> urls = await ReadListeningAsync(chat, 2);
            string https = urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal));
            string h2c = urls.Single(u => u.StartsWith("http://", StringComparison.Ordinal));

            using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
            using var http = new HttpClient(handler);
            string page = await http.GetStringAsync(https + "/");
            Assert.Contains("<h1>Chat</h1>", page, StringComparison.Ordinal);

            using var alice = new ClientWebSocket();
            alice.Options.HttpVersion = HttpVersion.Version20;
            alice.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            alice.Options.SetRequestHeader("X-User", "alice");
            alice.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
            using var h2Invoker = new HttpMessageInvoker(new SocketsHttpHandler());
            await alice.ConnectAsync(new Uri(h2c.Replace("http://", "ws://", StringComparison.Ordinal) + "/chat"), h2Invoker, CancellationToken.None);
            Assert.Equal("* alice joined over HTTP/2 with permessage-deflate", await alice.ReceiveTextAsync());

            using var bob = new ClientWebSocket();
            bob.Options.SetRequestHeader("Cookie", "nick=bob");
            bob.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            await bob.ConnectAsync(new Uri(https.Replace("https://", "wss://", StringComparison.Ordinal) + "/chat"), CancellationToken.None);
            Assert.Equal("* bob joined over HTTP/1.1", await alice.ReceiveTextAsync());
            Assert.Equal("* bob joined over HTTP/1.1", await bob.ReceiveTextAsync());

            await bob.SendTextAsync("hi alice");
            Assert.Equal("bob: hi alice", await alice.ReceiveTextAsync());
            Assert.Equal("bob: hi alice", await bob.ReceiveTextAsync());

            using var echo = new ClientWebSocket();
            echo.Options.HttpVersion = HttpVersion.Version20;
            echo.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            await echo.ConnectAsync(new Uri(h2c.Replace("http://", "ws://", StringComparison.Ordinal) + "/echo"), h2Invoker, CancellationToken.None);
            await echo.SendTextAsync("echo me");
            Assert.Equal("echo me", await echo.ReceiveTextAsync());

            Assert.Equal(0, Kill(chat.Id, 15));
            Assert.Equal(BclCloseStatus.EndpointUnavailable, await alice.ReceiveCloseAsync());
            Assert.Equal(BclCloseStatus.EndpointUnavailable, await bob.ReceiveCloseAsync());
            Assert.Equal(BclCloseStatus.EndpointUnavailable, await echo.ReceiveCloseAsync());
            await alice.CloseOutputAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
            await bob.CloseOutputAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
            await echo.CloseOutputAsync(BclCloseStatus.NormalClosure, null, CancellationToken.None);
            Assert.True(chat.WaitForExit(30_000), "the sample did not exit after SIGTERM");
        }
        finally
        {
            if (!chat.HasExited)
            {
                chat.Kill(entireProcessTree: true);
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

    private static async Task<List<string>> ReadListeningAsync(Process process, int count)
    {
        var urls = new List<string>();
        var seen = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            const string prefix = "Listening on ";
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                urls.Add(line[prefix.Length..].Trim());
                if (urls.Count == count)
                {
                    _ = process.StandardOutput.ReadToEndAsync();
                    return urls;
                }
            }
        }

        throw new InvalidOperationException($"the sample ended without printing its addresses. Output:\n{seen}");
    }

    private static int Kill(int pid, int signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {pid}")!;
        kill.WaitForExit();
        return kill.ExitCode;
    }
}
