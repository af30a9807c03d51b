using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Ws4Net.Bench.Kestrel;

/// <summary>
/// The <c>/broadcast</c> endpoint: every message received is relayed to every connected client (sender
/// included). Each client has a bounded queue drained by its own writer; when a client's queue is full the
/// message is dropped for that client only. Thread-safe.
/// </summary>
internal sealed class BroadcastHub
{
    private const int QueueCapacity = 4096;
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly Lock _sync = new();
    private Member[] _members = [];

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var member = new Member(socket);
        Add(member);
        Task writer = member.WriteLoopAsync(context.RequestAborted);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        try
        {
            int length = 0;
            while (true)
            {
                ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                length += received.Count;
                if (!received.EndOfMessage)
                {
                    if (length == buffer.Length)
                    {
                        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    continue;
                }

                // One copy per message, shared by every member's queue.
                Relay(new Outgoing(buffer.AsSpan(0, length).ToArray(), received.MessageType));
                length = 0;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }
        finally
        {
            Remove(member);
            member.Queue.Writer.TryComplete();
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await writer.ConfigureAwait(false);
        if (socket.State is WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                // The client went away.
            }
        }
    }

    private void Relay(Outgoing message)
    {
        foreach (Member member in Volatile.Read(ref _members))
        {
            member.Queue.Writer.TryWrite(message);   // full: dropped for this member only
        }
    }

    private void Add(Member member)
    {
        lock (_sync)
        {
            _members = [.. _members, member];
        }
    }

    private void Remove(Member member)
    {
        lock (_sync)
        {
            _members = Array.FindAll(_members, m => m != member);
        }
    }

    private readonly record struct Outgoing(byte[] Payload, WebSocketMessageType Type);

    private sealed class Member(WebSocket socket)
    {
        public Channel<Outgoing> Queue { get; } = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.DropWrite,
        });

        public async Task WriteLoopAsync(CancellationToken cancellationToken)
        {
            try
            {
                ChannelReader<Outgoing> reader = Queue.Reader;
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (reader.TryRead(out Outgoing message))
                    {
                        await socket.SendAsync(message.Payload.AsMemory(), message.Type, true, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ChannelClosedException)
            {
                // The client went away.
            }
        }
    }
}
