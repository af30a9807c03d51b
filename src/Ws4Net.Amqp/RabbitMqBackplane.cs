using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Ws4Net.Backplane;
using Ws4Net.Protocol;

namespace Ws4Net.Amqp;

/// <summary>
/// An <see cref="IWebSocketBackplane"/> over RabbitMQ (AMQP 0-9-1): broadcasts, topic publishes and direct
/// sends of a <see cref="Management.WebSocketConnectionManager"/> reach every node that uses the same broker and exchange.
/// </summary>
/// <remarks>
/// <para>Topology: one direct exchange per application (<see cref="RabbitMqBackplaneOptions.ExchangeName"/>); one
/// exclusive, auto-delete, server-named queue per node (capped by <c>x-max-length</c>), bound to <c>b</c>
/// (broadcasts), <c>n.</c>+node id (direct sends) and <c>t.</c>+topic for each topic with local subscribers (bound
/// on the first local subscriber, unbound after the last). Every message carries the origin node id in its
/// <c>app-id</c> property; a node ignores its own messages, which it delivered locally already.</para>
/// <para>Guarantees: at-most-once across nodes (a message published while the broker is unreachable, or dropped at a
/// cap, is not forwarded; it is counted and logged); one node's publishes reach every other node in publish order
/// (one channel, one queue per node, one consumer delivering sequentially). Publisher confirms are enabled: the
/// broker's acks and nacks are counted and bound the publishes in flight (<see cref="RabbitMqBackplaneOptions.MaxUnconfirmedPublishes"/>).</para>
/// <para>Broker loss: the node keeps serving its local connections and local topics; it reconnects on its own with
/// exponential backoff and jitter (the client library's automatic recovery is off), re-declares its queue and
/// bindings, and logs how many messages were not forwarded meanwhile.</para>
/// <para>Memory: the outgoing buffer holds at most <see cref="RabbitMqBackplaneOptions.MaxPendingPublishes"/> messages
/// and <see cref="RabbitMqBackplaneOptions.MaxPendingBytes"/> bytes (pooled copies); past either a publish is dropped for
/// the other nodes and counted. Incoming deliveries in flight are bounded by the prefetch count.</para>
/// <para>Metrics: the meter <c>Ws4Net.Amqp</c> (counters <c>ws4net.backplane.forwarded</c>, <c>.received</c>,
/// <c>.dropped</c>, <c>.not_forwarded</c>, gauge <c>.connected</c>, tagged with the node id), and <see cref="GetStatistics"/>.</para>
/// <para>Thread-safety: every public member is thread-safe.</para>
/// </remarks>
public sealed partial class RabbitMqBackplane : IWebSocketBackplane, IAsyncDisposable
{
    private readonly RabbitMqBackplaneOptions _options;
    private readonly ILogger _logger;
    private readonly ConnectionFactory _factory;
    private readonly Channel<OutgoingMessage> _outgoing;
    private readonly ConcurrentDictionary<string, byte> _topics = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _bindingSignal = new(0);
    private readonly SemaphoreSlim _confirmSignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Meter _meter;
    private readonly Lock _stateSync = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IWebSocketBackplaneReceiver? _receiver;
    private Task? _run;
    private int _state;
    private long _pendingBytes;

    // counters (Interlocked)
    private long _forwarded;
    private long _confirmed;
    private long _nacked;
    private long _received;
    private long _skippedOwn;
    private long _droppedFull;
    private long _notForwarded;
    private long _connects;

    // per connection (publish loop and ack handler)
    private readonly Dictionary<string, string> _topicKeys = new(StringComparer.Ordinal);   // publish loop only
    private readonly Lock _settleSync = new();
    private readonly SortedSet<long> _settledAhead = [];
    private long _published;
    private long _settledUpTo;

