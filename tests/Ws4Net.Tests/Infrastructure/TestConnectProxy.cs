using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ws4Net.Tests;

/// <summary>
/// A small HTTP CONNECT proxy (RFC 9110 §9.3.6) for the tests, over raw sockets: answers each CONNECT with
/// 200 and relays bytes both ways, or with 407 when <see cref="RequiredCredentials"/> are set and not
/// presented as Basic <c>Proxy-Authorization</c>, or with the status <see cref="Refuse"/> returns. Records
/// every request head and counts the tunnels it opened.
/// </summary>
internal sealed class TestConnectProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accept;
    private int _tunnels;

    private TestConnectProxy(TcpListener listener)
    {
        _listener = listener;
        _accept = AcceptAsync();
    }

    /// <summary>Gets the proxy's URI (<c>http://127.0.0.1:port</c>).</summary>
    public Uri Uri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>Gets the port.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets or sets the user and password the proxy demands, or <see langword="null"/> for none.</summary>
    public (string User, string Password)? RequiredCredentials { get; set; }

    /// <summary>Gets or sets a rule returning a refusal status for a CONNECT target (<c>host:port</c>), or null to allow it.</summary>
    public Func<string, int?>? Refuse { get; set; }

    /// <summary>Gets the tunnels established so far.</summary>
    public int TunnelCount => Volatile.Read(ref _tunnels);

    /// <summary>Gets every request head received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static TestConnectProxy Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new TestConnectProxy(listener);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _accept.WithTimeout();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(static _ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client = await _listener.AcceptSocketAsync(_stop.Token);
            _connections.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        await using (var stream = new NetworkStream(client, ownsSocket: false))
        {
            try
            {
                string head = await ReadHeadAsync(stream, _stop.Token);
                Requests.Enqueue(head);
                string[] lines = head.Split("\r\n");
                string[] requestLine = lines[0].Split(' ');
                if (requestLine.Length != 3 || requestLine[0] != "CONNECT")
                {
                    await WriteAsync(stream, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }

                string target = requestLine[1];
                if (RequiredCredentials is { } required)
                {
                    string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{required.User}:{required.Password}"));
                    string? presented = lines.FirstOrDefault(l => l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))?["Proxy-Authorization:".Length..].Trim();
                    if (presented != expected)
                    {
                        await WriteAsync(stream, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"ws4net-tests\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }
                }

                if (Refuse?.Invoke(target) is { } status)
                {
                    await WriteAsync(stream, $"HTTP/1.1 {status} Refused By Test Proxy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }

                int colon = target.LastIndexOf(':');
                using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await upstream.ConnectAsync(target[..colon].Trim('[', ']'), int.Parse(target[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), _stop.Token);
                }
                catch (SocketException)
                {
                    await WriteAsync(stream, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }

                Interlocked.Increment(ref _tunnels);
                await WriteAsync(stream, "HTTP/1.1 200 Connection Established\r\n\r\n");
                await using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
                Task up = RelayAsync(stream, upstreamStream, upstream);
                Task down = RelayAsync(upstreamStream, stream, client);
                await Task.WhenAll(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
                // The client or the origin went away, or the proxy is stopping.
            }
        }

        async Task WriteAsync(NetworkStream s, string text) => await s.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
    }

    private async Task RelayAsync(NetworkStream from, NetworkStream to, Socket toSocket)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            try
            {
                toSocket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (head.Length > MaxHeadBytes)
            {
                throw new IOException("request head too large");
            }

            await stream.ReadExactlyAsync(one, cancellationToken);
            head.Append((char)one[0]);
        }

        return head.ToString()[..^4];
    }
}
