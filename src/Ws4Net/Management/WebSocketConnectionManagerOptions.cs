namespace Ws4Net.Management;

/// <summary>
/// Limits of a <see cref="WebSocketConnectionManager"/>. Every table a peer can grow (connections, topics,
/// subscribers, topics per connection) has a cap here with a safe default. Checked by
/// <see cref="Validate"/> when the manager is created; do not change an instance a manager uses.
/// </summary>
public sealed class WebSocketConnectionManagerOptions
{
    /// <summary>Gets or sets the most connections registered at once (count, default 1,000,000). Beyond it <see cref="WebSocketConnectionManager.Add"/> refuses the connection.</summary>
    public int MaxConnections { get; set; } = 1_000_000;

    /// <summary>Gets or sets the most distinct live topics (count, default 100,000). An empty topic does not count: it is released.</summary>
    public int MaxTopics { get; set; } = 100_000;

    /// <summary>Gets or sets the most topics one connection may hold (count, default 64).</summary>
    public int MaxTopicsPerConnection { get; set; } = 64;

    /// <summary>Gets or sets the most subscribers of one topic (count, default 1,000,000).</summary>
    public int MaxSubscribersPerTopic { get; set; } = 1_000_000;

    /// <summary>Gets or sets the longest topic name (UTF-16 characters, default 256).</summary>
    public int MaxTopicLength { get; set; } = 256;

    /// <summary>Gets or sets how long <see cref="WebSocketConnectionManager.ShutdownAsync(CancellationToken)"/> waits for close handshakes before aborting (default 5 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every value.</summary>
    /// <returns>The problems found, one sentence each; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxConnections < 1)
        {
            errors.Add($"MaxConnections must be at least 1 (got {MaxConnections}).");
        }

        if (MaxTopics < 1)
        {
            errors.Add($"MaxTopics must be at least 1 (got {MaxTopics}).");
        }

        if (MaxTopicsPerConnection < 1)
        {
            errors.Add($"MaxTopicsPerConnection must be at least 1 (got {MaxTopicsPerConnection}).");
        }

        if (MaxSubscribersPerTopic < 1)
        {
            errors.Add($"MaxSubscribersPerTopic must be at least 1 (got {MaxSubscribersPerTopic}).");
        }

        if (MaxTopicLength < 1)
        {
            errors.Add($"MaxTopicLength must be at least 1 (got {MaxTopicLength}).");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"ShutdownTimeout must not be negative (got {ShutdownTimeout}).");
        }

        return errors;
    }
}
