using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Strict, incremental parser of HTTP/1.1 heads (RFC 9112 §2-§5): the opening-handshake request
/// (server side) and response (client side) of RFC 6455 §4.
/// </summary>
/// <remarks>
/// <para>
/// Incremental by re-call: the caller appends every received byte to one buffer and parses the whole
/// buffer again. The result is <see cref="HttpHeadParseStatus.Incomplete"/> until the empty line
/// (CRLFCRLF) that ends the head has arrived, but <see cref="HttpHeadParseStatus.Invalid"/> as soon as the
/// buffered bytes contain a syntax error in a completed line or already exceed a
/// <see cref="HttpHeadLimits"/> limit, so the caller never has to buffer more than
/// <see cref="HttpHeadLimits.MaxHeadSize"/> bytes. Bytes after the head are never consumed.
/// </para>
/// <para>
/// Strictness: every line ends with CRLF (a bare CR or LF is an error); no empty line before the start
/// line; the start line has exactly the shape of RFC 9112 §3 / §4 with single SP separators; the version
/// is <c>HTTP/1.0</c> or <c>HTTP/1.1</c>; header names are non-empty tokens immediately followed by
/// <c>':'</c>; obs-fold (a line starting with SP or HTAB) is rejected; values must not contain NUL or any
/// other control character except HTAB. Values are decoded as latin1 (ASCII plus obs-text) and trimmed of
/// SP/HTAB.
/// </para>
/// <para>Stateless and thread-safe. Allocates the parsed head only.</para>
/// </remarks>
public static class HttpHeadParser
{
    /// <summary>Parses an HTTP request head from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Every byte received so far on the connection, starting with the request line.</param>
    /// <param name="limits">The size limits to enforce.</param>
    /// <returns>
    /// <see cref="HttpHeadParseStatus.Complete"/> with the head and the number of bytes it used;
    /// <see cref="HttpHeadParseStatus.Incomplete"/> when more bytes are needed; or
    /// <see cref="HttpHeadParseStatus.Invalid"/> with the status to answer (400, 414, 431 or 505) and a reason.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="limits"/> is null.</exception>
    public static HttpHeadParseResult<HttpRequestHead> ParseRequest(ReadOnlySpan<byte> buffer, HttpHeadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Outcome outcome = ScanTwice(buffer, limits, isRequest: true, out StartLine start, out HttpHeaderCollection? headers);
        return outcome.Status == HttpHeadParseStatus.Complete
            ? new HttpHeadParseResult<HttpRequestHead>(
                HttpHeadParseStatus.Complete,
                outcome.Consumed,
                new HttpRequestHead(start.First, start.Second, start.Third, headers!),
                0,
                null)
            : new HttpHeadParseResult<HttpRequestHead>(outcome.Status, 0, null, outcome.ErrorStatusCode, outcome.ErrorReason);
    }

    /// <summary>Parses an HTTP response head from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Every byte received so far on the connection, starting with the status line.</param>
    /// <param name="limits">The size limits to enforce; <see cref="HttpHeadLimits.MaxStartLineLength"/> applies to the status line.</param>
    /// <returns>
    /// <see cref="HttpHeadParseStatus.Complete"/> with the head and the number of bytes it used;
    /// <see cref="HttpHeadParseStatus.Incomplete"/> when more bytes are needed; or
    /// <see cref="HttpHeadParseStatus.Invalid"/> with a classifying status (400, 414, 431 or 505) and a reason.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="limits"/> is null.</exception>
    public static HttpHeadParseResult<HttpResponseHead> ParseResponse(ReadOnlySpan<byte> buffer, HttpHeadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Outcome outcome = ScanTwice(buffer, limits, isRequest: false, out StartLine start, out HttpHeaderCollection? headers);
        return outcome.Status == HttpHeadParseStatus.Complete
            ? new HttpHeadParseResult<HttpResponseHead>(
                HttpHeadParseStatus.Complete,
                outcome.Consumed,
                new HttpResponseHead(start.First, start.StatusCode, start.Third, headers!),
                0,
                null)
            : new HttpHeadParseResult<HttpResponseHead>(outcome.Status, 0, null, outcome.ErrorStatusCode, outcome.ErrorReason);
    }

    /// <summary>
    /// Validates without allocating (callers re-parse on every read, so an incomplete head must stay cheap),
    /// then, once the head is complete, scans it again to build the strings.
    /// </summary>
    private static Outcome ScanTwice(
        ReadOnlySpan<byte> buffer,
        HttpHeadLimits limits,
        bool isRequest,
        out StartLine startLine,
        out HttpHeaderCollection? headers)
    {
        headers = null;
        Outcome outcome = Scan(buffer, limits, isRequest, null, out startLine);
        if (outcome.Status == HttpHeadParseStatus.Complete)
        {
            headers = new HttpHeaderCollection();
            Outcome built = Scan(buffer[..outcome.Consumed], limits, isRequest, headers, out startLine);
            Debug.Assert(built == outcome, "The building pass must agree with the validating pass.");
        }

        return outcome;
    }

