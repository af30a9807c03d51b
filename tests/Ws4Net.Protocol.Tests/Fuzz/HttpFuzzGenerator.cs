using System.Globalization;
using System.Text;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>A generated request head as lines (latin1 strings, without CRLF), and what it offers.</summary>
internal sealed class RequestSpec
{
    public List<string> Lines { get; } = [];

    public List<string> Subprotocols { get; } = [];

    public List<string> ExtensionValues { get; } = [];

    public byte[] Render(bool terminate = true)
    {
        var builder = new StringBuilder();
        foreach (string line in Lines)
        {
            builder.Append(line).Append("\r\n");
        }

        if (terminate)
        {
            builder.Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(builder.ToString());
    }
}

/// <summary>
/// Generators for the handshake fuzzers: valid upgrade requests (random targets, header order and case,
/// OWS, list forms, subprotocols, extension offers, extra headers with obs-text), random and broken
/// header lines, <c>Sec-WebSocket-Extensions</c> values from the grammar with random damage, responses,
/// and line- and byte-level mutations (bare LF/CR, NUL and control bytes, non-ASCII, huge lines, many
/// headers, obs-fold, truncation, garbage after the head).
/// </summary>
internal static class HttpFuzzGenerator
{
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string VisibleAscii = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    private static readonly string[] Subprotocols = ["chat", "superchat", "v2.json", "mqtt", "x-custom~1", "wamp.2.json"];
    private static readonly string[] ExtensionNames = ["permessage-deflate", "x-webkit-deflate-frame", "foo", "mux", "x.y_z"];
    private static readonly string[] ParameterNames = ["client_max_window_bits", "server_max_window_bits", "server_no_context_takeover", "client_no_context_takeover", "a", "x-y"];
    private static readonly string[] CommonNames = ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Origin", "Content-Length", "Transfer-Encoding", "User-Agent", "Cookie", "Accept"];

    public static string Token(FuzzRng rng, int maxLength = 12)
    {
        int length = rng.Next(1, maxLength + 1);
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            builder.Append(TokenChars[rng.Next(TokenChars.Length)]);
        }

        return builder.ToString();
    }

