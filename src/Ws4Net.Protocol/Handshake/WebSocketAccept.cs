using System.Buffers;
using System.Security.Cryptography;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The <c>Sec-WebSocket-Key</c> / <c>Sec-WebSocket-Accept</c> computations of the opening handshake
/// (RFC 6455 §4.1, §4.2.2). Stateless and thread-safe.
/// </summary>
public static class WebSocketAccept
{
    /// <summary>The globally unique identifier appended to the key before hashing (RFC 6455 §1.3, §4.2.2).</summary>
    public const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private const int KeyLength = 24;
    private const int KeyBytes = 16;

    private static readonly SearchValues<char> s_base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

    /// <summary>
    /// Computes the <c>Sec-WebSocket-Accept</c> value for a key: the base64 encoding of the SHA-1 hash of
    /// the key string (as sent, not base64-decoded) concatenated with <see cref="Guid"/> (RFC 6455 §4.2.2).
    /// </summary>
    /// <param name="key">The <c>Sec-WebSocket-Key</c> value, normally 24 ASCII characters.</param>
    /// <returns>A 28-character base64 string, for example <c>s3pPLMBiTxaQ9kYGzzhZRbK+xOo=</c> for <c>dGhlIHNhbXBsZSBub25jZQ==</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> contains a character above U+00FF, which cannot have come from a header.</exception>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int length = key.Length + Guid.Length;
        byte[]? rented = null;
        Span<byte> input = length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            for (int i = 0; i < key.Length; i++)
            {
                char c = key[i];
                if (c > 0xFF)
                {
                    throw new ArgumentException("The key contains a character that is not latin1.", nameof(key));
                }

                input[i] = (byte)c;
            }

            for (int i = 0; i < Guid.Length; i++)
            {
                input[key.Length + i] = (byte)Guid[i];
            }

            Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
            SHA1.HashData(input[..length], hash);
            return Convert.ToBase64String(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Generates a fresh <c>Sec-WebSocket-Key</c>: the base64 encoding of 16 bytes from
    /// <see cref="RandomNumberGenerator"/> (RFC 6455 §4.1), 24 characters long.
    /// </summary>
    /// <returns>A new 24-character key.</returns>
    public static string GenerateKey()
    {
        Span<byte> nonce = stackalloc byte[KeyBytes];
        RandomNumberGenerator.Fill(nonce);
        return Convert.ToBase64String(nonce);
    }

    /// <summary>
    /// Returns whether <paramref name="key"/> is a valid <c>Sec-WebSocket-Key</c>: base64 (RFC 4648 §4)
    /// that decodes to exactly 16 bytes, i.e. 22 base64 characters followed by <c>==</c>, with no
    /// whitespace (RFC 6455 §4.1, §4.2.1).
    /// </summary>
    /// <param name="key">The candidate key; may be null.</param>
    /// <returns><see langword="true"/> when the key is valid.</returns>
    public static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != KeyLength || key[22] != '=' || key[23] != '='
            || key.AsSpan(0, 22).ContainsAnyExcept(s_base64Chars))
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out int written) && written == KeyBytes;
    }
}