    /// <summary>Scans the head; builds the start line and fills <paramref name="headers"/> only when it is not null.</summary>
    private static Outcome Scan(
        ReadOnlySpan<byte> buffer,
        HttpHeadLimits limits,
        bool isRequest,
        HttpHeaderCollection? headers,
        out StartLine startLine)
    {
        startLine = default;

        // Only the first MaxHeadSize bytes can belong to an acceptable head.
        ReadOnlySpan<byte> window = buffer.Length > limits.MaxHeadSize ? buffer[..limits.MaxHeadSize] : buffer;
        string startLineName = isRequest ? "request line" : "status line";
        int position = 0;
        int lineNumber = 1;
        int headerCount = 0;

        while (true)
        {
            bool isStartLine = lineNumber == 1;
            int maxLength = isStartLine ? limits.MaxStartLineLength : limits.MaxHeaderLineLength;
            ReadOnlySpan<byte> rest = window[position..];
            int lf = rest.IndexOf((byte)'\n');

            if (lf < 0)
            {
                // An unterminated line: decide now whether it can still become valid.
                ReadOnlySpan<byte> pending = rest;
                if (!pending.IsEmpty && pending[^1] == (byte)'\r')
                {
                    pending = pending[..^1];
                }

                if (pending.Contains((byte)'\r'))
                {
                    return Outcome.Invalid(400, $"Line {lineNumber}: CR not followed by LF (lines must end with CRLF).");
                }

                if (pending.Length > maxLength)
                {
                    return LineTooLong(isStartLine, startLineName, lineNumber, maxLength);
                }

                if (!isStartLine && !pending.IsEmpty && headerCount >= limits.MaxHeaderCount)
                {
                    return TooManyHeaders(limits);
                }

                if (window.Length >= limits.MaxHeadSize)
                {
                    // The terminator is not within MaxHeadSize bytes, so the head is necessarily larger.
                    return Outcome.Invalid(
                        431,
                        string.Create(CultureInfo.InvariantCulture, $"The HTTP head exceeds the limit of {limits.MaxHeadSize} bytes."));
                }

                return default;
            }

            ReadOnlySpan<byte> line = rest[..lf];
            if (line.IsEmpty || line[^1] != (byte)'\r')
            {
                return Outcome.Invalid(400, $"Line {lineNumber}: bare LF (lines must end with CRLF).");
            }

            line = line[..^1];
            if (line.Contains((byte)'\r'))
            {
                return Outcome.Invalid(400, $"Line {lineNumber}: CR not followed by LF (lines must end with CRLF).");
            }

            if (line.Length > maxLength)
            {
                return LineTooLong(isStartLine, startLineName, lineNumber, maxLength);
            }

            int next = position + lf + 1;
            if (isStartLine)
            {
                if (line.IsEmpty)
                {
                    return Outcome.Invalid(400, $"Empty line where the {startLineName} was expected.");
                }

                bool build = headers is not null;
                Outcome? error = isRequest ? ParseRequestLine(line, build, out startLine) : ParseStatusLine(line, build, out startLine);
                if (error is { } failure)
                {
                    return failure;
                }
            }
            else if (line.IsEmpty)
            {
                return new Outcome(HttpHeadParseStatus.Complete, next, 0, null);
            }
            else
            {
                if (++headerCount > limits.MaxHeaderCount)
                {
                    return TooManyHeaders(limits);
                }

                if (ParseHeaderLine(line, lineNumber, headers) is { } failure)
                {
                    return failure;
                }
            }

            position = next;
            lineNumber++;
        }
    }

    private static Outcome LineTooLong(bool isStartLine, string startLineName, int lineNumber, int maxLength) => isStartLine
        ? Outcome.Invalid(414, string.Create(CultureInfo.InvariantCulture, $"The {startLineName} exceeds the limit of {maxLength} bytes."))
        : Outcome.Invalid(431, string.Create(CultureInfo.InvariantCulture, $"Line {lineNumber}: the header line exceeds the limit of {maxLength} bytes."));

    private static Outcome TooManyHeaders(HttpHeadLimits limits) =>
        Outcome.Invalid(431, string.Create(CultureInfo.InvariantCulture, $"More than {limits.MaxHeaderCount} header fields."));

