namespace Ws4Net.Backplane;

/// <summary>Where a <see cref="WebSocketBackplaneMessage"/> goes on the node that receives it.</summary>
public enum WebSocketBackplaneMessageKind
{
    /// <summary>To every connection registered with the receiving node's manager (<see cref="Management.WebSocketConnectionManager.Broadcast(Protocol.WebSocketPreparedMessage, WebSocketConnection?)"/>).</summary>
    Broadcast = 0,

    /// <summary>To the receiving node's subscribers of <see cref="WebSocketBackplaneMessage.Topic"/>.</summary>
    Topic = 1,

    /// <summary>To the one connection whose id is <see cref="WebSocketBackplaneMessage.TargetConnectionId"/>, on the node that holds it.</summary>
    Direct = 2,
}