    /// <summary>Creates the backplane (not connected yet: call <see cref="Start"/>, or let the hosted service do it).</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where it logs (category <c>Ws4Net.Amqp</c>); <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> is invalid (see <see cref="RabbitMqBackplaneOptions.Validate"/>).</exception>
    public RabbitMqBackplane(RabbitMqBackplaneOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? new RabbitMqBackplaneOptions();
        IReadOnlyList<string> errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        if (_options.NodeId is { } nodeId)
        {
            WebSocketConnection.NodeId = nodeId;
        }

        NodeId = WebSocketConnection.NodeId;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Ws4Net.Amqp");
        _factory = new ConnectionFactory
        {
            Uri = new Uri(_options.Uri),
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ClientProvidedName = "ws4net-" + NodeId,
            RequestedHeartbeat = TimeSpan.FromSeconds(10),
        };
        _outgoing = Channel.CreateBounded<OutgoingMessage>(new BoundedChannelOptions(_options.MaxPendingPublishes)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        _meter = new Meter("Ws4Net.Amqp");
        var tags = new KeyValuePair<string, object?>[] { new("ws4net.node", NodeId) };
        _meter.CreateObservableCounter("ws4net.backplane.forwarded", () => new Measurement<long>(Volatile.Read(ref _forwarded), tags), "{message}", "Messages published to the broker");
        _meter.CreateObservableCounter("ws4net.backplane.received", () => new Measurement<long>(Volatile.Read(ref _received), tags), "{message}", "Messages from other nodes delivered locally");
        _meter.CreateObservableCounter("ws4net.backplane.dropped", () => new Measurement<long>(Volatile.Read(ref _droppedFull), tags), "{message}", "Messages not forwarded: outgoing buffer full");
        _meter.CreateObservableCounter("ws4net.backplane.not_forwarded", () => new Measurement<long>(Volatile.Read(ref _notForwarded), tags), "{message}", "Messages not forwarded: broker unreachable");
        _meter.CreateObservableGauge("ws4net.backplane.connected", () => new Measurement<int>(State == RabbitMqBackplaneState.Connected ? 1 : 0, tags), null, "1 while connected to the broker");
    }

    /// <inheritdoc />
    public string NodeId { get; }

    /// <summary>Gets <see langword="true"/>: other nodes may be listening (even while disconnected, so that what is not forwarded is counted).</summary>
    public bool IsForwarding => true;

    /// <summary>Gets the options.</summary>
    public RabbitMqBackplaneOptions Options => _options;

    /// <summary>Gets the connection state.</summary>
    public RabbitMqBackplaneState State => (RabbitMqBackplaneState)Volatile.Read(ref _state);

    /// <summary>Gets the number of messages waiting in the outgoing buffer (count).</summary>
    public int PendingPublishes => _outgoing.Reader.Count;

    /// <summary>Gets a snapshot of the counters.</summary>
    /// <returns>The counts since creation.</returns>
    public RabbitMqBackplaneStatistics GetStatistics() => new(
        State,
        Volatile.Read(ref _forwarded),
        Volatile.Read(ref _confirmed),
        Volatile.Read(ref _nacked),
        Volatile.Read(ref _received),
        Volatile.Read(ref _skippedOwn),
        Volatile.Read(ref _droppedFull),
        Volatile.Read(ref _notForwarded),
        Volatile.Read(ref _connects));

    /// <inheritdoc />
    public void Attach(IWebSocketBackplaneReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("A receiver is already attached to this backplane.");
        }
    }

