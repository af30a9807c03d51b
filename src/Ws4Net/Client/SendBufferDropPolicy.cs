namespace Ws4Net.Client;

/// <summary>What a <see cref="ReconnectingWebSocketClient"/> does with a message sent while disconnected when its send buffer is full.</summary>
public enum SendBufferDropPolicy
{
    /// <summary>Refuse the new message: the send returns <see langword="false"/>; what is buffered stays.</summary>
    DropNewest = 0,

    /// <summary>Discard the oldest buffered messages until the new one fits: the send returns <see langword="true"/>.</summary>
    DropOldest,
}
