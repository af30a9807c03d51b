using System.Buffers;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Character classes of HTTP/1.1 (RFC 9110 §5.6, RFC 9112) shared by the handshake codecs.
/// Stateless and thread-safe.
/// </summary>
internal static class HttpSyntax
{
    private const string TokenCharacters =
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly SearchValues<char> s_tokenChars = SearchValues.Create(TokenCharacters);
    private static readonly SearchValues<byte> s_tokenBytes = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>Returns whether <paramref name="c"/> is a <c>tchar</c>.</summary>
    internal static bool IsTokenChar(char c) => s_tokenChars.Contains(c);

    /// <summary>Returns whether <paramref name="s"/> is a non-empty <c>token</c> (1*tchar).</summary>
    internal static bool IsToken(ReadOnlySpan<char> s) => !s.IsEmpty && !s.ContainsAnyExcept(s_tokenChars);

    /// <summary>Returns whether <paramref name="s"/> is a non-empty <c>token</c> (1*tchar).</summary>
    internal static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(s_tokenBytes);

    /// <summary>Optional whitespace: SP or HTAB.</summary>
    internal static bool IsOws(char c) => c is ' ' or '\t';

    /// <summary>Optional whitespace: SP or HTAB.</summary>
    internal static bool IsOws(byte b) => b is (byte)' ' or (byte)'\t';

    /// <summary>A byte allowed in a field value or reason phrase: HTAB, SP, VCHAR or obs-text.</summary>
    internal static bool IsFieldByte(byte b) => b == (byte)'\t' || (b >= 0x20 && b != 0x7F);

    /// <summary>
    /// A character allowed in a field value written by this library: HTAB, SP, VCHAR or obs-text
    /// (U+0080-U+00FF, written as one latin1 byte).
    /// </summary>
    internal static bool IsFieldChar(char c) => c == '\t' || (c >= 0x20 && c != 0x7F && c <= 0xFF);

    /// <summary>Returns whether every character of <paramref name="s"/> satisfies <see cref="IsFieldChar"/>.</summary>
    internal static bool IsFieldValue(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!IsFieldChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Trims SP and HTAB from both ends.</summary>
    internal static ReadOnlySpan<char> TrimOws(ReadOnlySpan<char> s) => s.Trim(" \t");

    /// <summary>Trims SP and HTAB from both ends.</summary>
    internal static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);

    /// <summary>The standard reason phrase (RFC 9110 §15) of the status codes this library writes.</summary>
    internal static string GetReasonPhrase(int statusCode) => statusCode switch
    {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => string.Empty,
    };
}
