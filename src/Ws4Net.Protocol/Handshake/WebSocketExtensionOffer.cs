using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// One element of a <c>Sec-WebSocket-Extensions</c> header (RFC 6455 §9.1): an extension token with its
/// parameters, as offered by a client or accepted by a server, for example
/// <c>permessage-deflate; client_max_window_bits</c>.
/// </summary>
/// <remarks>
/// Grammar (RFC 6455 §9.1, with the implied optional whitespace of RFC 2616 lists):
/// <c>extension-list = 1#extension</c>, <c>extension = extension-token *( ";" extension-param )</c>,
/// <c>extension-param = token [ "=" (token | quoted-string) ]</c>, where a quoted-string value must be a
/// token once unescaped. Immutable and thread-safe.
/// </remarks>
public sealed class WebSocketExtensionOffer
{
    /// <summary>Creates an extension element.</summary>
    /// <param name="name">The extension token, for example <c>permessage-deflate</c>.</param>
    /// <param name="parameters">
    /// The parameters in order; a <see langword="null"/> value means the parameter has no value.
    /// Null means no parameters.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or a parameter name is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/>, a parameter name or a parameter value is not a token.</exception>
    public WebSocketExtensionOffer(string name, IEnumerable<KeyValuePair<string, string?>>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!HttpSyntax.IsToken(name))
        {
            throw new ArgumentException($"'{name}' is not a valid extension token.", nameof(name));
        }

        KeyValuePair<string, string?>[] copy = parameters is null ? [] : [.. parameters];
        foreach (KeyValuePair<string, string?> parameter in copy)
        {
            if (parameter.Key is null)
            {
                throw new ArgumentNullException(nameof(parameters), "A parameter name is null.");
            }

            if (!HttpSyntax.IsToken(parameter.Key))
            {
                throw new ArgumentException($"'{parameter.Key}' is not a valid extension parameter name.", nameof(parameters));
            }

            if (parameter.Value is not null && !HttpSyntax.IsToken(parameter.Value))
            {
                throw new ArgumentException($"The value of extension parameter '{parameter.Key}' is not a token.", nameof(parameters));
            }
        }

