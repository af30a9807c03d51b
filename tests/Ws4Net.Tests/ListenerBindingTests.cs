using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Cli.Demo;
using Ws4Net.Client;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>
/// Binding the listener: a TCP port another socket listens on is an error unless every listener asks to
/// share it (<see cref="WebSocketServerOptions.ReusePort"/>); a port with connections in TIME_WAIT can be
/// bound again; a stale Unix socket file is replaced but a live server's path is not taken over; and
/// <c>ws4net serve</c> on a port in use exits non-zero with a clear message.
/// </summary>
public sealed partial class ListenerBindingTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    [Fact]
    public async Task A_second_server_on_a_port_in_use_fails_with_AddressAlreadyInUse()
    {
        await using var first = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        first.Map("/echo", _ => new EchoHandler());
        await first.StartAsync();
        int port = ((IPEndPoint)first.LocalEndPoint!).Port;

        await using var second = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port) });
        SocketException error = Assert.Throws<SocketException>(() => second.StartAsync().GetAwaiter().GetResult());
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("already in use", error.Message, StringComparison.Ordinal);

        // The first server still serves.
        await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo")).WithTimeout();
        await connection.SendTextAsync("still here").WithTimeout();
        Assert.Equal("still here", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());
    }

    [Fact]
    public async Task A_port_held_by_a_plain_listener_without_reuse_is_refused_even_with_ReusePort()
    {
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        plain.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        plain.Listen();
        int port = ((IPEndPoint)plain.LocalEndPoint!).Port;

        await using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port), ReusePort = true });
        SocketException error = Assert.Throws<SocketException>(() => server.StartAsync().GetAwaiter().GetResult());
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public async Task Servers_that_all_set_ReusePort_share_the_port()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;   // SO_REUSEPORT sharing is a Linux/macOS feature
        }

        await using var first = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), ReusePort = true });
        first.Map("/echo", _ => new EchoHandler());
        await first.StartAsync();
        int port = ((IPEndPoint)first.LocalEndPoint!).Port;

        await using var second = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port), ReusePort = true });
        second.Map("/echo", _ => new EchoHandler());
        await second.StartAsync();
        Assert.Equal(port, ((IPEndPoint)second.LocalEndPoint!).Port);
    }

    [Fact]
    public async Task A_port_whose_connections_are_in_TIME_WAIT_can_be_bound_again()
    {
        int port;
        await using (var first = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) }))
        {
            first.Map("/echo", _ => new EchoHandler());
            await first.StartAsync();
            port = ((IPEndPoint)first.LocalEndPoint!).Port;
            await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/echo")).WithTimeout();
            await connection.SendTextAsync("x").WithTimeout();
            Assert.NotNull(await connection.ReceiveAsync().WithTimeout());

            // Stopping first makes the server close its TCP connection first: its side (on the port) enters TIME_WAIT.
            await first.StopAsync().WithTimeout();
            Assert.Null(await connection.ReceiveAsync().WithTimeout());
        }

        await using var again = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port) });
        await again.StartAsync();
        Assert.Equal(port, ((IPEndPoint)again.LocalEndPoint!).Port);
    }

    [Fact]
    public async Task A_live_servers_unix_socket_is_not_taken_over()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ws4net-{Guid.NewGuid():N}.sock");
        await using var first = new WebSocketServer(new WebSocketServerOptions { UnixSocketPath = path });
        first.Map("/echo", _ => new EchoHandler());
        await first.StartAsync();

        var second = new WebSocketServer(new WebSocketServerOptions { UnixSocketPath = path });
        SocketException error = Assert.Throws<SocketException>(() => second.StartAsync().GetAwaiter().GetResult());
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);

        // Disposing the server that failed to start leaves the live server's file alone.
        await second.DisposeAsync();
        Assert.True(File.Exists(path));

        var options = new WebSocketClientOptions { UnixSocketPath = path };
        await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri("ws://localhost/echo"), options).WithTimeout();
        await connection.SendTextAsync("first still serves").WithTimeout();
        Assert.Equal("first still serves", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());
    }

    [Fact]
    public async Task A_stale_unix_socket_file_is_replaced()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ws4net-{Guid.NewGuid():N}.sock");
        // A socket file that nobody accepts on, as a server that died leaves behind (a socket bound but
        // not listening refuses connections the same way; disposing a Socket would delete the file).
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(path));

        Assert.True(File.Exists(path));
        await using var server = new WebSocketServer(new WebSocketServerOptions { UnixSocketPath = path });
        server.Map("/echo", _ => new EchoHandler());
        await server.StartAsync();

        var options = new WebSocketClientOptions { UnixSocketPath = path };
        await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri("ws://localhost/echo"), options).WithTimeout();
        await connection.SendTextAsync("replaced").WithTimeout();
        Assert.Equal("replaced", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());
    }

    [Fact]
    public async Task Ws4net_serve_on_a_port_in_use_exits_non_zero_with_a_clear_message()
    {
        using Process first = StartCli("serve", "--port", "0");
        try
        {
            string url = await ReadUrlAsync(first).WithTimeout(TimeSpan.FromSeconds(30));
            string port = new Uri(url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

            using Process second = StartCli("serve", "--port", port);
            Task<string> stdout = second.StandardOutput.ReadToEndAsync();
            Task<string> stderr = second.StandardError.ReadToEndAsync();
            await second.WaitForExitAsync().WithTimeout(TimeSpan.FromSeconds(30));
            string output = await stdout + await stderr;
            Assert.Equal(1, second.ExitCode);
            Assert.Contains("cannot start the server", output, StringComparison.Ordinal);
            Assert.Contains("already in use", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Ws4Net is serving", output, StringComparison.Ordinal);
            Assert.False(first.HasExited);
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }

            await first.WaitForExitAsync().WithTimeout();
        }
    }

    private static Process StartCli(params string[] args)
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

    private static async Task<string> ReadUrlAsync(Process process)
    {
        var seen = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            seen.AppendLine(line);
            Match match = UrlPattern().Match(line);
            if (match.Success)
            {
                return match.Groups["url"].Value;
            }
        }

        throw new InvalidOperationException($"serve ended without printing its URL. Output:\n{seen}");
    }

    [GeneratedRegex(@"Open (?<url>http://[^ ]+/) in a browser")]
    private static partial Regex UrlPattern();
}
