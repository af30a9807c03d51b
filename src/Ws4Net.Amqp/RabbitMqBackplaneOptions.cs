namespace Ws4Net.Amqp;

/// <summary>
/// Settings of a <see cref="RabbitMqBackplane"/>; bound from the <c>Ws4Net:RabbitMq</c> configuration section by
/// <see cref="RabbitMqBackplaneServiceCollectionExtensions"/>. Every buffer has a cap here with a safe default.
/// Checked by <see cref="Validate"/>; do not change an instance a backplane uses.
/// </summary>
public sealed class RabbitMqBackplaneOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Ws4Net:RabbitMq";

    /// <summary>Gets or sets the broker URI (<c>amqp://user:password@host:port/vhost</c>, or <c>amqps://</c>). Default <c>amqp://guest:guest@127.0.0.1:5672/</c>.</summary>
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Gets or sets the exchange of the application (a direct exchange, declared durable by every node): nodes that share it share broadcasts, topics and direct sends. Default <c>ws4net</c>.</summary>
    public string ExchangeName { get; set; } = "ws4net";

    /// <summary>
    /// Gets or sets this node's id (no '-'; at most 200 characters). <see langword="null"/> (the default) keeps
    /// <see cref="WebSocketConnection.NodeId"/> (8 random hex digits); a value is also set as <see cref="WebSocketConnection.NodeId"/>
    /// (process-wide), because direct sends find a connection's node by its id's prefix.
    /// </summary>
    public string? NodeId { get; set; }

    /// <summary>Gets or sets the most messages waiting to be published to the broker (count, default 10,000). Past it, publishes are dropped for the other nodes and counted.</summary>
    public int MaxPendingPublishes { get; set; } = 10_000;

    /// <summary>Gets or sets the most payload bytes waiting to be published to the broker (bytes, default 64 MiB). Past it, publishes are dropped for the other nodes and counted.</summary>
    public long MaxPendingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Gets or sets the largest payload forwarded (bytes, default 16 MiB); larger messages are delivered locally only (counted as dropped).</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Gets or sets the most publishes awaiting the broker's confirm (count, default 1,000); at it the publishing loop waits, and the outgoing buffer fills.</summary>
    public int MaxUnconfirmedPublishes { get; set; } = 1_000;

    /// <summary>Gets or sets the most messages the node's queue holds on the broker (the queue's <c>x-max-length</c>, count, default 100,000); past it the broker drops the oldest.</summary>
    public int MaxQueuedMessages { get; set; } = 100_000;

    /// <summary>Gets or sets the most unacknowledged deliveries in flight to this node (basic.qos prefetch count, default 256), which bounds the client-side receive buffer.</summary>
    public ushort PrefetchCount { get; set; } = 256;

    /// <summary>Gets or sets the first reconnect delay after losing the broker (default 500 ms); each failed attempt doubles it, up to <see cref="MaxReconnectDelay"/>, with a random jitter of up to half the delay.</summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the longest reconnect delay (default 30 s).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks every value.</summary>
    /// <returns>The problems found, one sentence each; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            errors.Add($"Uri must be an absolute amqp:// or amqps:// URI (got '{Uri}').");
        }

        if (string.IsNullOrWhiteSpace(ExchangeName) || ExchangeName.Length > 200)
        {
            errors.Add("ExchangeName must be 1 to 200 characters.");
        }

        if (NodeId is not null && (NodeId.Length == 0 || NodeId.Length > 200 || NodeId.Contains('-', StringComparison.Ordinal)))
        {
            errors.Add("NodeId must be 1 to 200 characters without '-'.");
        }

        if (MaxPendingPublishes < 1)
        {
            errors.Add($"MaxPendingPublishes must be at least 1 (got {MaxPendingPublishes}).");
        }

        if (MaxPendingBytes < 1)
        {
            errors.Add($"MaxPendingBytes must be at least 1 (got {MaxPendingBytes}).");
        }

        if (MaxMessageSize < 1)
        {
            errors.Add($"MaxMessageSize must be at least 1 (got {MaxMessageSize}).");
        }

        if (MaxUnconfirmedPublishes < 1)
        {
            errors.Add($"MaxUnconfirmedPublishes must be at least 1 (got {MaxUnconfirmedPublishes}).");
        }

        if (MaxQueuedMessages < 1)
        {
            errors.Add($"MaxQueuedMessages must be at least 1 (got {MaxQueuedMessages}).");
        }

        if (PrefetchCount < 1)
        {
            errors.Add("PrefetchCount must be at least 1.");
        }

        if (InitialReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < InitialReconnectDelay)
        {
            errors.Add("InitialReconnectDelay must be positive and MaxReconnectDelay at least as long.");
        }

        return errors;
    }
}
