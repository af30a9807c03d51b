using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Ws4Net.Protocol.Buffers;
using Ws4Net.Protocol.Extensions;

namespace Ws4Net.Protocol.Framing;

/// <summary>
/// The send side of one connection: turns messages, parts of messages and control frames into frames
/// (RFC 6455 §5.2, §5.4, §5.5), masked with a fresh key from a cryptographic RNG in the client role
/// (§5.3, §10.3), through the negotiated RSV1 transform when it applies (RFC 7692 §7.2.1), split at
/// <see cref="WebSocketProtocolOptions.MaxSendFrameSize"/> when set. Every frame goes through
/// <see cref="WebSocketFrameEncoder"/>. The close state is not kept here: <see cref="WebSocketProtocol"/>
/// checks it before calling in.
/// </summary>
/// <remarks>Not thread-safe: used by the one send side of one connection.</remarks>
internal sealed class WebSocketFrameWriter : IDisposable
{
    private readonly bool _masked;
    private readonly int _maxFrameSize;
    private readonly IWebSocketMessageTransform? _transform;
    private readonly byte[] _maskPool;
    private int _maskPoolIndex;
    private bool _inMessage;
    private bool _transforming;
    private PooledBufferWriter? _transformed;
    private Encoder? _textEncoder;
    private WebSocketMessageKind _messageType;

    /// <summary>Creates the writer.</summary>
    /// <param name="role">This endpoint's role: a client masks every frame.</param>
    /// <param name="maxFrameSize">The largest data frame payload to send, in bytes; 0 for no splitting.</param>
    /// <param name="transform">The negotiated RSV1 extension, or <see langword="null"/>.</param>
    public WebSocketFrameWriter(WebSocketRole role, int maxFrameSize, IWebSocketMessageTransform? transform)
    {
        _masked = role == WebSocketRole.Client;
        _maxFrameSize = maxFrameSize;
        _transform = transform;
        _maskPool = _masked ? new byte[256] : [];
        _maskPoolIndex = _maskPool.Length;
    }

    /// <summary>Gets whether a message written in parts is in progress.</summary>
    public bool InMessage => _inMessage;

    /// <summary>Encodes a data message or one part of it. See <see cref="WebSocketProtocol.WriteMessage"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not text or binary.</exception>
    /// <exception cref="InvalidOperationException">A message of the other type is in progress.</exception>
    public void WriteMessage(IBufferWriter<byte> output, WebSocketMessageKind messageType, ReadOnlySpan<byte> payload, bool endOfMessage, bool? transform)
    {
        WebSocketOpcode opcode = BeginMessage(messageType);
        if (opcode != WebSocketOpcode.Continuation)
        {
            _transforming = _transform is not null && (transform ?? payload.Length >= _transform.Threshold);
        }

        if (_transforming)
        {
            _transformed ??= new PooledBufferWriter();
            _transform!.Encode(payload, _transformed, endOfMessage);
            WriteDataFrames(output, opcode, _transformed.WrittenSpan, endOfMessage, rsv1: opcode != WebSocketOpcode.Continuation);
            _transformed.Reset();
        }
        else
        {
            WriteDataFrames(output, opcode, payload, endOfMessage, rsv1: false);
        }

        _inMessage = !endOfMessage;
        _messageType = messageType;
    }

    /// <summary>Encodes a text message or one part of it from UTF-16. See <see cref="WebSocketProtocol.WriteText"/>.</summary>
    /// <exception cref="InvalidOperationException">A binary message is in progress.</exception>
    public void WriteText(IBufferWriter<byte> output, ReadOnlySpan<char> text, bool endOfMessage, bool? transform)
    {
        WebSocketOpcode opcode = BeginMessage(WebSocketMessageKind.Text);

        // A message written in parts keeps one encoder, so a surrogate pair split between parts stays one character.
        bool stateful = _inMessage || !endOfMessage;
        Encoder? encoder = stateful ? _textEncoder ??= Encoding.UTF8.GetEncoder() : null;
        int byteCount = encoder?.GetByteCount(text, endOfMessage) ?? Encoding.UTF8.GetByteCount(text);
        bool transforming = _inMessage ? _transforming : _transform is not null && (transform ?? byteCount >= _transform.Threshold);
        if ((_maxFrameSize > 0 && byteCount > _maxFrameSize) || transforming)
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(byteCount, 1));
            try
            {
                int written = encoder?.GetBytes(text, rented, endOfMessage) ?? Encoding.UTF8.GetBytes(text, rented);
                WriteMessage(output, WebSocketMessageKind.Text, rented.AsSpan(0, written), endOfMessage, transforming);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            return;
        }

