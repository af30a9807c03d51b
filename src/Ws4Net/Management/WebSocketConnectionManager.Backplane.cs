using System.Buffers;
using Microsoft.Extensions.Logging;
using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Management;

public sealed partial class WebSocketConnectionManager : IWebSocketBackplaneReceiver
{
    /// <summary>Gets the backplane that carries broadcasts, publishes and direct sends to the other nodes (an <see cref="InProcessWebSocketBackplane"/> with no other node unless one was given).</summary>
    public IWebSocketBackplane Backplane => _backplane;

    /// <summary>
    /// Gets or sets a hook that sees each message from another node before local delivery and may deliver it
    /// itself (return <see langword="true"/>), for example to keep a per-node history. Set it before traffic
    /// starts; <see langword="null"/> (the default) for plain delivery.
    /// </summary>
    public WebSocketRemoteMessageHandler? RemoteMessageHandler { get; set; }

    /// <summary>
    /// Sends a message to one connection by id, on whatever node holds it: here with <see cref="WebSocketConnection.SendAsync(ReadOnlyMemory{byte}, WebSocketMessageKind, bool, CancellationToken)"/>
    /// (waits for queue space), elsewhere through the backplane to the node named by the id's prefix
    /// (<see cref="WebSocketConnection.NodeId"/>), which delivers it with a non-waiting send.
    /// </summary>
    /// <param name="connectionId">The target's <see cref="WebSocketConnection.Id"/>.</param>
    /// <param name="data">The payload (text: UTF-8); copied before the returned task completes.</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="cancellationToken">Cancels the wait for local queue space.</param>
    /// <returns>What happened (see <see cref="WebSocketSendToResult"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connectionId"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not text or binary.</exception>
    /// <exception cref="OperationCanceledException">The token fired while waiting for local queue space.</exception>
    public async ValueTask<WebSocketSendToResult> SendToAsync(string connectionId, ReadOnlyMemory<byte> data, WebSocketMessageKind messageType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        if (messageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType), messageType, "Text or binary.");
        }

        if (TryGetConnection(connectionId, out WebSocketConnection? local))
        {
            if (local.State != WebSocketConnectionState.Open)
            {
                return WebSocketSendToResult.Closed;
            }

            try
            {
                await local.SendAsync(data, messageType, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                return WebSocketSendToResult.Sent;
            }
            catch (WebSocketClosedException)
            {
                return WebSocketSendToResult.Closed;
            }
        }

        int dash = connectionId.LastIndexOf('-');
        if (dash <= 0 || !_backplane.IsForwarding || connectionId.AsSpan(0, dash).SequenceEqual(_backplane.NodeId))
        {
            return WebSocketSendToResult.NotFound;
        }

        var message = new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Direct, null, messageType, data, _backplane.NodeId, connectionId);
        return _backplane.Publish(message) switch
        {
            WebSocketBackplanePublishStatus.Forwarded => WebSocketSendToResult.Forwarded,
            WebSocketBackplanePublishStatus.NoRemoteNodes => WebSocketSendToResult.NotFound,
            _ => WebSocketSendToResult.NotForwarded,
        };
    }

    /// <summary>Sends a text message to one connection by id, on whatever node holds it (see <see cref="SendToAsync(string, ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/>).</summary>
    /// <param name="connectionId">The target's id.</param>
    /// <param name="text">The text (UTF-8 encoded once).</param>
    /// <param name="cancellationToken">Cancels the wait for local queue space.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OperationCanceledException">The token fired while waiting for local queue space.</exception>
    public async ValueTask<WebSocketSendToResult> SendToAsync(string connectionId, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int length = System.Text.Encoding.UTF8.GetBytes(text, buffer);
            return await SendToAsync(connectionId, buffer.AsMemory(0, length), WebSocketMessageKind.Text, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends a prepared message to this node's subscribers of a topic only (not forwarded to other nodes), like
    /// <see cref="Publish(string, WebSocketPreparedMessage, WebSocketConnection?)"/> otherwise. For a
    /// <see cref="RemoteMessageHandler"/> that delivers a remote message itself.
    /// </summary>
    /// <param name="topic">The topic name.</param>
    /// <param name="message">The prepared message; the caller disposes it afterwards.</param>
    /// <param name="except">A subscriber to skip, or <see langword="null"/>.</param>
    /// <returns>The per-subscriber outcome counts.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public WebSocketBroadcastResult PublishLocal(string topic, WebSocketPreparedMessage message, WebSocketConnection? except = null)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(message);
        if (!_topics.TryGetValue(topic, out Topic? live))
        {
            return default;
        }

        var counter = default(BroadcastCounter);
        foreach (WebSocketConnection? subscriber in live.Subscribers.Items)
        {
            if (subscriber is not null && !ReferenceEquals(subscriber, except))
            {
                counter.Add(ManagerSend.Send(subscriber, message));
            }
        }

        return counter.ToResult();
    }

    /// <summary>Sends a prepared message to every connection registered on this node only (not forwarded to other nodes).</summary>
    /// <param name="message">The prepared message; the caller disposes it afterwards.</param>
    /// <param name="except">A connection to skip, or <see langword="null"/>.</param>
    /// <returns>The per-recipient outcome counts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public WebSocketBroadcastResult BroadcastLocal(WebSocketPreparedMessage message, WebSocketConnection? except = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var counter = default(BroadcastCounter);
        foreach (WebSocketConnection? connection in _all.Items)
        {
            if (connection is not null && !ReferenceEquals(connection, except))
            {
                counter.Add(ManagerSend.Send(connection, message));
            }
        }

        return counter.ToResult();
    }

    /// <summary>Delivers a message from another node to the local recipients (encoded once); ignores this node's own messages.</summary>
    /// <param name="message">The message.</param>
    void IWebSocketBackplaneReceiver.Deliver(in WebSocketBackplaneMessage message)
    {
        if (string.Equals(message.OriginNodeId, _backplane.NodeId, StringComparison.Ordinal))
        {
            return;   // this node delivered its own publish locally already
        }

        if (RemoteMessageHandler is { } handler && handler(message))
        {
            return;
        }

        switch (message.Kind)
        {
            case WebSocketBackplaneMessageKind.Broadcast:
                if (_all.Count > 0)
                {
                    using WebSocketPreparedMessage prepared = WebSocketPreparedMessage.Create(message.MessageType, message.Payload.Span);
                    BroadcastLocal(prepared);
                }

                break;
            case WebSocketBackplaneMessageKind.Topic:
                if (_topics.ContainsKey(message.Topic!))
                {
                    using WebSocketPreparedMessage prepared = WebSocketPreparedMessage.Create(message.MessageType, message.Payload.Span);
                    PublishLocal(message.Topic!, prepared);
                }

                break;
            case WebSocketBackplaneMessageKind.Direct:
                if (TryGetConnection(message.TargetConnectionId!, out WebSocketConnection? target))
                {
                    try
                    {
                        target.TrySend(message.Payload, message.MessageType);
                    }
                    catch (InvalidOperationException) when (target.State != WebSocketConnectionState.Open)
                    {
                        // closed meanwhile
                    }
                }
                else
                {
                    LogDirectTargetGone(_logger, message.TargetConnectionId!, message.OriginNodeId);
                }

                break;
        }
    }

    /// <summary>Forwards a local broadcast or publish to the other nodes (the payload is copied by the backplane).</summary>
    private void Forward(WebSocketBackplaneMessageKind kind, string? topic, WebSocketPreparedMessage message)
    {
        if (_backplane.IsForwarding && (kind != WebSocketBackplaneMessageKind.Topic || !string.IsNullOrEmpty(topic)))
        {
            _backplane.Publish(new WebSocketBackplaneMessage(kind, topic, message.Type, message.Payload, _backplane.NodeId, null));
        }
    }

    [LoggerMessage(EventId = 320, Level = LogLevel.Debug, Message = "A direct message from node {Origin} for {ConnectionId} found no such connection here")]
    private static partial void LogDirectTargetGone(ILogger logger, string connectionId, string origin);
}
