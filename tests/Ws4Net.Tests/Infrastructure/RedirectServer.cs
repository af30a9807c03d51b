using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Ws4Net.Tests;

/// <summary>
/// A raw-socket HTTP server for handshake-redirect tests: for the n-th request (0-based) it writes the
/// response <see cref="Answer"/> returns (for example a 302 with a <c>Location</c>) and closes. Plain or TLS
/// (with <see cref="TestCertificate"/>). Records every request head.
/// </summary>
internal sealed class RedirectServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly bool _secure;
    private readonly Func<int, string, string> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private int _count;

    private RedirectServer(TcpListener listener, bool secure, Func<int, string, string> answer)
    {
        _listener = listener;
        _secure = secure;
        _answer = answer;
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets the request heads received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public Uri Uri(string path = "/") => new($"{(_secure ? "wss" : "ws")}://127.0.0.1:{Port}{path}");

    /// <summary>Starts; <paramref name="answer"/> gets the request index and head and returns the whole response.</summary>
    public static RedirectServer Start(Func<int, string, string> answer, bool secure = false)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new RedirectServer(listener, secure, answer);
    }

    /// <summary>A redirect response with an empty body.</summary>
    public static string Redirect(int status, string location) => $"HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    /// <summary>A 404 response.</summary>
    public const string NotFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

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

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
            try
            {
                Stream stream = _secure ? new SslStream(new NetworkStream(socket, ownsSocket: false)) : new NetworkStream(socket, ownsSocket: false);
                await using (stream)
                {
                    if (stream is SslStream ssl)
                    {
                        await ssl.AuthenticateAsServerAsync(TestCertificate.Certificate).WaitAsync(TimeSpan.FromSeconds(20), _stop.Token);
                    }

                    string head = await ReadHeadAsync(stream, _stop.Token).WaitAsync(TimeSpan.FromSeconds(20), _stop.Token);
                    Requests.Enqueue(head);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(_answer(_count++, head)), _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or TimeoutException)
            {
                // A client that gave up (for example after refusing a downgrade) is not the server's problem.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && head.Length < 16 * 1024)
        {
            await stream.ReadExactlyAsync(one, cancellationToken);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
