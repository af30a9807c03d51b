using System.Net.Sockets;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// One client connection on a raw <see cref="Socket"/>: TCP connect and the HTTP/1.1 upgrade (built and
/// checked with <see cref="ClientHandshake"/>), then plain send/receive of pre-built frames. No
/// library connection, no per-message allocation. Not thread-safe, except that one sender and one
/// receiver may run at the same time.
/// </summary>
internal sealed class RawConnection : IDisposable
{
    private static readonly HttpHeadLimits s_limits = new();

    private RawConnection(Socket socket, byte[] leftover, uint mask)
    {
        Socket = socket;
        Leftover = leftover;
        Mask = mask;
    }

    /// <summary>Gets the socket.</summary>
    public Socket Socket { get; }

    /// <summary>Gets whether permessage-deflate was agreed in the handshake.</summary>
    public bool Deflate { get; private init; }

    /// <summary>Gets the bytes the server sent right after its handshake response (frames), often empty.</summary>
    public byte[] Leftover { get; }

    /// <summary>Gets this connection's masking key (fixed for the connection).</summary>
    public uint Mask { get; }

    /// <summary>Connects and performs the opening handshake.</summary>
    /// <param name="target">The server.</param>
    /// <param name="timeout">Bound on connect plus handshake.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="BenchException">Refused, timed out, or the handshake was rejected.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<RawConnection> ConnectAsync(BenchTarget target, TimeSpan timeout, CancellationToken cancellationToken)
        => ConnectAsync(target, timeout, offerDeflate: false, cancellationToken);

    /// <summary>Connects and performs the opening handshake, optionally offering permessage-deflate as browsers do.</summary>
    /// <param name="target">The server.</param>
    /// <param name="timeout">Bound on connect + handshake.</param>
    /// <param name="offerDeflate">Offer <c>permessage-deflate; client_max_window_bits</c> (RFC 7692), what every browser sends.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The open connection; <see cref="Deflate"/> tells whether compression was agreed.</returns>
    /// <exception cref="BenchException">Refused, timed out, or the handshake was rejected.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<RawConnection> ConnectAsync(BenchTarget target, TimeSpan timeout, bool offerDeflate, CancellationToken cancellationToken)
    {
        var socket = new Socket(target.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(target.EndPoint, deadline.Token).ConfigureAwait(false);
            var handshake = new ClientHandshake(target.Uri, new ClientHandshakeOptions
            {
                PerMessageDeflate = offerDeflate ? new Ws4Net.Protocol.Compression.PerMessageDeflateOptions() : null,
            });
            await SendAllAsync(socket, handshake.BuildRequest(), deadline.Token).ConfigureAwait(false);

            byte[] buffer = new byte[4096];
            int filled = 0;
            while (true)
            {
                if (filled == buffer.Length)
                {
                    throw new BenchException("handshake rejected: the response head is larger than 4 KiB");
                }

                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new BenchException("handshake rejected: the server closed the connection before answering");
                }

                filled += read;
                HttpHeadParseResult<HttpResponseHead> parsed = HttpHeadParser.ParseResponse(buffer.AsSpan(0, filled), s_limits);
                if (parsed.Status == HttpHeadParseStatus.Incomplete)
                {
                    continue;
                }

                if (!parsed.IsComplete)
                {
                    throw new BenchException($"handshake rejected: invalid HTTP response ({parsed.ErrorReason})");
                }

                ClientHandshakeResult result = handshake.ValidateResponse(parsed.Head!);
                byte[] leftover = buffer.AsSpan(parsed.Consumed, filled - parsed.Consumed).ToArray();
                return new RawConnection(socket, leftover, (uint)Random.Shared.Next() | 0x01010101u) { Deflate = result.PerMessageDeflate is not null };
            }
        }
        catch (Exception ex)
        {
            socket.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw ex switch
            {
                BenchException => ex,
                OperationCanceledException => new BenchException($"cannot connect to {target.Uri}: no handshake within {timeout.TotalSeconds:0.#} s", ex),
                SocketException socketError => new BenchException($"cannot connect to {target.Uri}: {socketError.SocketErrorCode} ({socketError.Message})", ex),
                WebSocketHandshakeException => new BenchException($"handshake rejected by {target.Uri}: {ex.Message}", ex),
                _ => new BenchException($"cannot connect to {target.Uri}: {ex.Message}", ex),
            };
        }
    }

    /// <summary>Opens <paramref name="count"/> connections, at most <paramref name="concurrency"/> handshakes at a time.</summary>
    /// <param name="target">The server.</param>
    /// <param name="count">How many connections.</param>
    /// <param name="concurrency">How many handshakes may be in progress at once.</param>
    /// <param name="cancellationToken">Cancels the whole operation.</param>
    /// <returns>The open connections.</returns>
    /// <param name="offerDeflate">Offer permessage-deflate as browsers do.</param>
    /// <exception cref="BenchException">One connection failed; the others are closed.</exception>
    public static async Task<RawConnection[]> ConnectManyAsync(BenchTarget target, int count, int concurrency, CancellationToken cancellationToken, bool offerDeflate = false)
    {
        var connections = new RawConnection?[count];
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancellationToken },
                async (i, token) => connections[i] = await ConnectAsync(target, TimeSpan.FromSeconds(10), offerDeflate, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch
        {
            foreach (RawConnection? connection in connections)
            {
                connection?.Dispose();
            }

            throw;
        }

        return connections!;
    }

    /// <summary>Sends every byte of <paramref name="data"/>.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Cancels the send (the socket is then unusable).</param>
    /// <returns>A task that completes when all bytes are handed to the kernel.</returns>
    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>Sends every byte of <paramref name="data"/> on this connection.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when all bytes are handed to the kernel.</returns>
    public ValueTask SendAllAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => SendAllAsync(Socket, data, cancellationToken);

    /// <summary>
    /// The closing handshake: sends a close frame (1000) and reads, discarding data, until the server's close
    /// frame, then on to the end of the stream (the server closes TCP first, RFC 6455 §7.1.1, so the client
    /// keeps no TIME_WAIT), bounded by <paramref name="timeout"/>; then closes the socket.
    /// </summary>
    /// <param name="parser">The connection's parser (its state continues), or <see langword="null"/> for a fresh one.</param>
    /// <param name="buffer">A scratch receive buffer.</param>
    /// <param name="timeout">Bound on the whole close.</param>
    /// <returns>Whether the server answered with a close frame or closed TCP in time.</returns>
    public async Task<bool> CloseAsync(ServerFrameParser? parser, Memory<byte> buffer, TimeSpan timeout)
    {
        parser ??= new ServerFrameParser(keepPrefix: false);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await SendAllAsync(ClientFrames.NormalClosure(Mask), deadline.Token).ConfigureAwait(false);
            while (true)
            {
                int read = await Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return true;
                }

                if (!parser.CloseReceived)
                {
                    parser.Feed(buffer.Span[..read]);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
        {
            return parser.CloseReceived;
        }
        finally
        {
            Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Socket.Dispose();
}
