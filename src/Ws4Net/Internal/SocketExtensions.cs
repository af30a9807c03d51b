using System.Net;
using System.Net.Sockets;

namespace Ws4Net.Internal;

/// <summary>Endpoint lookups that never throw on a socket that is already closed.</summary>
internal static class SocketExtensions
{
    public static string? RemoteEndPointOrNull(this Socket socket) => socket.RemoteEndPointSafe()?.ToString();

    public static EndPoint? RemoteEndPointSafe(this Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return null;
        }
    }
}
