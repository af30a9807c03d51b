using System.IO.Compression;
using System.Net.Sockets;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// A browser-like compressed exchange on a raw connection: text messages of 2 KiB compressed with raw
/// DEFLATE (RFC 7692 §7.2.1: sync flush, the trailing 00 00 FF FF removed, RSV1 on the frame), each
/// followed by reading the server's reply. Used by <c>bench idle --deflate</c> to put compression state
/// into the server before measuring its memory.
/// </summary>
internal static class DeflateExchange
{
    private const int MessageSize = 2048;

    /// <summary>Sends <paramref name="messages"/> messages (compressed when the connection agreed permessage-deflate) and waits for one reply to each.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="messages">How many messages (count).</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>Completes when every reply arrived.</returns>
    /// <exception cref="BenchException">The server closed the connection.</exception>
    public static async Task RunAsync(RawConnection connection, int messages, CancellationToken cancellationToken)
    {
        var parser = new ServerFrameParser(keepPrefix: false);
        byte[] buffer = new byte[64 * 1024];
        int pending = connection.Leftover.Length;
        connection.Leftover.CopyTo(buffer, 0);
        for (int i = 0; i < messages; i++)
        {
            byte[] payload = Text(i);
            byte[] body = connection.Deflate ? Compress(payload) : payload;
            byte[] frame = new byte[ClientFrames.FrameLength(body.Length)];
            ClientFrames.Write(frame, ClientFrames.Text, body, connection.Mask);
            if (connection.Deflate)
            {
                frame[0] |= 0x40;   // RSV1: a compressed message
            }

            await connection.SendAllAsync(frame, cancellationToken).ConfigureAwait(false);
            int replies = 0;
            while (replies == 0)
            {
                int read = pending > 0 ? pending : await connection.Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                pending = 0;
                if (read == 0 || parser.CloseReceived)
                {
                    throw new BenchException("the server closed the connection during the compressed exchange");
                }

                replies += parser.Feed(buffer.AsSpan(0, read));
            }
        }
    }

    private static byte[] Text(int seed)
    {
        // Chat-like text: words from a small vocabulary, so it compresses as real messages do.
        string[] words = ["price", "update", "sensor", "temperature", "player", "moved", "to", "the", "room", "42", "ok", "value", "ready"];
        var text = new System.Text.StringBuilder(MessageSize + 16);
        int i = seed;
        while (text.Length < MessageSize)
        {
            text.Append(words[(i * 7 + seed) % words.Length]).Append(' ');
            i++;
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString(0, MessageSize));
    }

    private static byte[] Compress(byte[] payload)
    {
        using var output = new MemoryStream();
        var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
        deflate.Write(payload);
        deflate.Flush();   // Z_SYNC_FLUSH: ends with 00 00 FF FF
        byte[] bytes = output.ToArray();
        return bytes.Length >= 4 && bytes[^4] == 0 && bytes[^3] == 0 && bytes[^2] == 0xFF && bytes[^1] == 0xFF ? bytes[..^4] : bytes;
    }
}
