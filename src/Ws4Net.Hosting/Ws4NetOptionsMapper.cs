using System.Net;
using Ws4Net.Management;
using Ws4Net.Server;

namespace Ws4Net.Hosting;

/// <summary>Turns the flat, bindable <see cref="Ws4NetOptions"/> into the library's option objects.</summary>
internal static class Ws4NetOptionsMapper
{
    public static WebSocketConnectionManagerOptions ToManagerOptions(Ws4NetOptions options) => new()
    {
        MaxConnections = options.MaxConnections,
        MaxTopics = options.MaxTopics,
        MaxTopicsPerConnection = options.MaxTopicsPerConnection,
        MaxSubscribersPerTopic = options.MaxSubscribersPerTopic,
        MaxTopicLength = options.MaxTopicLength,
        ShutdownTimeout = options.ShutdownTimeout,
    };

    public static void ApplyTo(Ws4NetOptions options, WebSocketServerOptions server)
    {
        if (options.UnixSocketPath is { } path)
        {
            server.UnixSocketPath = path;
        }
        else
        {
            server.EndPoint = new IPEndPoint(IPAddress.Parse(options.Address), options.Port);
        }

        server.HandshakeTimeout = options.HandshakeTimeout;
        server.ShutdownTimeout = options.ShutdownTimeout;
        foreach (string origin in options.AllowedOrigins)
        {
            server.AllowedOrigins.Add(origin);
        }

        if (options.Compression)
        {
            server.PerMessageDeflate ??= new Protocol.Compression.PerMessageDeflateOptions();
        }

        ApplyTo(options, server.Connection);
    }

    public static void ApplyTo(Ws4NetOptions options, WebSocketConnectionOptions connection)
    {
        connection.Protocol.MaxMessageSize = options.MaxMessageSize;
        connection.CloseTimeout = options.CloseTimeout;
        connection.SendTimeout = options.SendTimeout;
        connection.KeepAliveInterval = options.KeepAliveInterval;
        connection.KeepAliveTimeout = options.KeepAliveTimeout;
        connection.IdleTimeout = options.IdleTimeout;
        connection.MaxBufferedAmount = options.MaxBufferedAmount;
        connection.SendHighWaterMark = options.SendHighWaterMark;
        connection.BackpressurePolicy = options.BackpressurePolicy;
    }
}
