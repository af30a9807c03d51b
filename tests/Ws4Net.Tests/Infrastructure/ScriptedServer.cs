using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Ws4Net.Tests;

/// <summary>
/// A hand-written HTTP/WebSocket server for one connection: reads the request head and lets the test
/// script the answer byte by byte (a wrong accept value, an unoffered subprotocol, silence...).
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serve;

    private ScriptedServer(TcpListener listener, Func<string, NetworkStream, CancellationToken, Task> script)
    {
        _listener = listener;
        _serve = ServeAsync(script);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Uri(string path = "/scripted") => new($"ws://127.0.0.1:{Port}{path}");

    /// <summary>Starts listening; <paramref name="script"/> gets the request head and the stream.</summary>
    public static ScriptedServer Start(Func<string, NetworkStream, CancellationToken, Task> script)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ScriptedServer(listener, script);
    }

    /// <summary>The Sec-WebSocket-Accept value for the request's key (RFC 6455 §4.2.2).</summary>
    public static string AcceptFor(string requestHead)
    {
        string key = requestHead.Split("\r\n")
            .First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
        return Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _serve.WithTimeout();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync(Func<string, NetworkStream, CancellationToken, Task> script)
    {
        using TcpClient tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
        NetworkStream stream = tcp.GetStream();
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one, _stop.Token);
            head.Append((char)one[0]);
        }

        await script(head.ToString(), stream, _stop.Token);
    }
}