    /// <summary>Starts connecting in the background (returns at once; a broker that is down is retried with backoff). Idempotent.</summary>
    /// <exception cref="ObjectDisposedException">The backplane was disposed.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(State == RabbitMqBackplaneState.Disposed, this);
        lock (_stateSync)
        {
            _run ??= Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>Waits until the backplane is connected to its broker (for tests and start-up checks).</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>Completes when connected.</returns>
    /// <exception cref="OperationCanceledException">The token fired first.</exception>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateSync)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public WebSocketBackplanePublishStatus Publish(in WebSocketBackplaneMessage message)
    {
        int length = message.Payload.Length;
        if (length > _options.MaxMessageSize)
        {
            Interlocked.Increment(ref _droppedFull);
            return WebSocketBackplanePublishStatus.BufferFull;
        }

        RabbitMqBackplaneState state = State;
        if (state != RabbitMqBackplaneState.Connected)
        {
            if (state == RabbitMqBackplaneState.Disposed)
            {
                return WebSocketBackplanePublishStatus.Disposed;
            }

            Interlocked.Increment(ref _notForwarded);
            return WebSocketBackplanePublishStatus.Disconnected;
        }

        if (Interlocked.Add(ref _pendingBytes, length) > _options.MaxPendingBytes)
        {
            Interlocked.Add(ref _pendingBytes, -length);
            Interlocked.Increment(ref _droppedFull);
            return WebSocketBackplanePublishStatus.BufferFull;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        message.Payload.Span.CopyTo(buffer);
        var item = new OutgoingMessage(message.Kind, message.OriginNodeId, message.Topic, message.TargetConnectionId, message.MessageType, buffer, length);
        if (!_outgoing.Writer.TryWrite(item))
        {
            Release(item);
            Interlocked.Increment(ref _droppedFull);
            return WebSocketBackplanePublishStatus.BufferFull;
        }

        return WebSocketBackplanePublishStatus.Forwarded;
    }

    /// <inheritdoc />
    public void AddTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (_topics.TryAdd(topic, 0))
        {
            SignalOnce(_bindingSignal);
        }
    }

    /// <inheritdoc />
    public void RemoveTopic(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (_topics.TryRemove(topic, out _))
        {
            SignalOnce(_bindingSignal);
        }
    }

    /// <summary>Stops: closes the broker connection, drops what was not published (counted), logs the counters. Idempotent.</summary>
    /// <returns>Completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, (int)RabbitMqBackplaneState.Disposed) == (int)RabbitMqBackplaneState.Disposed)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Task? run;
        lock (_stateSync)
        {
            run = _run;
        }

        if (run is not null)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _outgoing.Writer.TryComplete();
        DrainOutgoing();
        RabbitMqBackplaneStatistics s = GetStatistics();
        LogStopped(_logger, NodeId, s.Forwarded, s.Confirmed, s.Nacked, s.Received, s.SkippedOwn, s.DroppedBufferFull, s.NotForwardedDisconnected, s.Connects);
        _meter.Dispose();
        _stop.Dispose();
    }