        Name = name;
        Parameters = new ReadOnlyCollection<KeyValuePair<string, string?>>(copy);
    }

    /// <summary>The extension token, for example <c>permessage-deflate</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The parameters in header order. The value is <see langword="null"/> for a parameter written
    /// without <c>=</c>; a quoted-string value is already unescaped.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Parameters { get; }

    /// <summary>
    /// Parses the values of every <c>Sec-WebSocket-Extensions</c> header occurrence, in order, into one
    /// list (RFC 6455 §9.1: several occurrences are equivalent to one comma-joined value).
    /// Empty list elements between commas are ignored, but every value must hold at least one extension.
    /// </summary>
    /// <param name="headerValues">The raw header values (for example from <see cref="HttpHeaderCollection.GetValues"/>).</param>
    /// <returns>The extensions in order; empty when <paramref name="headerValues"/> is empty.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="headerValues"/> is null.</exception>
    /// <exception cref="FormatException">A value is null or does not match the grammar; the message says where.</exception>
    public static IReadOnlyList<WebSocketExtensionOffer> ParseHeader(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        return TryParseCore(headerValues, out IReadOnlyList<WebSocketExtensionOffer>? offers, out string? error)
            ? offers
            : throw new FormatException(error);
    }

    /// <summary>
    /// Parses like <see cref="ParseHeader"/> but reports malformed syntax by returning
    /// <see langword="false"/> instead of throwing.
    /// </summary>
    /// <param name="headerValues">The raw header values; null is treated as malformed.</param>
    /// <param name="offers">The extensions in order when successful; otherwise an empty list.</param>
    /// <returns><see langword="true"/> when every value matched the grammar.</returns>
    public static bool TryParseHeader(IEnumerable<string>? headerValues, out IReadOnlyList<WebSocketExtensionOffer> offers)
    {
        if (headerValues is not null && TryParseCore(headerValues, out IReadOnlyList<WebSocketExtensionOffer>? parsed, out _))
        {
            offers = parsed;
            return true;
        }

        offers = [];
        return false;
    }

    /// <summary>
    /// Renders the element in header syntax: <c>name</c>, then <c>"; " param</c> or
    /// <c>"; " param "=" value</c> for each parameter (values are tokens, so never quoted).
    /// </summary>
    /// <returns>For example <c>permessage-deflate; client_max_window_bits; server_max_window_bits=10</c>.</returns>
    public override string ToString()
    {
        if (Parameters.Count == 0)
        {
            return Name;
        }

        StringBuilder builder = new(Name);
        foreach (KeyValuePair<string, string?> parameter in Parameters)
        {
            builder.Append("; ").Append(parameter.Key);
            if (parameter.Value is not null)
            {
                builder.Append('=').Append(parameter.Value);
            }
        }

        return builder.ToString();
    }

    private static bool TryParseCore(
        IEnumerable<string> headerValues,
        [NotNullWhen(true)] out IReadOnlyList<WebSocketExtensionOffer>? offers,
        [NotNullWhen(false)] out string? error)
    {
        List<WebSocketExtensionOffer> result = [];
        offers = null;
        foreach (string value in headerValues)
        {
            if (value is null)
            {
                error = "Malformed Sec-WebSocket-Extensions header: a value is null.";
                return false;
            }

            if (!TryParseValue(value, result, out error))
            {
                error = "Malformed Sec-WebSocket-Extensions header: " + error;
                return false;
            }
        }

        offers = result.AsReadOnly();
        error = null;
        return true;
    }

    private static bool TryParseValue(string s, List<WebSocketExtensionOffer> result, [NotNullWhen(false)] out string? error)
    {
        int i = 0;
        int count = 0;
        while (true)
        {
            SkipOws(s, ref i);
            if (i == s.Length)
            {
                break;
            }

            if (s[i] == ',')
            {
                i++; // empty list element (RFC 9110 §5.6.1)
                continue;
            }

            string? name = ReadToken(s, ref i);
            if (name is null)
            {
                error = At(s, i, "expected an extension token");
                return false;
            }

            List<KeyValuePair<string, string?>>? parameters = null;
            SkipOws(s, ref i);
            while (i < s.Length && s[i] == ';')
            {
                i++;
                SkipOws(s, ref i);
                string? parameterName = ReadToken(s, ref i);
                if (parameterName is null)
                {
                    error = At(s, i, "expected a parameter name after ';'");
                    return false;
                }

                string? parameterValue = null;
                SkipOws(s, ref i);
                if (i < s.Length && s[i] == '=')
                {
                    i++;
                    SkipOws(s, ref i);
                    if (i < s.Length && s[i] == '"')
                    {
                        if (!TryReadQuotedString(s, ref i, out parameterValue, out error))
                        {
                            return false;
                        }

                        if (!HttpSyntax.IsToken(parameterValue))
                        {
                            error = At(s, i, $"the quoted value of parameter '{parameterName}' is not a token once unescaped");
                            return false;
                        }
                    }
                    else
                    {
                        parameterValue = ReadToken(s, ref i);
                        if (parameterValue is null)
                        {
                            error = At(s, i, $"expected a token or quoted-string value for parameter '{parameterName}'");
                            return false;
                        }
                    }

                    SkipOws(s, ref i);
                }

                (parameters ??= []).Add(new KeyValuePair<string, string?>(parameterName, parameterValue));
            }

            if (i < s.Length)
            {
                if (s[i] != ',')
                {
                    error = At(s, i, "expected ';', ',' or the end of the value");
                    return false;
                }

                i++;
            }

            result.Add(new WebSocketExtensionOffer(name, parameters));
            count++;
        }

        if (count == 0)
        {
            error = "a value must contain at least one extension";
            return false;
        }

        error = null;
        return true;
    }

    private static void SkipOws(string s, ref int i)
    {
        while (i < s.Length && HttpSyntax.IsOws(s[i]))
        {
            i++;
        }
    }

    private static string? ReadToken(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && HttpSyntax.IsTokenChar(s[i]))
        {
            i++;
        }

        return i == start ? null : s[start..i];
    }

    private static bool TryReadQuotedString(string s, ref int i, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4); s[i] is the opening DQUOTE.
        int open = i;
        StringBuilder builder = new();
        i++;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '"')
            {
                i++;
                value = builder.ToString();
                error = null;
                return true;
            }

            if (c == '\\')
            {
                i++;
                if (i == s.Length || !HttpSyntax.IsFieldChar(s[i]))
                {
                    break;
                }

                builder.Append(s[i]);
            }
            else if (c == '\t' || (c >= 0x20 && c != 0x7F && c <= 0xFF))
            {
                builder.Append(c);
            }
            else
            {
                value = null;
                error = At(s, i, "invalid character in quoted-string");
                return false;
            }

            i++;
        }

        value = null;
        error = At(s, open, "unterminated quoted-string");
        return false;
    }

    private static string At(string s, int position, string problem) =>
        string.Create(CultureInfo.InvariantCulture, $"{problem} at position {position} of '{Sanitize(s)}'.");

    private static string Sanitize(string s)
    {
        const int MaxShown = 128;
        ReadOnlySpan<char> shown = s.AsSpan(0, Math.Min(s.Length, MaxShown));
        StringBuilder builder = new(shown.Length + 3);
        foreach (char c in shown)
        {
            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return s.Length > MaxShown ? builder.Append("...").ToString() : builder.ToString();
    }
}
