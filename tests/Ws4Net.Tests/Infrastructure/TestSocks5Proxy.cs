using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ws4Net.Tests;

/// <summary>
/// A small SOCKS5 proxy (RFC 1928, CONNECT only) for the tests, with optional username/password authentication
/// (RFC 1929). Relays bytes both ways; records each CONNECT target as <c>host:port</c>; answers reply code 5
/// (connection refused) when the target cannot be reached.
/// </summary>
internal sealed class TestSocks5Proxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accept;

    private TestSocks5Proxy(TcpListener listener)
    {
        _listener = listener;
        _accept = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public (string User, string Password)? RequiredCredentials { get; set; }

    /// <summary>Gets the CONNECT targets asked for, as host:port, including refused ones.</summary>
    public ConcurrentQueue<string> Targets { get; } = new();

    public static TestSocks5Proxy Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new TestSocks5Proxy(listener);
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
                byte[] two = new byte[2];
                await stream.ReadExactlyAsync(two, _stop.Token);
                byte[] methods = new byte[two[1]];
                await stream.ReadExactlyAsync(methods, _stop.Token);
                byte wanted = RequiredCredentials is null ? (byte)0 : (byte)2;
                if (two[0] != 5 || Array.IndexOf(methods, wanted) < 0)
                {
                    await stream.WriteAsync(new byte[] { 5, 0xFF }, _stop.Token);
                    return;
                }

                await stream.WriteAsync(new byte[] { 5, wanted }, _stop.Token);
                if (RequiredCredentials is { } required)
                {
                    await stream.ReadExactlyAsync(two, _stop.Token);
                    byte[] user = new byte[two[1]];
                    await stream.ReadExactlyAsync(user, _stop.Token);
                    byte[] length = new byte[1];
                    await stream.ReadExactlyAsync(length, _stop.Token);
                    byte[] password = new byte[length[0]];
                    await stream.ReadExactlyAsync(password, _stop.Token);
                    bool ok = Encoding.UTF8.GetString(user) == required.User && Encoding.UTF8.GetString(password) == required.Password;
                    await stream.WriteAsync(new byte[] { 1, ok ? (byte)0 : (byte)1 }, _stop.Token);
                    if (!ok)
                    {
                        return;
                    }
                }

                byte[] head = new byte[4];
                await stream.ReadExactlyAsync(head, _stop.Token);
                string host;
                if (head[3] == 3)
                {
                    byte[] length = new byte[1];
                    await stream.ReadExactlyAsync(length, _stop.Token);
                    byte[] name = new byte[length[0]];
                    await stream.ReadExactlyAsync(name, _stop.Token);
                    host = Encoding.ASCII.GetString(name);
                }
                else
                {
                    byte[] address = new byte[head[3] == 4 ? 16 : 4];
                    await stream.ReadExactlyAsync(address, _stop.Token);
                    host = new IPAddress(address).ToString();
                }

                byte[] portBytes = new byte[2];
                await stream.ReadExactlyAsync(portBytes, _stop.Token);
                int port = BinaryPrimitives.ReadUInt16BigEndian(portBytes);
                Targets.Enqueue($"{host}:{port}");

                using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await upstream.ConnectAsync(host, port, _stop.Token);
                }
                catch (SocketException)
                {
                    await stream.WriteAsync(new byte[] { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 }, _stop.Token);
                    return;
                }

                await stream.WriteAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 }, _stop.Token);
                await using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
                await Task.WhenAll(RelayAsync(stream, upstreamStream, upstream), RelayAsync(upstreamStream, stream, client));
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
            }
        }
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
}
