using System.Security.Cryptography;
using System.Text;

namespace Ws4Net.Amqp;

/// <summary>
/// The routing keys and message properties of the backplane's wire format (see docs/scale-out.md): a direct
/// exchange; <c>b</c> for broadcasts, <c>t.</c> + topic for topics (<c>h.</c> + SHA-256 hex when the topic is too
/// long for a 255-byte routing key), <c>n.</c> + node id for direct sends. Thread-safe (stateless).
/// </summary>
internal static class RabbitMqRouting
{
    public const string BroadcastKey = "b";
    public const string TopicHeader = "ws4net-topic";
    public const string TargetHeader = "ws4net-target";
    public const string TextType = "text";
    public const string BinaryType = "binary";

    public static string TopicKey(string topic)
    {
        if (Encoding.UTF8.GetByteCount(topic) <= 250)
        {
            return "t." + topic;
        }

        return "h." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(topic)));
    }

    public static string NodeKey(string nodeId) => "n." + nodeId;

    /// <summary>The node id in a connection id (<c>node-counter</c>), or null.</summary>
    public static string? NodeOf(string connectionId)
    {
        int dash = connectionId.LastIndexOf('-');
        return dash > 0 ? connectionId[..dash] : null;
    }
}