    private static Outcome? ParseRequestLine(ReadOnlySpan<byte> line, bool build, out StartLine startLine)
    {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        startLine = default;
        const string Shape = "Malformed request line: expected 'method SP request-target SP HTTP-version'.";
        int firstSpace = line.IndexOf((byte)' ');
        if (firstSpace < 0)
        {
            return Outcome.Invalid(400, Shape);
        }

        ReadOnlySpan<byte> method = line[..firstSpace];
        ReadOnlySpan<byte> afterMethod = line[(firstSpace + 1)..];
        int secondSpace = afterMethod.IndexOf((byte)' ');
        if (secondSpace < 0)
        {
            return Outcome.Invalid(400, Shape);
        }

        ReadOnlySpan<byte> target = afterMethod[..secondSpace];
        ReadOnlySpan<byte> version = afterMethod[(secondSpace + 1)..];
        if (method.IsEmpty || target.IsEmpty || version.IsEmpty || version.Contains((byte)' '))
        {
            return Outcome.Invalid(400, Shape);
        }

        if (!HttpSyntax.IsToken(method))
        {
            return Outcome.Invalid(400, "Malformed request line: the method is not a token.");
        }

        if (target.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
        {
            return Outcome.Invalid(400, "Malformed request line: the request-target contains a character other than visible ASCII.");
        }

        if (ParseVersion(version, out string? versionText) is { } failure)
        {
            return failure;
        }

        if (build)
        {
            startLine = new StartLine(Encoding.ASCII.GetString(method), Encoding.ASCII.GetString(target), versionText!, 0);
        }

        return null;
    }

    private static Outcome? ParseStatusLine(ReadOnlySpan<byte> line, bool build, out StartLine startLine)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4); the second SP may be absent.
        startLine = default;
        const string Shape = "Malformed status line: expected 'HTTP-version SP status-code [SP reason-phrase]'.";
        int space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            return Outcome.Invalid(400, Shape);
        }

        if (ParseVersion(line[..space], out string? versionText) is { } failure)
        {
            return failure;
        }

        ReadOnlySpan<byte> rest = line[(space + 1)..];
        if (rest.Length < 3 || rest[..3].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0 || (rest.Length > 3 && rest[3] != (byte)' '))
        {
            return Outcome.Invalid(400, "Malformed status line: the status code must be exactly three digits.");
        }

        int statusCode = ((rest[0] - '0') * 100) + ((rest[1] - '0') * 10) + (rest[2] - '0');
        if (statusCode is < 100 or > 599)
        {
            return Outcome.Invalid(400, "Malformed status line: the status code must be in 100-599.");
        }

        ReadOnlySpan<byte> reason = rest.Length > 3 ? rest[4..] : [];
        foreach (byte b in reason)
        {
            if (!HttpSyntax.IsFieldByte(b))
            {
                return Outcome.Invalid(400, "Malformed status line: the reason phrase contains a control character.");
            }
        }

        if (build)
        {
            startLine = new StartLine(versionText!, string.Empty, Encoding.Latin1.GetString(reason), statusCode);
        }

        return null;
    }

    private static Outcome? ParseVersion(ReadOnlySpan<byte> version, out string? text)
    {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 §2.3); case-sensitive.
        text = null;
        if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)version[5])
            || version[6] != (byte)'.' || !char.IsAsciiDigit((char)version[7]))
        {
            return Outcome.Invalid(400, "Malformed HTTP version: expected 'HTTP/1.1'.");
        }

        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            text = "HTTP/1.1";
            return null;
        }

        if (version.SequenceEqual("HTTP/1.0"u8))
        {
            text = "HTTP/1.0";
            return null;
        }

        return Outcome.Invalid(505, $"Unsupported HTTP version '{Encoding.ASCII.GetString(version)}': only HTTP/1.0 and HTTP/1.1 are supported.");
    }

    private static Outcome? ParseHeaderLine(ReadOnlySpan<byte> line, int lineNumber, HttpHeaderCollection? headers)
    {
        // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
        if (HttpSyntax.IsOws(line[0]))
        {
            return Outcome.Invalid(400, $"Line {lineNumber}: obsolete line folding (a header line starting with SP or HTAB) is not allowed.");
        }

        int colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            return Outcome.Invalid(400, $"Line {lineNumber}: header line without ':'.");
        }

        ReadOnlySpan<byte> name = line[..colon];
        if (name.IsEmpty)
        {
            return Outcome.Invalid(400, $"Line {lineNumber}: empty header name.");
        }

        if (HttpSyntax.IsOws(name[^1]))
        {
            return Outcome.Invalid(400, $"Line {lineNumber}: whitespace between the header name and ':' is not allowed.");
        }

        if (!HttpSyntax.IsToken(name))
        {
            return Outcome.Invalid(400, $"Line {lineNumber}: the header name contains a character that is not allowed in a token.");
        }

        ReadOnlySpan<byte> value = HttpSyntax.TrimOws(line[(colon + 1)..]);
        foreach (byte b in value)
        {
            if (!HttpSyntax.IsFieldByte(b))
            {
                string nameText = Encoding.ASCII.GetString(name);
                return b == 0
                    ? Outcome.Invalid(400, $"Line {lineNumber}: the value of header '{nameText}' contains NUL.")
                    : Outcome.Invalid(400, $"Line {lineNumber}: the value of header '{nameText}' contains a control character.");
            }
        }

        headers?.AddUnchecked(Encoding.ASCII.GetString(name), Encoding.Latin1.GetString(value));
        return null;
    }

    private readonly record struct StartLine(string First, string Second, string Third, int StatusCode);

    private readonly record struct Outcome(HttpHeadParseStatus Status, int Consumed, int ErrorStatusCode, string? ErrorReason)
    {
        public static Outcome Invalid(int statusCode, string reason) => new(HttpHeadParseStatus.Invalid, 0, statusCode, reason);
    }
}
