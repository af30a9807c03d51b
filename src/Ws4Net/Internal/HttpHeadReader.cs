using System.Buffers;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Internal;

/// <summary>
/// Reads an HTTP/1.1 request or response head from a stream until the incremental parser
/// (<see cref="HttpHeadParser"/>) says it is complete or invalid: the one read loop shared by the server
/// (request heads) and the client (the server's and proxies' response heads). The buffer is pooled and
/// grows up to <see cref="HttpHeadLimits.MaxHeadSize"/> + 1 bytes, so a peer cannot make it larger.
/// </summary>
internal static class HttpHeadReader
{
    /// <summary>Reads one head.</summary>
    /// <typeparam name="THead"><see cref="HttpRequestHead"/> or <see cref="HttpResponseHead"/>.</typeparam>
    /// <param name="stream">Where the head arrives.</param>
    /// <param name="limits">The size limits in force.</param>
    /// <param name="parse"><see cref="HttpHeadParser.ParseRequest"/> or <see cref="HttpHeadParser.ParseResponse"/>.</param>
    /// <param name="cancellationToken">Cancels the reads (the caller's handshake deadline).</param>
    /// <returns>The outcome; when complete, the caller owns <see cref="HttpHeadReadResult{THead}.Buffer"/> (return it to
    /// <see cref="ArrayPool{T}.Shared"/>); otherwise it was returned already.</returns>
    public static async Task<HttpHeadReadResult<THead>> ReadAsync<THead>(
        Stream stream, HttpHeadLimits limits, Func<ReadOnlySpan<byte>, HttpHeadLimits, HttpHeadParseResult<THead>> parse, CancellationToken cancellationToken)
        where THead : class
    {
        int max = limits.MaxHeadSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(max + 1, 4096));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return new HttpHeadReadResult<THead>(null, null, 0, 0, null);   // the peer closed first
                }

                length += read;
                HttpHeadParseResult<THead> result = parse(buffer.AsSpan(0, length), limits);
                switch (result.Status)
                {
                    case HttpHeadParseStatus.Complete:
                        byte[] done = buffer;
                        buffer = [];
                        return new HttpHeadReadResult<THead>(result.Head, done, result.Consumed, length, null);
                    case HttpHeadParseStatus.Invalid:
                        return new HttpHeadReadResult<THead>(null, null, 0, 0, result);
                }
            }
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
