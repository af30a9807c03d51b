using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Amqp;

/// <summary>One message waiting in the outgoing buffer: a copy of the payload in a pooled array (returned once published or dropped).</summary>
internal readonly record struct OutgoingMessage(
    WebSocketBackplaneMessageKind Kind,
    string OriginNodeId,
    string? Topic,
    string? TargetConnectionId,
    WebSocketMessageKind MessageType,
    byte[] Buffer,
    int Length);
