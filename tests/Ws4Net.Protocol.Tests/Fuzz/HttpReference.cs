using System.Text;
using System.Text.RegularExpressions;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Reference answers for the handshake fuzzers, written from the XML documentation and the RFCs,
/// independently of the library: the grammar of <c>Sec-WebSocket-Extensions</c> (RFC 6455 §9.1 with
/// RFC 9110 list and quoted-string rules) as a regular expression, the syntax of a complete head, and
/// the decision table of <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/>.
/// </summary>
internal static partial class HttpReference
{
    private const string Token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
    private const string Quoted = "\"(?:[\\t !#-\\[\\]-~\\u0080-\\u00FF]|\\\\[\\t -~\\u0080-\\u00FF])*\"";
    private const string Param = "(?<pname>" + Token + ")(?:[ \\t]*=[ \\t]*(?<pvalue>" + Token + "|" + Quoted + "))?";
    private const string Extension = "(?<name>" + Token + ")(?:[ \\t]*;[ \\t]*" + Param + ")*";
    private const string ExtensionList = "^[ \\t,]*" + Extension + "(?:[ \\t]*,[ \\t,]*" + Extension + ")*[ \\t,]*\\z";

    [GeneratedRegex(ExtensionList, RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex ExtensionListRegex();

    /// <summary>One parsed extension element: name and (name, value-or-null) parameters, values unescaped.</summary>
    internal sealed record ExtensionElement(string Name, List<KeyValuePair<string, string?>> Parameters)
    {
        public override string ToString() => Name + string.Concat(Parameters.Select(p => "; " + p.Key + (p.Value is null ? string.Empty : "=" + p.Value)));
    }

    /// <summary>Parses header values with the grammar; null when any value does not match (or is null, or a quoted value is not a token once unescaped).</summary>
    public static List<ExtensionElement>? ParseExtensions(IEnumerable<string?> values)
    {
        var result = new List<ExtensionElement>();
        foreach (string? value in values)
        {
            if (value is null)
            {
                return null;
            }

            Match match = ExtensionListRegex().Match(value);
            if (!match.Success)
            {
                return null;
            }

            CaptureCollection names = match.Groups["name"].Captures;
            CaptureCollection parameterNames = match.Groups["pname"].Captures;
            CaptureCollection parameterValues = match.Groups["pvalue"].Captures;
            for (int n = 0; n < names.Count; n++)
            {
                int start = names[n].Index;
                int end = n + 1 < names.Count ? names[n + 1].Index : value.Length;
                var parameters = new List<KeyValuePair<string, string?>>();
                for (int p = 0; p < parameterNames.Count; p++)
                {
                    Capture parameter = parameterNames[p];
                    if (parameter.Index < start || parameter.Index >= end)
                    {
                        continue;
                    }

                    int nextParameter = p + 1 < parameterNames.Count ? parameterNames[p + 1].Index : value.Length;
                    string? parameterValue = null;
                    foreach (Capture candidate in parameterValues)
                    {
                        if (candidate.Index > parameter.Index && candidate.Index < Math.Min(nextParameter, end))
                        {
                            parameterValue = Unquote(candidate.Value);
                            if (!IsToken(parameterValue))
                            {
                                return null;
                            }
                        }
                    }

                    parameters.Add(new KeyValuePair<string, string?>(parameter.Value, parameterValue));
                }

                result.Add(new ExtensionElement(names[n].Value, parameters));
            }
        }

        return result;
    }

    private static string Unquote(string value)
    {
        if (value.Length == 0 || value[0] != '"')
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (int i = 1; i < value.Length - 1; i++)
        {
            if (value[i] == '\\')
            {
                i++;
            }

            builder.Append(value[i]);
        }

        return builder.ToString();
    }

    public static bool IsTokenChar(char c) =>
        c is (>= '0' and <= '9') or (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    public static bool IsToken(string s) => s.Length > 0 && s.All(IsTokenChar);

    public static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (byte b in s)
        {
            if (!IsTokenChar((char)b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5).</summary>
    public static bool IsFieldByte(byte b) => b == 0x09 || (b >= 0x20 && b != 0x7F);

    /// <summary>One header field line of a complete head, as the parser must report it.</summary>
    public readonly record struct Field(string Name, string Value);

    /// <summary>
    /// Splits a COMPLETE head (ending with CRLFCRLF) into its start line and fields, checking the syntax
    /// and limits the parser documents; returns the problem, or null.
    /// </summary>
    public static string? CheckCompleteHead(ReadOnlySpan<byte> head, HttpHeadLimits limits, bool isRequest, out string[] startLineParts, out List<Field> fields)
    {
        startLineParts = [];
        fields = [];
        if (head.Length > limits.MaxHeadSize)
        {
            return $"the head is {head.Length} bytes, over MaxHeadSize {limits.MaxHeadSize}";
        }

        if (!head.EndsWith("\r\n\r\n"u8) || head.IndexOf("\r\n\r\n"u8) != head.Length - 4)
        {
            return "the consumed bytes do not end at the first CRLFCRLF";
        }

        string text = Encoding.Latin1.GetString(head[..^4]);
        string[] lines = text.Split("\r\n");
        foreach (string line in lines)
        {
            if (line.Contains('\r', StringComparison.Ordinal) || line.Contains('\n', StringComparison.Ordinal))
            {
                return "a line holds a bare CR or LF";
            }
        }

        string start = lines[0];
        if (start.Length == 0 || start.Length > limits.MaxStartLineLength)
        {
            return $"the start line is empty or longer than {limits.MaxStartLineLength}";
        }

        if (lines.Length - 1 > limits.MaxHeaderCount)
        {
            return $"{lines.Length - 1} header lines, over MaxHeaderCount {limits.MaxHeaderCount}";
        }

        if (isRequest)
        {
            string[] parts = start.Split(' ');
            if (parts.Length != 3 || !IsToken(parts[0]) || parts[1].Length == 0 || parts[1].Any(c => c is < '!' or > '~')
                || parts[2] is not ("HTTP/1.1" or "HTTP/1.0"))
            {
                return "the request line is not 'token SP visible-ASCII SP HTTP/1.x'";
            }

            startLineParts = parts;
        }
        else
        {
            if (start.Length < 12 || start[..9] is not ("HTTP/1.1 " or "HTTP/1.0 ") || !start.AsSpan(9, 3).ContainsOnlyDigits()
                || (start.Length > 12 && start[12] != ' ') || start[9] is < '1' or > '5')
            {
                return "the status line is not 'HTTP/1.x SP 3DIGIT [SP reason]' with a code in 100-599";
            }

            string reason = start.Length > 12 ? start[13..] : string.Empty;
            if (reason.Any(c => !IsFieldByte((byte)c)))
            {
                return "the reason phrase holds a control character";
            }

            startLineParts = [start[..8], start[9..12], reason];
        }

        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Length > limits.MaxHeaderLineLength)
            {
                return $"header line {i + 1} is longer than {limits.MaxHeaderLineLength}";
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return $"header line {i + 1} has no token name immediately followed by ':'";
            }

            string value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => !IsFieldByte((byte)c)))
            {
                return $"header line {i + 1} has a control character in its value";
            }

            fields.Add(new Field(line[..colon], value));
        }

        return null;
    }

    private static bool ContainsOnlyDigits(this ReadOnlySpan<char> span)
    {
        foreach (char c in span)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> Values(List<Field> fields, string name) =>
        fields.Where(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToList();

    private static List<string> ListElements(List<Field> fields, string name) =>
        Values(fields, name).SelectMany(v => v.Split(',')).Select(e => e.Trim(' ', '\t')).Where(e => e.Length > 0).ToList();

    private static bool HasToken(List<Field> fields, string name, string token) =>
        Values(fields, name).SelectMany(v => v.Split(',')).Any(e => string.Equals(e.Trim(' ', '\t'), token, StringComparison.OrdinalIgnoreCase));

    /// <summary>RFC 6455 §4.1: base64 of exactly 16 bytes: 22 base64 characters and "==".</summary>
    public static bool IsValidKey(string key)
    {
        if (key.Length != 24 || !key.EndsWith("==", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in key.AsSpan(0, 22))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The status <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> must answer, from its documented checks in
    /// their documented order: 101, 400, 403 or 426.
    /// </summary>
    public static int ExpectedNegotiateStatus(string method, string version, List<Field> fields, ServerHandshakeOptions options)
    {
        if (method != "GET" || version != "HTTP/1.1")
        {
            return 400;
        }

        List<string> hosts = Values(fields, "Host");
        if (hosts.Count != 1 || hosts[0].Length == 0)
        {
            return 400;
        }

        if (!HasToken(fields, "Upgrade", "websocket") || !HasToken(fields, "Connection", "upgrade"))
        {
            return 400;
        }

        List<string> lengths = Values(fields, "Content-Length");
        if (Values(fields, "Transfer-Encoding").Count > 0 || lengths.Count > 1 || (lengths.Count == 1 && lengths[0] != "0"))
        {
            return 400;
        }

        List<string> keys = Values(fields, "Sec-WebSocket-Key");
        if (keys.Count != 1 || !IsValidKey(keys[0]))
        {
            return 400;
        }

        List<string> versions = Values(fields, "Sec-WebSocket-Version");
        if (versions.Count != 1)
        {
            return 400;
        }

        if (versions[0] != "13")
        {
            return 426;
        }

        bool restricted = options.AllowedOrigins.Count > 0;
        if (restricted || options.RequireOrigin)
        {
            List<string> origins = Values(fields, "Origin");
            if (origins.Count != 1 || (restricted && !options.AllowedOrigins.Any(o => string.Equals(o, origins[0], StringComparison.OrdinalIgnoreCase))))
            {
                return 403;
            }
        }

        if (Values(fields, "Sec-WebSocket-Protocol").Count > 0)
        {
            List<string> offered = ListElements(fields, "Sec-WebSocket-Protocol");
            if (offered.Count == 0 || !offered.All(IsToken))
            {
                return 400;
            }
        }

        List<string> extensions = Values(fields, "Sec-WebSocket-Extensions");
        if (extensions.Count > 0 && ParseExtensions(extensions) is null)
        {
            return 400;
        }

        return 101;
    }

    /// <summary>The subprotocols the client offered (trimmed list elements of every Sec-WebSocket-Protocol line).</summary>
    public static List<string> OfferedSubprotocols(List<Field> fields) => ListElements(fields, "Sec-WebSocket-Protocol");

    public static List<string> ExtensionValues(List<Field> fields) => Values(fields, "Sec-WebSocket-Extensions");
}