        // The common case: UTF-8 goes straight into the output after the header, no intermediate copy.
        _transforming = false;
        int headerLength = WebSocketFrameEncoder.GetHeaderLength(byteCount, _masked);
        Span<byte> destination = output.GetSpan(headerLength + byteCount);
        Span<byte> key = stackalloc byte[4];
        if (_masked)
        {
            NextMaskingKey(key);
        }

        WebSocketFrameEncoder.WriteHeader(destination, opcode, endOfMessage, false, byteCount, _masked ? key : default);
        Span<byte> payload = destination.Slice(headerLength, byteCount);
        if (encoder is null)
        {
            Encoding.UTF8.GetBytes(text, payload);
        }
        else
        {
            encoder.GetBytes(text, payload, endOfMessage);
        }

        if (_masked)
        {
            WebSocketMasking.Apply(payload, key);
        }

        output.Advance(headerLength + byteCount);
        _inMessage = !endOfMessage;
        _messageType = WebSocketMessageKind.Text;
    }

    /// <summary>Decides whether a prepared message can go out as its shared frame. See <see cref="WebSocketProtocol.TryGetSharedFrame"/>.</summary>
    /// <exception cref="InvalidOperationException">A message written in parts is in progress.</exception>
    public bool TryGetSharedFrame(WebSocketPreparedMessage message, out ReadOnlyMemory<byte> frame)
    {
        if (_inMessage)
        {
            throw new InvalidOperationException($"A {_messageType} message is in progress; finish it before sending another message.");
        }

        frame = default;
        if (_masked || (_maxFrameSize > 0 && message.Length > _maxFrameSize))
        {
            return false;   // client frames are masked per frame; split frames are per connection
        }

        if (_transform is null || !(message.Compress ?? message.Length >= _transform.Threshold))
        {
            frame = message.UncompressedFrame;
            return true;
        }

        return _transform.TryGetSharedFrame(message, out frame);
    }

    /// <summary>Encodes one frame: picks the masking key for the role and writes header and payload.</summary>
    public void WriteFrame(IBufferWriter<byte> output, WebSocketOpcode opcode, bool fin, bool rsv1, ReadOnlySpan<byte> payload)
    {
        Span<byte> key = stackalloc byte[4];
        if (_masked)
        {
            NextMaskingKey(key);
        }

        Span<byte> destination = output.GetSpan(WebSocketFrameEncoder.GetHeaderLength(payload.Length, _masked) + payload.Length);
        output.Advance(WebSocketFrameEncoder.WriteFrame(destination, opcode, fin, rsv1, payload, _masked ? key : default));
    }

    /// <summary>Returns pooled buffers.</summary>
    public void Dispose() => _transformed?.Reset();

    private WebSocketOpcode BeginMessage(WebSocketMessageKind messageType)
    {
        if (messageType is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType));
        }

        if (_inMessage)
        {
            if (messageType != _messageType)
            {
                throw new InvalidOperationException($"A {_messageType} message is in progress; finish it before sending {messageType}.");
            }

            return WebSocketOpcode.Continuation;
        }

        return (WebSocketOpcode)messageType;
    }

    private void WriteDataFrames(IBufferWriter<byte> output, WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool endOfMessage, bool rsv1)
    {
        if (_maxFrameSize > 0)
        {
            while (payload.Length > _maxFrameSize)
            {
                WriteFrame(output, opcode, false, rsv1, payload[.._maxFrameSize]);
                payload = payload[_maxFrameSize..];
                opcode = WebSocketOpcode.Continuation;
                rsv1 = false;
            }
        }

        WriteFrame(output, opcode, endOfMessage, rsv1, payload);
    }

    /// <summary>Next fresh masking key from a buffered cryptographic RNG (RFC 6455 §5.3, §10.3).</summary>
    private void NextMaskingKey(Span<byte> key)
    {
        if (_maskPoolIndex + 4 > _maskPool.Length)
        {
            RandomNumberGenerator.Fill(_maskPool);
            _maskPoolIndex = 0;
        }

        _maskPool.AsSpan(_maskPoolIndex, 4).CopyTo(key);
        _maskPoolIndex += 4;
    }
}
