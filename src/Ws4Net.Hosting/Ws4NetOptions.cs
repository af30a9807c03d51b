using Ws4Net.Protocol;

namespace Ws4Net.Hosting;

/// <summary>
/// Settings of Ws4Net under the Generic Host, flat so that they bind from configuration (the
/// <see cref="SectionName"/> section of <c>appsettings.json</c>, environment variables
/// <c>Ws4Net__Port</c>, command line). Checked by <see cref="Ws4NetOptionsValidator"/> when the host
/// starts: an invalid value stops the start with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
/// naming it. Times bind from <c>hh:mm:ss</c> strings. Not thread-safe while being changed.
/// </summary>
public sealed class Ws4NetOptions
{
    /// <summary>The configuration section bound by default: <c>Ws4Net</c>.</summary>
    public const string SectionName = "Ws4Net";

    /// <summary>Gets or sets the IP address the hosted server listens on (default <c>127.0.0.1</c>; <c>0.0.0.0</c> or <c>::</c> for every interface).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Gets or sets the TCP port (default 9000; 0 picks a free one).</summary>
    public int Port { get; set; } = 9000;

    /// <summary>Gets or sets a Unix domain socket path to listen on instead of TCP, or <see langword="null"/>.</summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>Gets or sets the origins allowed to connect (RFC 6455 §10.2); empty allows any.</summary>
    public IList<string> AllowedOrigins { get; set; } = [];

    /// <summary>Gets or sets whether permessage-deflate (RFC 7692) is accepted with the library's defaults (default <see langword="false"/>).</summary>
    public bool Compression { get; set; }

    /// <summary>Gets or sets how long the TLS + HTTP opening handshake may take (default 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a graceful shutdown waits for close handshakes (1001) before aborting
    /// (default 5 s). The host's own shutdown timeout (<c>HostOptions.ShutdownTimeout</c>, 30 s by
    /// default) cuts it shorter when it is shorter.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the largest message accepted, in bytes (default 4 MiB).</summary>
    public long MaxMessageSize { get; set; } = WebSocketProtocolOptions.DefaultMaxMessageSize;

    /// <summary>Gets or sets how long a connection may be quiet before we ping it (default 20 s; <see cref="TimeSpan.Zero"/> disables keepalive).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets how long to wait for the pong before closing with 1011 (default 20 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets after how long without traffic either way a connection is closed with 1001 (default <see cref="TimeSpan.Zero"/>: never).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets the close-handshake timeout (default 5 s).</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long one transport write may take before the connection is aborted (default 30 s).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the send-queue level above which <c>SendAsync</c> waits, in bytes (default 64 KiB).</summary>
    public int SendHighWaterMark { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the hard cap of a connection's send queue, in bytes (default 1 MiB); what happens there is <see cref="BackpressurePolicy"/>.</summary>
    public int MaxBufferedAmount { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets what a non-waiting send (broadcast, publish) does to a peer whose queue is full (default: drop that message for that peer).</summary>
    public WebSocketBackpressurePolicy BackpressurePolicy { get; set; } = WebSocketBackpressurePolicy.DropMessage;

    /// <summary>Gets or sets the most connections the manager registers (count, default 1,000,000).</summary>
    public int MaxConnections { get; set; } = 1_000_000;

    /// <summary>Gets or sets the most live topics (count, default 100,000).</summary>
    public int MaxTopics { get; set; } = 100_000;

    /// <summary>Gets or sets the most topics per connection (count, default 64).</summary>
    public int MaxTopicsPerConnection { get; set; } = 64;

    /// <summary>Gets or sets the most subscribers per topic (count, default 1,000,000).</summary>
    public int MaxSubscribersPerTopic { get; set; } = 1_000_000;

    /// <summary>Gets or sets the longest topic name (characters, default 256).</summary>
    public int MaxTopicLength { get; set; } = 256;
}
