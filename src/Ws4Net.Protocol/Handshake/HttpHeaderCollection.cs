using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// The header fields of an HTTP/1.1 head (RFC 9110 §5): an ordered list of (name, value) pairs in
/// the order they were received or added. Names compare ASCII case-insensitively; a name may occur
/// more than once and every occurrence is kept.
/// </summary>
/// <remarks>
/// Not thread-safe for mutation. Concurrent reads are safe while no thread calls <see cref="Add"/>.
/// Enumeration yields the pairs in order, with names spelled as received.
/// </remarks>
public sealed class HttpHeaderCollection : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    /// <summary>Number of header field lines (a repeated name counts once per occurrence).</summary>
    public int Count => _fields.Count;

    /// <summary>Appends a header field, keeping any earlier field with the same name.</summary>
    /// <param name="name">The field name; must be a non-empty HTTP token (RFC 9110 §5.1).</param>
    /// <param name="value">
    /// The field value, without surrounding whitespace requirements; must not contain CR, LF, NUL or any
    /// other control character except HTAB.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is not a token, or <paramref name="value"/> contains a control character.
    /// </exception>
    public void Add(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!HttpSyntax.IsToken(name))
        {
            throw new ArgumentException($"'{name}' is not a valid HTTP header name (it must be a non-empty token).", nameof(name));
        }

        foreach (char c in value)
        {
            if (c != '\t' && (c < 0x20 || c == 0x7F))
            {
                throw new ArgumentException(
                    $"The value of header '{name}' contains the control character U+{(int)c:X4} (CR, LF, NUL and other controls are not allowed).",
                    nameof(value));
            }
        }

        _fields.Add(new KeyValuePair<string, string>(name, value));
    }

    /// <summary>Appends an already validated field (used by the parser).</summary>
    internal void AddUnchecked(string name, string value) => _fields.Add(new KeyValuePair<string, string>(name, value));

    /// <summary>Returns whether at least one field named <paramref name="name"/> (case-insensitive) is present.</summary>
    /// <param name="name">The field name to look for.</param>
    /// <returns><see langword="true"/> when the field occurs at least once.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (NameEquals(field.Key, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Gets the value of the field named <paramref name="name"/> (case-insensitive). When the field occurs
    /// more than once, the values are joined with <c>", "</c> in order (RFC 9110 §5.3).
    /// </summary>
    /// <param name="name">The field name to look for.</param>
    /// <param name="value">The (combined) value, or <see langword="null"/> when the field is absent.</param>
    /// <returns><see langword="true"/> when the field occurs at least once.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool TryGetValue(string name, [MaybeNullWhen(false)] out string value)
    {
        IReadOnlyList<string> values = GetValues(name);
        switch (values.Count)
        {
            case 0:
                value = null;
                return false;
            case 1:
                value = values[0];
                return true;
            default:
                value = string.Join(", ", values);
                return true;
        }
    }

    /// <summary>Gets the value of every occurrence of the field named <paramref name="name"/> (case-insensitive), in order.</summary>
    /// <param name="name">The field name to look for.</param>
    /// <returns>One entry per occurrence; empty when the field is absent. Never null.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public IReadOnlyList<string> GetValues(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? values = null;
        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (NameEquals(field.Key, name))
            {
                (values ??= []).Add(field.Value);
            }
        }

        return values is null ? [] : values;
    }

    /// <summary>
    /// Returns whether any occurrence of the field named <paramref name="name"/> holds a comma-separated
    /// list (RFC 9110 §5.6.1) with an element equal to <paramref name="token"/>, compared ASCII
    /// case-insensitively after trimming SP/HTAB. For example <c>Connection: keep-alive, Upgrade</c>
    /// contains the token <c>upgrade</c>.
    /// </summary>
    /// <param name="name">The field name to look for.</param>
    /// <param name="token">The list element to look for.</param>
    /// <returns><see langword="true"/> when some list element matches.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="token"/> is null.</exception>
    public bool ContainsToken(string name, string token)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(token);
        ReadOnlySpan<char> wanted = HttpSyntax.TrimOws(token);
        if (wanted.IsEmpty)
        {
            return false;
        }

        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (!NameEquals(field.Key, name))
            {
                continue;
            }

            foreach (Range range in field.Value.AsSpan().Split(','))
            {
                if (HttpSyntax.TrimOws(field.Value.AsSpan()[range]).Equals(wanted, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Splits every occurrence of the field named <paramref name="name"/> as a comma-separated list
    /// (RFC 9110 §5.6.1) and returns the elements in order, SP/HTAB-trimmed, skipping empty elements.
    /// Quoted strings are not interpreted, so use this only for token lists such as <c>Connection</c>,
    /// <c>Upgrade</c> or <c>Sec-WebSocket-Protocol</c>.
    /// </summary>
    /// <param name="name">The field name to look for.</param>
    /// <returns>The elements; empty when the field is absent or holds only empty elements. Never null.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public IReadOnlyList<string> GetTokens(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? tokens = null;
        foreach (KeyValuePair<string, string> field in _fields)
        {
            if (!NameEquals(field.Key, name))
            {
                continue;
            }

            foreach (Range range in field.Value.AsSpan().Split(','))
            {
                ReadOnlySpan<char> element = HttpSyntax.TrimOws(field.Value.AsSpan()[range]);
                if (!element.IsEmpty)
                {
                    (tokens ??= []).Add(element.ToString());
                }
            }
        }

        return tokens is null ? [] : tokens;
    }

    /// <summary>Enumerates the fields in order as (name, value) pairs, names spelled as received.</summary>
    /// <returns>An enumerator; invalidated by a later <see cref="Add"/>.</returns>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static bool NameEquals(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
