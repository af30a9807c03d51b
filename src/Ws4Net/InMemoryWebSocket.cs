using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Ws4Net.Internal;
using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// Connections over in-memory transports: a connected client/server pair for tests and in-process
/// links, and connections over any <see cref="IDuplexPipe"/> (for example a Kestrel or
/// System.IO.Pipelines transport) on which the opening handshake has already happened. Thread-safe.
/// </summary>
public static class InMemoryWebSocket
{
    /// <summary>
    /// Creates a client and a server connection joined by two in-memory pipes, already open (no
    /// opening handshake). Every frame still goes through the full protocol: masking, validation,
    /// the close handshake.
    /// </summary>
    /// <param name="options">Options for both connections; <see langword="null"/> for the defaults.</param>
    /// <param name="pipeOptions">Pipe settings (buffer thresholds in bytes); <see langword="null"/> for <see cref="PipeOptions.Default"/>.</param>
    /// <returns>The two connections; dispose both.</returns>
    public static (WebSocketConnection Client, WebSocketConnection Server) CreatePair(WebSocketConnectionOptions? options = null, PipeOptions? pipeOptions = null)
    {
        var toServer = new Pipe(pipeOptions ?? PipeOptions.Default);
        var toClient = new Pipe(pipeOptions ?? PipeOptions.Default);
        var clientSide = new DuplexPipe(toClient.Reader, toServer.Writer);
        var serverSide = new DuplexPipe(toServer.Reader, toClient.Writer);
        return (FromDuplexPipe(clientSide, WebSocketRole.Client, options), FromDuplexPipe(serverSide, WebSocketRole.Server, options));
    }

    /// <summary>Creates an open connection over a duplex pipe whose opening handshake is done.</summary>
    /// <param name="transport">The transport: frames are read from its input and written to its output.</param>
    /// <param name="role">Client (masks its frames) or server.</param>
    /// <param name="options">Limits, buffers and timeouts; <see langword="null"/> for the defaults.</param>
    /// <param name="subprotocol">The negotiated subprotocol, or <see langword="null"/>.</param>
    /// <param name="logger">Where the connection logs, or <see langword="null"/>.</param>
    /// <returns>The connection; disposing it completes the pipe's reader and writer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="transport"/> is null.</exception>
    public static WebSocketConnection FromDuplexPipe(IDuplexPipe transport, WebSocketRole role, WebSocketConnectionOptions? options = null, string? subprotocol = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return new WebSocketConnection(new Internal.Transports.PipeTransport(transport), role, options, null, subprotocol, logger, null);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
