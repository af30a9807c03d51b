using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Internal;

/// <summary>The outcome of <see cref="HttpHeadReader.ReadAsync"/>.</summary>
/// <typeparam name="THead">The head type.</typeparam>
/// <param name="Head">The complete head, or <see langword="null"/> when the peer closed first or the head was invalid.</param>
/// <param name="Buffer">The pooled buffer holding the head and any bytes after it (complete heads only).</param>
/// <param name="Consumed">The length of the head in <paramref name="Buffer"/>, in bytes.</param>
/// <param name="Length">How many bytes of <paramref name="Buffer"/> were read.</param>
/// <param name="Invalid">The parser's verdict on an invalid head (status code and reason), or <see langword="null"/>.</param>
internal readonly record struct HttpHeadReadResult<THead>(THead? Head, byte[]? Buffer, int Consumed, int Length, HttpHeadParseResult<THead>? Invalid)
    where THead : class
{
    /// <summary>Gets the bytes read after the head (frames a peer sent early).</summary>
    public ReadOnlyMemory<byte> Remainder => Buffer is null ? default : Buffer.AsMemory(Consumed, Length - Consumed);
}
