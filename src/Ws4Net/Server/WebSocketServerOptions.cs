using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Server;

/// <summary>
/// Settings of a <see cref="WebSocketServer"/>: where it listens, TLS, handshake limits and timeouts,
/// the connection options and the plain-HTTP fallback. Every limit has a safe default. Configure it
/// before <see cref="WebSocketServer.StartAsync"/>; not thread-safe while being changed.
/// </summary>
public sealed class WebSocketServerOptions
{
    private int _maxConcurrentHandshakes = 10_000;
    private TimeSpan _handshakeTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _shutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the TCP endpoint to listen on (default 127.0.0.1:9000; port 0 picks a free port).</summary>
    public IPEndPoint EndPoint { get; set; } = new(IPAddress.Loopback, 9000);

    /// <summary>
    /// Gets or sets a Unix domain socket path to listen on instead of TCP, or <see langword="null"/>. An existing
    /// file at the path is replaced when no server accepts connections on it (a stale socket left by a server that
    /// died); when one does, <see cref="WebSocketServer.StartAsync"/> throws a
    /// <see cref="System.Net.Sockets.SocketException"/> (<see cref="System.Net.Sockets.SocketError.AddressAlreadyInUse"/>).
    /// The server deletes the file when it stops.
    /// </summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>
    /// Gets or sets whether several listeners (in this process or others) may share <see cref="EndPoint"/>'s port
    /// (default <see langword="false"/>). Off, binding a port another socket listens on makes
    /// <see cref="WebSocketServer.StartAsync"/> throw a <see cref="System.Net.Sockets.SocketException"/>
    /// (<see cref="System.Net.Sockets.SocketError.AddressAlreadyInUse"/>); a port whose old connections are only in
    /// TIME_WAIT can always be bound again. On, the listener sets
    /// <see cref="System.Net.Sockets.SocketOptionName.ReuseAddress"/>: on Linux and macOS that is
    /// <c>SO_REUSEADDR</c> and <c>SO_REUSEPORT</c>, and the kernel spreads new connections over every listener
    /// that set it (all of them must, and on Linux run as the same user); on Windows it is <c>SO_REUSEADDR</c>,
    /// which lets another socket take the port over. Ignored for <see cref="UnixSocketPath"/>.
    /// </summary>
    public bool ReusePort { get; set; }

    /// <summary>Gets or sets the server certificate (with private key) for TLS (wss); <see langword="null"/> for plain ws.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Gets or sets the TLS versions allowed (default: the operating system's choice).</summary>
    public SslProtocols SslProtocols { get; set; } = SslProtocols.None;

    /// <summary>
    /// Gets or sets how many connections may be in the opening handshake (TLS + HTTP) at once (count, default
    /// 1024). Accepting never waits: a socket accepted while this many handshakes are in progress cuts off the
    /// one that has been pending longest (disconnected without an answer, counted in
    /// <see cref="WebSocketServer.HandshakesEvicted"/>), so slow peers (slowloris, clients that never finish
    /// TLS) cannot make new clients queue. Bounds the memory of the handshake phase (about 17 KiB per pending
    /// plain handshake in <c>ws4net serve</c>, more with TLS).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxConcurrentHandshakes
    {
        get => _maxConcurrentHandshakes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxConcurrentHandshakes = value;
        }
    }

    /// <summary>Gets or sets how long the TLS and HTTP opening handshake may take, measured from accept (default 10 s); slower peers are disconnected without an answer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public TimeSpan HandshakeTimeout
    {
        get => _handshakeTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _handshakeTimeout = value;
        }
    }

    /// <summary>Gets or sets how long <see cref="WebSocketServer.StopAsync"/> waits for connections to finish their close handshake (1001) before aborting them (default 5 s).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan ShutdownTimeout
    {
        get => _shutdownTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _shutdownTimeout = value;
        }
    }

    /// <summary>Gets or sets the limits on the HTTP request head (line lengths, header count, total size).</summary>
    public HttpHeadLimits HeadLimits { get; set; } = new();

    /// <summary>Gets or sets the options of each accepted connection (message limits, buffers, close timeout).</summary>
    public WebSocketConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Gets or sets the answer to requests that are not WebSocket upgrades (for example a browser
    /// asking for <c>/</c>). Returning <see langword="null"/>, or leaving this unset, answers 404.
    /// Called concurrently from many connections: it must be thread-safe.
    /// </summary>
    public Func<HttpRequestHead, HttpFallbackResponse?>? HttpFallback { get; set; }

    /// <summary>
    /// Gets or sets what the server accepts of permessage-deflate (RFC 7692), or <see langword="null"/> (the default) to
    /// decline compression. Browsers offer it on every connection; see docs/compression.md for the memory each mode costs.
    /// </summary>
    public Protocol.Compression.PerMessageDeflateOptions? PerMessageDeflate { get; set; }

    /// <summary>Gets or sets the origins allowed to open WebSockets (RFC 6455 §10.2); empty allows any origin.</summary>
    public IList<string> AllowedOrigins { get; set; } = [];

    /// <summary>Gets or sets the services handler factories may use (dependency injection), or <see langword="null"/>.</summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>Gets or sets where the server and its connections log; <see langword="null"/> for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets the manager accepted connections join (registry, broadcast, topics, shutdown), or
    /// <see langword="null"/> (the default) for one per server. Share one instance to manage the
    /// connections of several servers together.
    /// </summary>
    public Management.WebSocketConnectionManager? Manager { get; set; }
}