    private static void SignalOnce(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            signal.Release();
        }
    }

    private void Release(OutgoingMessage item)
    {
        Interlocked.Add(ref _pendingBytes, -item.Length);
        ArrayPool<byte>.Shared.Return(item.Buffer);
    }

    /// <summary>Empties the outgoing buffer, counting every message as not forwarded.</summary>
    private int DrainOutgoing()
    {
        int drained = 0;
        while (_outgoing.Reader.TryRead(out OutgoingMessage item))
        {
            Release(item);
            drained++;
        }

        Interlocked.Add(ref _notForwarded, drained);
        return drained;
    }

    private bool TrySetState(RabbitMqBackplaneState state)
    {
        lock (_stateSync)
        {
            if (State == RabbitMqBackplaneState.Disposed)
            {
                return false;
            }

            Volatile.Write(ref _state, (int)state);
            if (state == RabbitMqBackplaneState.Connected)
            {
                _connected.TrySetResult();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return true;
        }
    }

    /// <summary>The supervisor: connect, serve until the connection breaks, back off, repeat until disposed.</summary>
    private async Task RunAsync(CancellationToken stop)
    {
        int attempt = 0;
        long downSince = 0;
        long notForwardedAtDown = 0;
        while (!stop.IsCancellationRequested)
        {
            if (!TrySetState(RabbitMqBackplaneState.Connecting))
            {
                return;
            }

            IConnection? connection = null;
            using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
            long unconfirmedAtLoss = 0;
            try
            {
                connection = await _factory.CreateConnectionAsync(stop).ConfigureAwait(false);
                connection.ConnectionShutdownAsync += (_, args) =>
                {
                    if (!stop.IsCancellationRequested)
                    {
                        TrySetState(RabbitMqBackplaneState.Disconnected);
                        LogBrokerLost(_logger, NodeId, args.ReplyText);
                    }

                    try
                    {
                        session.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // a late event after this session ended
                    }

                    return Task.CompletedTask;
                };

                IChannel publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), stop).ConfigureAwait(false);
                IChannel consumer = await connection.CreateChannelAsync(cancellationToken: stop).ConfigureAwait(false);
                lock (_settleSync)
                {
                    Volatile.Write(ref _published, 0);
                    Volatile.Write(ref _settledUpTo, 0);
                    _settledAhead.Clear();
                }

                publisher.BasicAcksAsync += (_, args) => Settle(args.DeliveryTag, args.Multiple, nacked: false);
                publisher.BasicNacksAsync += (_, args) => Settle(args.DeliveryTag, args.Multiple, nacked: true);

                await consumer.ExchangeDeclareAsync(_options.ExchangeName, ExchangeType.Direct, durable: true, autoDelete: false, arguments: null, cancellationToken: stop).ConfigureAwait(false);
                var queueArguments = new Dictionary<string, object?> { ["x-max-length"] = _options.MaxQueuedMessages, ["x-overflow"] = "drop-head" };
                QueueDeclareOk queue = await consumer.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, arguments: queueArguments, cancellationToken: stop).ConfigureAwait(false);
                await consumer.QueueBindAsync(queue.QueueName, _options.ExchangeName, RabbitMqRouting.BroadcastKey, cancellationToken: stop).ConfigureAwait(false);
                await consumer.QueueBindAsync(queue.QueueName, _options.ExchangeName, RabbitMqRouting.NodeKey(NodeId), cancellationToken: stop).ConfigureAwait(false);
                var bound = new Dictionary<string, string>(StringComparer.Ordinal);
                await ReconcileBindingsAsync(consumer, queue.QueueName, bound, stop).ConfigureAwait(false);
                await consumer.BasicQosAsync(0, _options.PrefetchCount, global: false, cancellationToken: stop).ConfigureAwait(false);
                var deliveries = new AsyncEventingBasicConsumer(consumer);
                deliveries.ReceivedAsync += (_, args) => OnDeliveryAsync(consumer, args);
                await consumer.BasicConsumeAsync(queue.QueueName, autoAck: false, consumer: deliveries, cancellationToken: stop).ConfigureAwait(false);

                if (!TrySetState(RabbitMqBackplaneState.Connected))
                {
                    return;
                }

                Interlocked.Increment(ref _connects);
                attempt = 0;
                if (downSince != 0)
                {
                    double seconds = Stopwatch.GetElapsedTime(downSince).TotalSeconds;
                    LogReconnected(_logger, NodeId, seconds, Volatile.Read(ref _notForwarded) - notForwardedAtDown, queue.QueueName, bound.Count);
                    downSince = 0;
                }
                else
                {
                    LogConnected(_logger, NodeId, _factory.Endpoint.ToString(), _options.ExchangeName, queue.QueueName, bound.Count);
                }

                Task publishing = PublishLoopAsync(publisher, session.Token);
                Task binding = BindingLoopAsync(consumer, queue.QueueName, bound, session.Token);
                Task first = await Task.WhenAny(publishing, binding).ConfigureAwait(false);
                await session.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(publishing.ContinueWith(static _ => { }, TaskScheduler.Default), binding.ContinueWith(static _ => { }, TaskScheduler.Default)).ConfigureAwait(false);
                if (first.IsFaulted && first.Exception?.GetBaseException() is { } error && !stop.IsCancellationRequested)
                {
                    LogSessionFailed(_logger, NodeId, error.Message);
                }

                unconfirmedAtLoss = Unconfirmed();
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                LogConnectFailed(_logger, NodeId, attempt + 1, ex.GetBaseException().Message);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // disposing: whatever the session was doing is cut short
            }
            finally
            {
                if (connection is not null)
                {
                    try
                    {
                        if (stop.IsCancellationRequested && connection.IsOpen)
                        {
                            await connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                        }
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // closing a broken connection: nothing to do
                    }

                    try
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // idem
                    }
                }
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            TrySetState(RabbitMqBackplaneState.Disconnected);
            if (downSince == 0)
            {
                downSince = Stopwatch.GetTimestamp();
                notForwardedAtDown = Volatile.Read(ref _notForwarded);
                if (Volatile.Read(ref _connects) > 0)
                {
                    LogServingLocally(_logger, NodeId, unconfirmedAtLoss);
                }
            }

            DrainOutgoing();
            TimeSpan delay = BackoffDelay(attempt++);
            LogRetrying(_logger, NodeId, (long)delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Exponential backoff with jitter: min(max, initial * 2^attempt), times a random factor in [0.5, 1).</summary>
    internal TimeSpan BackoffDelay(int attempt)
    {
        double ceiling = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    /// <summary>Publishes not yet confirmed or refused by the broker on the current connection (count).</summary>
    private long Unconfirmed()
    {
        lock (_settleSync)
        {
            return Math.Max(0, _published - _settledUpTo - _settledAhead.Count);
        }
    }

    /// <summary>
    /// Counts a basic.ack or basic.nack. The broker may confirm out of order (a message routed nowhere is confirmed
    /// at once, one waiting for a queue later), so single confirms above the contiguous watermark are kept in a set
    /// (at most <see cref="RabbitMqBackplaneOptions.MaxUnconfirmedPublishes"/> entries) until the watermark reaches them.
    /// </summary>
    private Task Settle(ulong deliveryTag, bool multiple, bool nacked)
    {
        long tag = (long)deliveryTag;
        long count = 0;
        lock (_settleSync)
        {
            long watermark = _settledUpTo;
            if (multiple)
            {
                if (tag > watermark)
                {
                    int ahead = _settledAhead.GetViewBetween(watermark + 1, tag).Count;
                    count = tag - watermark - ahead;
                    _settledAhead.RemoveWhere(t => t <= tag);
                    watermark = tag;
                }
            }
            else if (tag > watermark && _settledAhead.Add(tag))
            {
                count = 1;
            }

            while (_settledAhead.Remove(watermark + 1))
            {
                watermark++;
            }

            Volatile.Write(ref _settledUpTo, watermark);
        }

        Interlocked.Add(ref nacked ? ref _nacked : ref _confirmed, count);
        if (nacked && count > 0)
        {
            LogNacked(_logger, NodeId, count);
        }

        SignalOnce(_confirmSignal);
        return Task.CompletedTask;
    }

    /// <summary>Publishes the outgoing buffer in order on the confirm channel, at most <see cref="RabbitMqBackplaneOptions.MaxUnconfirmedPublishes"/> unconfirmed.</summary>
    private async Task PublishLoopAsync(IChannel channel, CancellationToken cancellationToken)
    {
        ChannelReader<OutgoingMessage> reader = _outgoing.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out OutgoingMessage item))
            {
                try
                {
                    while (Unconfirmed() >= _options.MaxUnconfirmedPublishes)
                    {
                        await _confirmSignal.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                    }

                    var properties = new BasicProperties
                    {
                        AppId = item.OriginNodeId,
                        Type = item.MessageType == WebSocketMessageKind.Text ? RabbitMqRouting.TextType : RabbitMqRouting.BinaryType,
                        DeliveryMode = DeliveryModes.Transient,
                    };
                    string routingKey;
                    switch (item.Kind)
                    {
                        case WebSocketBackplaneMessageKind.Topic:
                            if (!_topicKeys.TryGetValue(item.Topic!, out string? cached))
                            {
                                if (_topicKeys.Count >= 1024)
                                {
                                    _topicKeys.Clear();   // a bounded cache of routing keys, so steady publishing to a topic does not build its key each time
                                }

                                cached = RabbitMqRouting.TopicKey(item.Topic!);
                                _topicKeys[item.Topic!] = cached;
                            }

                            routingKey = cached;
                            properties.Headers = new Dictionary<string, object?> { [RabbitMqRouting.TopicHeader] = item.Topic };
                            break;
                        case WebSocketBackplaneMessageKind.Direct:
                            routingKey = RabbitMqRouting.NodeKey(RabbitMqRouting.NodeOf(item.TargetConnectionId!) ?? string.Empty);
                            properties.Headers = new Dictionary<string, object?> { [RabbitMqRouting.TargetHeader] = item.TargetConnectionId };
                            break;
                        default:
                            routingKey = RabbitMqRouting.BroadcastKey;
                            break;
                    }

                    lock (_settleSync)
                    {
                        _published++;
                    }

                    await channel.BasicPublishAsync(_options.ExchangeName, routingKey, mandatory: false, properties, item.Buffer.AsMemory(0, item.Length), cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _forwarded);
                }
                catch
                {
                    Interlocked.Increment(ref _notForwarded);
                    throw;
                }
                finally
                {
                    Release(item);
                }
            }
        }
    }

    /// <summary>Keeps the queue's topic bindings equal to the topics with local subscribers.</summary>
    private async Task BindingLoopAsync(IChannel channel, string queue, Dictionary<string, string> bound, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _bindingSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
            await ReconcileBindingsAsync(channel, queue, bound, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReconcileBindingsAsync(IChannel channel, string queue, Dictionary<string, string> bound, CancellationToken cancellationToken)
    {
        foreach (string topic in _topics.Keys)
        {
            if (!bound.ContainsKey(topic))
            {
                string key = RabbitMqRouting.TopicKey(topic);
                await channel.QueueBindAsync(queue, _options.ExchangeName, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                bound[topic] = key;
                LogBound(_logger, NodeId, topic);
            }
        }

        List<string>? stale = null;
        foreach (string topic in bound.Keys)
        {
            if (!_topics.ContainsKey(topic))
            {
                (stale ??= []).Add(topic);
            }
        }

        if (stale is not null)
        {
            foreach (string topic in stale)
            {
                await channel.QueueUnbindAsync(queue, _options.ExchangeName, bound[topic], arguments: null, cancellationToken: cancellationToken).ConfigureAwait(false);
                bound.Remove(topic);
                LogUnbound(_logger, NodeId, topic);
            }
        }
    }

    /// <summary>One delivery from the node's queue: ignore our own, hand the rest to the manager, then ack.</summary>
    private async Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs args)
    {
        try
        {
            IReadOnlyBasicProperties properties = args.BasicProperties;
            if (string.Equals(properties.AppId, NodeId, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _skippedOwn);
            }
            else if (properties.AppId is { Length: > 0 } origin && _receiver is { } receiver)
            {
                WebSocketMessageKind type = string.Equals(properties.Type, RabbitMqRouting.BinaryType, StringComparison.Ordinal) ? WebSocketMessageKind.Binary : WebSocketMessageKind.Text;
                string routingKey = args.RoutingKey;
                WebSocketBackplaneMessage message;
                if (routingKey.StartsWith("n.", StringComparison.Ordinal))
                {
                    message = new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Direct, null, type, args.Body, origin, Header(properties, RabbitMqRouting.TargetHeader));
                }
                else if (routingKey == RabbitMqRouting.BroadcastKey)
                {
                    message = new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Broadcast, null, type, args.Body, origin, null);
                }
                else
                {
                    message = new WebSocketBackplaneMessage(WebSocketBackplaneMessageKind.Topic, Header(properties, RabbitMqRouting.TopicHeader), type, args.Body, origin, null);
                }

                receiver.Deliver(message);
                Interlocked.Increment(ref _received);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            LogMalformed(_logger, NodeId, args.RoutingKey, ex.Message);
        }

        await channel.BasicAckAsync(args.DeliveryTag, multiple: false).ConfigureAwait(false);
    }

    private static string? Header(IReadOnlyBasicProperties properties, string name)
        => properties.Headers is { } headers && headers.TryGetValue(name, out object? value)
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string text => text,
                _ => null,
            }
            : null;

    [LoggerMessage(EventId = 900, Level = LogLevel.Information, Message = "Backplane node {Node} connected to {Endpoint}: exchange {Exchange}, queue {Queue}, {Topics} topic bindings")]
    private static partial void LogConnected(ILogger logger, string node, string endpoint, string exchange, string queue, int topics);

    [LoggerMessage(EventId = 901, Level = LogLevel.Warning, Message = "Backplane node {Node} lost the broker ({Reason})")]
    private static partial void LogBrokerLost(ILogger logger, string node, string reason);

    [LoggerMessage(EventId = 902, Level = LogLevel.Warning, Message = "Backplane node {Node} disconnected: serving this node's connections only; {Unconfirmed} publishes were not confirmed by the broker")]
    private static partial void LogServingLocally(ILogger logger, string node, long unconfirmed);

    [LoggerMessage(EventId = 903, Level = LogLevel.Warning, Message = "Backplane node {Node} reconnected after {Seconds:F1} s: {Lost} messages were not forwarded while disconnected; queue {Queue}, {Topics} topic bindings re-declared")]
    private static partial void LogReconnected(ILogger logger, string node, double seconds, long lost, string queue, int topics);

    [LoggerMessage(EventId = 904, Level = LogLevel.Information, Message = "Backplane node {Node}: connection attempt {Attempt} failed: {Error}")]
    private static partial void LogConnectFailed(ILogger logger, string node, int attempt, string error);

    [LoggerMessage(EventId = 905, Level = LogLevel.Debug, Message = "Backplane node {Node}: next connection attempt in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, string node, long delayMs);

    [LoggerMessage(EventId = 906, Level = LogLevel.Warning, Message = "Backplane node {Node}: session failed: {Error}")]
    private static partial void LogSessionFailed(ILogger logger, string node, string error);

    [LoggerMessage(EventId = 907, Level = LogLevel.Warning, Message = "Backplane node {Node}: the broker refused {Count} publishes (nack); they were not forwarded")]
    private static partial void LogNacked(ILogger logger, string node, long count);

    [LoggerMessage(EventId = 908, Level = LogLevel.Debug, Message = "Backplane node {Node} bound topic {Topic}")]
    private static partial void LogBound(ILogger logger, string node, string topic);

    [LoggerMessage(EventId = 909, Level = LogLevel.Debug, Message = "Backplane node {Node} unbound topic {Topic}")]
    private static partial void LogUnbound(ILogger logger, string node, string topic);

    [LoggerMessage(EventId = 910, Level = LogLevel.Warning, Message = "Backplane node {Node}: ignored a malformed message (routing key {RoutingKey}): {Error}")]
    private static partial void LogMalformed(ILogger logger, string node, string routingKey, string error);

    [LoggerMessage(EventId = 911, Level = LogLevel.Information, Message = "Backplane node {Node} stopped: forwarded {Forwarded} (confirmed {Confirmed}, nacked {Nacked}), received {Received}, own skipped {SkippedOwn}, dropped (buffer full) {Dropped}, not forwarded (disconnected) {NotForwarded}, connections {Connects}")]
    private static partial void LogStopped(ILogger logger, string node, long forwarded, long confirmed, long nacked, long received, long skippedOwn, long dropped, long notForwarded, long connects);
}
