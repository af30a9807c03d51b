using System.Text;
using Ws4Net.Protocol;

namespace Ws4Net.Internal;

/// <summary>What a send asks for, in one value, so every send API shares one path without delegates or closures.</summary>
internal enum SendKind : byte
{
    Bytes,
    String,
    Chars,
    Prepared,
}

/// <summary>One message (or fragment) to encode: its kind, payload, type and flags. Held only for the duration of a send.</summary>
internal struct SendRequest
{
    public SendKind Kind;
    public WebSocketMessageKind MessageType;
    public bool EndOfMessage;
    public bool? Compress;
    public ReadOnlyMemory<byte> Data;
    public ReadOnlyMemory<char> Chars;
    public string? Text;
    public WebSocketPreparedMessage? Prepared;
    public object? Owner;

    public static SendRequest ForBytes(ReadOnlyMemory<byte> data, WebSocketMessageKind type, bool? compress)
        => new() { Kind = SendKind.Bytes, MessageType = type, EndOfMessage = true, Compress = compress, Data = data };

    public static SendRequest ForString(string text)
        => new() { Kind = SendKind.String, MessageType = WebSocketMessageKind.Text, EndOfMessage = true, Text = text };

    public static SendRequest ForChars(ReadOnlyMemory<char> text, bool endOfMessage)
        => new() { Kind = SendKind.Chars, MessageType = WebSocketMessageKind.Text, EndOfMessage = endOfMessage, Chars = text };

    public static SendRequest ForPrepared(WebSocketPreparedMessage message)
        => new() { Kind = SendKind.Prepared, MessageType = message.Type, EndOfMessage = true, Prepared = message, Compress = message.Compress };

    /// <summary>An upper bound of the encoded size in bytes (header included), cheap for small payloads.</summary>
    public readonly long EstimateSize() => Kind switch
    {
        SendKind.Bytes => Data.Length + 14L,
        SendKind.Prepared => Prepared!.Length + 14L,
        SendKind.String => (Text!.Length <= 1024 ? Text.Length * 3L : Encoding.UTF8.GetByteCount(Text)) + 14L,
        _ => (Chars.Length <= 1024 ? Chars.Length * 3L : Encoding.UTF8.GetByteCount(Chars.Span)) + 14L,
    };
}
