using System.Net;
using Microsoft.Extensions.Logging;

namespace Ws4Net.Cli.Demo;

/// <summary>Settings of the demo server that <c>ws4net serve</c> runs. Not thread-safe while being changed.</summary>
internal sealed class DemoServerOptions
{
    /// <summary>The default maximum message size of the demo endpoints: 16 MiB (what the Autobahn suite sends).</summary>
    public const long DefaultMaxMessageSize = 16 * 1024 * 1024;

    /// <summary>Gets or sets the address to listen on (default 127.0.0.1).</summary>
    public IPAddress Host { get; set; } = IPAddress.Loopback;

    /// <summary>Gets or sets the TCP port (default 9000; 0 picks a free port).</summary>
    public int Port { get; set; } = 9000;

    /// <summary>Gets or sets a PEM certificate file or a PFX/PKCS#12 file for wss, or <see langword="null"/> for plain ws.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Gets or sets the PEM private key file that goes with a PEM <see cref="CertificatePath"/>, or <see langword="null"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Gets or sets the password of a PFX file, or <see langword="null"/>.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Gets or sets the largest message accepted on every endpoint, in bytes (default 16 MiB).</summary>
    public long MaxMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>
    /// Gets or sets the permessage-deflate settings the endpoints accept (RFC 7692), or <see langword="null"/> to
    /// decline compression. Default: accepted, the server resetting its compressor after every message
    /// (<c>server_no_context_takeover</c>: no compressor per connection, so thousands of browser tabs cost little),
    /// the client keeping its context, 15-bit windows, 1 KiB threshold.
    /// </summary>
    public Ws4Net.Protocol.Compression.PerMessageDeflateOptions? PerMessageDeflate { get; set; } = new() { ServerNoContextTakeover = true };

    /// <summary>Gets or sets where the server logs, or <see langword="null"/>.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the manager the connections join, or <see langword="null"/> for one per server.</summary>
    public Ws4Net.Management.WebSocketConnectionManager? Manager { get; set; }

    /// <summary>Gets or sets how long a connection may be quiet before the server pings it (default 20 s; <see cref="TimeSpan.Zero"/> disables keepalive).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets how long to wait for the keepalive pong before closing with 1011 (default 20 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets after how long without traffic a connection is closed with 1001 (default <see cref="TimeSpan.Zero"/>: never).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets what happens to a chat or broadcast member whose send queue is full (default: it misses that message).</summary>
    public WebSocketBackpressurePolicy BackpressurePolicy { get; set; } = WebSocketBackpressurePolicy.DropMessage;

    /// <summary>Gets or sets the RabbitMQ broker URI that makes <c>/chat</c>, <c>/broadcast</c> and <c>/pubsub</c> span every node started with it (<c>--amqp</c>), or <see langword="null"/> for this node only.</summary>
    public string? AmqpUri { get; set; }

    /// <summary>Gets or sets the RabbitMQ exchange the nodes share (default <c>ws4net</c>).</summary>
    public string AmqpExchange { get; set; } = "ws4net";

    /// <summary>Gets or sets the longest delay between reconnection attempts to the broker (default 30 s).</summary>
    public TimeSpan AmqpMaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets this node's id (the prefix of its connection ids; no '-'), or <see langword="null"/> for a random one.</summary>
    public string? NodeId { get; set; }
}
