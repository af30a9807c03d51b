namespace Ws4Net.Amqp;

/// <summary>The connection state of a <see cref="RabbitMqBackplane"/> to its broker.</summary>
public enum RabbitMqBackplaneState
{
    /// <summary>Created, not started yet (<see cref="RabbitMqBackplane.Start"/>).</summary>
    NotStarted = 0,

    /// <summary>Opening the connection and declaring the exchange, the node's queue and its bindings.</summary>
    Connecting,

    /// <summary>Connected: publishes are forwarded and other nodes' messages are received.</summary>
    Connected,

    /// <summary>The broker is unreachable: the node serves its local connections only, publishes are not forwarded (counted), and it reconnects with exponential backoff and jitter.</summary>
    Disconnected,

    /// <summary>Disposed.</summary>
    Disposed,
}
