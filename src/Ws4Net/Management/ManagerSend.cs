using Ws4Net.Protocol;

namespace Ws4Net.Management;

/// <summary>
/// The only place where the manager talks to a connection's send side: a non-waiting send of a
/// prepared (encode-once) message, and a close queued after what the connection already holds.
/// </summary>
internal static class ManagerSend
{
    public static WebSocketSendStatus Send(WebSocketConnection connection, WebSocketPreparedMessage message)
    {
        try
        {
            return connection.TrySend(message);
        }
        catch (InvalidOperationException) when (connection.State != WebSocketConnectionState.Open)
        {
            // A close that raced with this send (the core refuses frames after its close frame): the peer has left.
            return WebSocketSendStatus.Closed;
        }
    }

    public static void Close(WebSocketConnection connection, WebSocketCloseCode code, string reason)
        => connection.StartClose(code, reason);
}