    private static string RandomCase(FuzzRng rng, string text)
    {
        if (rng.Chance(60))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            builder.Append(rng.NextBool() ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    private static string Ows(FuzzRng rng) => rng.Next(10) switch
    {
        < 6 => string.Empty,
        < 8 => " ",
        < 9 => "\t",
        _ => " \t ",
    };

    /// <summary>A field value of allowed bytes: visible ASCII, SP, HTAB, obs-text (no leading/trailing OWS).</summary>
    public static string FieldValue(FuzzRng rng, int maxLength = 40)
    {
        int length = rng.Next(0, maxLength + 1);
        var builder = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            int pick = rng.Next(100);
            builder.Append(pick switch
            {
                < 80 => VisibleAscii[rng.Next(VisibleAscii.Length)],
                < 88 => ' ',
                < 92 => '\t',
                _ => (char)rng.Next(0x80, 0x100),
            });
        }

        return builder.ToString().Trim(' ', '\t');
    }

    public static string Key(FuzzRng rng) => Convert.ToBase64String(rng.Bytes(16));

    /// <summary>A valid upgrade request; <paramref name="origin"/> is sent when not null.</summary>
    public static RequestSpec ValidRequest(FuzzRng rng, string? origin)
    {
        var spec = new RequestSpec();
        string target = "/" + (rng.Chance(30) ? string.Empty : Token(rng, 20).Replace("%", "/", StringComparison.Ordinal)) + (rng.Chance(20) ? "?" + Token(rng, 10) + "=" + Token(rng, 10) : string.Empty);
        spec.Lines.Add("GET " + target + " HTTP/1.1");

        var headers = new List<string>
        {
            RandomCase(rng, "Host") + ":" + Ows(rng) + (rng.NextBool() ? "server.example.com" : "127.0.0.1:" + rng.Next(1, 65536).ToString(CultureInfo.InvariantCulture)) + Ows(rng),
            RandomCase(rng, "Upgrade") + ":" + Ows(rng) + (rng.Chance(80) ? RandomCase(rng, "websocket") : "h2c," + Ows(rng) + RandomCase(rng, "websocket")),
            RandomCase(rng, "Connection") + ":" + Ows(rng) + (rng.Chance(70) ? RandomCase(rng, "Upgrade") : "keep-alive," + Ows(rng) + RandomCase(rng, "Upgrade")),
            RandomCase(rng, "Sec-WebSocket-Key") + ":" + Ows(rng) + Key(rng) + Ows(rng),
            RandomCase(rng, "Sec-WebSocket-Version") + ":" + Ows(rng) + "13" + Ows(rng),
        };

        if (origin is not null)
        {
            headers.Add(RandomCase(rng, "Origin") + ": " + origin);
        }

        if (rng.Chance(50))
        {
            var offered = Subprotocols.OrderBy(_ => rng.Next(1000)).Take(rng.Next(1, 4)).ToList();
            spec.Subprotocols.AddRange(offered);
            if (offered.Count > 1 && rng.Chance(30))
            {
                // Split over two header lines (RFC 9110 §5.3: equivalent to one comma-joined list).
                headers.Add("Sec-WebSocket-Protocol: " + offered[0]);
                headers.Add("Sec-WebSocket-Protocol: " + string.Join("," + Ows(rng), offered.Skip(1)));
            }
            else
            {
                headers.Add(RandomCase(rng, "Sec-WebSocket-Protocol") + ":" + Ows(rng) + string.Join("," + Ows(rng), offered));
            }
        }

        if (rng.Chance(50))
        {
            int lines = rng.Chance(80) ? 1 : 2;
            for (int i = 0; i < lines; i++)
            {
                string value = ExtensionValue(rng, valid: true);
                spec.ExtensionValues.Add(value);
                headers.Add("Sec-WebSocket-Extensions:" + Ows(rng) + value);
            }
        }

        if (rng.Chance(30))
        {
            headers.Add("Content-Length: 0");
        }

        int extras = rng.Chance(60) ? rng.Next(0, 3) : rng.Next(3, 12);
        for (int i = 0; i < extras; i++)
        {
            string name;
            do
            {
                name = Token(rng, 16);
            }
            while (CommonNames.Contains(name, StringComparer.OrdinalIgnoreCase) || name.StartsWith("Sec-WebSocket-", StringComparison.OrdinalIgnoreCase));

            headers.Add(name + ":" + Ows(rng) + FieldValue(rng) + Ows(rng));
        }

        rng.Shuffle(headers);
        spec.Lines.AddRange(headers);
        return spec;
    }

    /// <summary>A Sec-WebSocket-Extensions value: from the grammar (with OWS, empty elements, quoted values) and, unless <paramref name="valid"/>, damaged.</summary>
    public static string ExtensionValue(FuzzRng rng, bool valid)
    {
        var builder = new StringBuilder();
        int elements = rng.Next(1, 4);
        if (!valid && rng.Chance(5))
        {
            elements = 0;
        }

        for (int e = 0; e < elements; e++)
        {
            if (e > 0)
            {
                builder.Append(Ows(rng)).Append(',').Append(rng.Chance(10) ? "," : string.Empty).Append(Ows(rng));
            }

            builder.Append(rng.Chance(70) ? ExtensionNames[rng.Next(ExtensionNames.Length)] : Token(rng, 10));
            int parameters = rng.Chance(50) ? 0 : rng.Next(1, 4);
            for (int p = 0; p < parameters; p++)
            {
                builder.Append(Ows(rng)).Append(';').Append(Ows(rng)).Append(rng.Chance(70) ? ParameterNames[rng.Next(ParameterNames.Length)] : Token(rng, 8));
                if (rng.NextBool())
                {
                    builder.Append(Ows(rng)).Append('=').Append(Ows(rng));
                    string value = rng.Chance(60) ? rng.Next(8, 16).ToString(CultureInfo.InvariantCulture) : Token(rng, 6);
                    if (rng.Chance(30))
                    {
                        // A quoted-string whose content is a token once unescaped, with an escaped character now and then.
                        var quoted = new StringBuilder("\"");
                        foreach (char c in value)
                        {
                            quoted.Append(rng.Chance(20) ? "\\" : string.Empty).Append(c);
                        }

                        value = quoted.Append('"').ToString();
                    }

                    builder.Append(value);
                }
            }
        }

        if (rng.Chance(10))
        {
            builder.Insert(0, rng.NextBool() ? ", " : ",");
        }

        if (rng.Chance(10))
        {
            builder.Append(rng.NextBool() ? "," : ", ,");
        }

        if (!valid)
        {
            const string Damage = ",;=\" \t\\/()<>@[]{}?:\u00E9\u00FF\u0100\u20AC\u0000\u0001\u007F\r\n";
            int damages = rng.Next(1, 4);
            for (int d = 0; d < damages; d++)
            {
                int at = rng.Next(builder.Length + 1);
                switch (rng.Next(4))
                {
                    case 0:
                        builder.Insert(at, Damage[rng.Next(Damage.Length)]);
                        break;
                    case 1 when builder.Length > 0:
                        builder.Remove(Math.Min(at, builder.Length - 1), 1);
                        break;
                    case 2 when builder.Length > 0:
                        builder[Math.Min(at, builder.Length - 1)] = Damage[rng.Next(Damage.Length)];
                        break;
                    default:
                        builder.Insert(at, TokenChars[rng.Next(TokenChars.Length)]);
                        break;
                }
            }
        }

        return builder.ToString();
    }

    /// <summary>A random (mostly broken) header line.</summary>
    public static string RandomHeaderLine(FuzzRng rng)
    {
        string name = rng.Chance(50) ? RandomCase(rng, CommonNames[rng.Next(CommonNames.Length)]) : Token(rng, 16);
        string value = rng.Next(8) switch
        {
            0 => "13",
            1 => Key(rng),
            2 => "websocket",
            3 => ExtensionValue(rng, valid: rng.NextBool()),
            _ => FieldValue(rng),
        };
        return rng.Next(12) switch
        {
            0 => name + " : " + value,          // whitespace before the colon
            1 => " " + name + ": " + value,     // obs-fold
            2 => name + value,                  // no colon
            3 => ": " + value,                  // empty name
            4 => name + "\u00E9: " + value,     // non-token name
            _ => name + ":" + Ows(rng) + value,
        };
    }

    /// <summary>Mutates the lines of a head (structure-aware), then, maybe, its bytes.</summary>
    public static byte[] MutateRequest(FuzzRng rng, RequestSpec spec, out string description)
    {
        var log = new StringBuilder();
        List<string> lines = spec.Lines;
        bool terminate = true;
        int count = rng.Chance(70) ? 1 : rng.Next(2, 5);
        for (int m = 0; m < count; m++)
        {
            int index = rng.Next(lines.Count);
            switch (rng.Next(14))
            {
                case 0:
                    lines.Insert(rng.Next(1, lines.Count + 1), lines[Math.Max(1, index)]);
                    log.Append("duplicate-line;");
                    break;
                case 1 when lines.Count > 1:
                    lines.RemoveAt(rng.Next(1, lines.Count));
                    log.Append("delete-line;");
                    break;
                case 2:
                    lines.Insert(rng.Next(1, lines.Count + 1), RandomHeaderLine(rng));
                    log.Append("random-line;");
                    break;
                case 3:
                    lines[0] = rng.Next(8) switch
                    {
                        0 => "get / HTTP/1.1",
                        1 => "POST /chat HTTP/1.1",
                        2 => "GET /chat HTTP/1.0",
                        3 => "GET /chat HTTP/2.0",
                        4 => "GET  /chat HTTP/1.1",
                        5 => "GET /chat http/1.1",
                        6 => "GET /ch\u00E9t HTTP/1.1",
                        _ => "GET /chat HTTP/1.1 ",
                    };
                    log.Append("start-line;");
                    break;
                case 4:
                    {
                        // A huge line, around a limit.
                        int length = rng.Next(4) switch { 0 => rng.Next(100, 700), 1 => rng.Next(8180, 8200), 2 => rng.Next(16370, 16400), _ => rng.Next(1, 3000) };
                        string line = index == 0 ? "GET /" + new string('a', length) + " HTTP/1.1" : "X-Big: " + new string('b', length);
                        lines[index] = line;
                        log.Append("huge-line;");
                        break;
                    }

                case 5:
                    {
                        int many = rng.Next(4) switch { 0 => rng.Next(5, 30), 1 => rng.Next(95, 105), _ => rng.Next(1, 10) };
                        for (int i = 0; i < many; i++)
                        {
                            lines.Add("X-H" + i.ToString(CultureInfo.InvariantCulture) + ": v");
                        }

                        log.Append("many-headers;");
                        break;
                    }

                case 6:
                    lines.Insert(rng.Next(1, lines.Count + 1), "Sec-WebSocket-Extensions: " + ExtensionValue(rng, valid: rng.Chance(30)));
                    log.Append("extensions;");
                    break;
                case 7:
                    lines.Insert(rng.Next(1, lines.Count + 1), rng.Next(6) switch
                    {
                        0 => "Sec-WebSocket-Version: " + rng.Pick(["8", "12", "13, 13", "14", "", "013"]),
                        1 => "Sec-WebSocket-Key: " + rng.Pick([Key(rng)[..23], Key(rng) + "A", "dGhlIHNhbXBsZSBub25jZQ=A", "dGhlIHNhbXBsZSBub25jZR==", "!GhlIHNhbXBsZSBub25jZQ==", ""]),
                        2 => "Content-Length: " + rng.Pick(["0", "1", "00", "", "5"]),
                        3 => "Transfer-Encoding: chunked",
                        4 => "Origin: " + rng.Pick(["http://example.com", "HTTPS://A.TEST", "null", "http://evil.test"]),
                        _ => "Sec-WebSocket-Protocol: " + rng.Pick(["", ",", "chat, ", "a b", "chat,superchat", "\u00E9"]),
                    });
                    log.Append("handshake-header;");
                    break;
                case 8 when lines.Count > 2:
                    {
                        int other = rng.Next(1, lines.Count);
                        int one = rng.Next(1, lines.Count);
                        (lines[one], lines[other]) = (lines[other], lines[one]);
                        log.Append("swap-lines;");
                        break;
                    }

                case 9:
                    {
                        // Replace a header's value by a random one.
                        if (index > 0 && lines[index].IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
                        {
                            lines[index] = lines[index][..(colon + 1)] + Ows(rng) + FieldValue(rng) + Ows(rng);
                            log.Append("value;");
                        }

                        break;
                    }

                case 10:
                    terminate = false;
                    log.Append("unterminated;");
                    break;
                default:
                    log.Append("none;");
                    break;
            }
        }

        byte[] bytes = spec.Render(terminate);
        if (rng.Chance(50))
        {
            bytes = MutateBytes(rng, bytes, log);
        }

        if (rng.Chance(25))
        {
            // Whatever follows the head (frames, garbage) must not change the parse.
            bytes = [.. bytes, .. rng.Bytes(rng.Next(1, 64))];
            log.Append("trailing-bytes;");
        }

        description = log.ToString();
        return bytes;
    }

    /// <summary>Byte-level damage: bare LF/CR, removed CR, NUL/control/non-ASCII bytes, flips, truncation, duplication.</summary>
    public static byte[] MutateBytes(FuzzRng rng, byte[] input, StringBuilder log)
    {
        var bytes = new List<byte>(input);
        int count = rng.Chance(70) ? 1 : rng.Next(2, 5);
        for (int m = 0; m < count; m++)
        {
            int at = rng.Next(bytes.Count + 1);
            switch (rng.Next(10))
            {
                case 0:
                    {
                        int crlf = FindCrlf(bytes, at);
                        if (crlf >= 0)
                        {
                            bytes.RemoveAt(crlf);   // bare LF
                        }

                        log.Append("bare-lf;");
                        break;
                    }

                case 1:
                    {
                        int crlf = FindCrlf(bytes, at);
                        if (crlf >= 0)
                        {
                            bytes.RemoveAt(crlf + 1);   // bare CR
                        }

                        log.Append("bare-cr;");
                        break;
                    }

                case 2:
                    bytes.Insert(at, rng.Pick<byte>([0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F]));
                    log.Append("control-byte;");
                    break;
                case 3:
                    bytes.Insert(at, (byte)rng.Next(0x80, 0x100));
                    log.Append("non-ascii;");
                    break;
                case 4:
                    bytes.Insert(at, rng.Pick<byte>([(byte)'\r', (byte)'\n', (byte)' ', (byte)'\t', (byte)':']));
                    log.Append("syntax-byte;");
                    break;
                case 5 when bytes.Count > 0:
                    bytes[Math.Min(at, bytes.Count - 1)] ^= (byte)(1 << rng.Next(8));
                    log.Append("flip;");
                    break;
                case 6:
                    bytes.RemoveRange(at, bytes.Count - at);
                    log.Append("truncate;");
                    break;
                case 7 when bytes.Count > 0:
                    {
                        int start = Math.Min(at, bytes.Count - 1);
                        int length = Math.Min(bytes.Count - start, rng.Next(1, 40));
                        bytes.InsertRange(rng.Next(bytes.Count + 1), bytes.GetRange(start, length).ToArray());
                        log.Append("duplicate-range;");
                        break;
                    }

                case 8:
                    bytes.InsertRange(at, "\r\n"u8.ToArray());
                    log.Append("crlf;");
                    break;
                default:
                    bytes.InsertRange(at, rng.Bytes(rng.Next(1, 8)));
                    log.Append("random-bytes;");
                    break;
            }
        }

        return [.. bytes];
    }

    private static int FindCrlf(List<byte> bytes, int from)
    {
        for (int k = 0; k < bytes.Count - 1; k++)
        {
            int i = (from + k) % (bytes.Count - 1);
            if (bytes[i] == '\r' && bytes[i + 1] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A response head: a 101 in the shape servers send, a rejection, or an arbitrary status line; with random headers.</summary>
    public static byte[] Response(FuzzRng rng, out string description)
    {
        var lines = new List<string>();
        int kind = rng.Next(4);
        lines.Add(kind switch
        {
            0 => "HTTP/1.1 101 Switching Protocols",
            1 => "HTTP/1.1 " + rng.Pick(["400 Bad Request", "403 Forbidden", "426 Upgrade Required", "200 OK", "101", "101 ", "599 x\u00E9"]),
            2 => rng.Pick(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/1.1x", "http/1.1"]) + " " + rng.Next(0, 1000).ToString("D3", CultureInfo.InvariantCulture) + (rng.NextBool() ? " " + FieldValue(rng, 10) : string.Empty),
            _ => Encoding.Latin1.GetString(rng.Bytes(rng.Next(0, 20))).Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal),
        });
        if (kind == 0 || rng.NextBool())
        {
            lines.Add("Upgrade: websocket");
            lines.Add("Connection: Upgrade");
            lines.Add("Sec-WebSocket-Accept: " + (rng.NextBool() ? "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" : Convert.ToBase64String(rng.Bytes(20))));
        }

        int extras = rng.Next(0, 6);
        for (int i = 0; i < extras; i++)
        {
            lines.Add(rng.Chance(70) ? Token(rng) + ": " + FieldValue(rng) : RandomHeaderLine(rng));
        }

        List<string> headers = lines.Skip(1).ToList();
        rng.Shuffle(headers);
        var spec = new RequestSpec();
        spec.Lines.Add(lines[0]);
        spec.Lines.AddRange(headers);
        var log = new StringBuilder("response;");
        byte[] bytes = spec.Render(terminate: rng.Chance(90));
        if (rng.Chance(50))
        {
            bytes = MutateBytes(rng, bytes, log);
        }

        description = log.ToString();
        return bytes;
    }
}
