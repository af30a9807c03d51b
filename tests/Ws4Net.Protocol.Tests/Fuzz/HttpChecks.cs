using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The properties the handshake fuzzers check for one head, deterministic given the target
/// (<c>http:request:{limits}:{options}:{seed}</c> or <c>http:response:{limits}:{seed}</c>) and the input.
/// </summary>
internal static class HttpChecks
{
    private static readonly int[] ParseErrorCodes = [400, 414, 431, 505];

    /// <summary>What the inputs exercised: parse statuses (with error codes) and Negotiate answers.</summary>
    public static FuzzCounters Outcomes { get; } = new();

    /// <summary>Server policies Negotiate runs under (deterministic delegates; never modified).</summary>
    public static IReadOnlyList<ServerHandshakeOptions> OptionVariants { get; } = CreateVariants();

    public const string ExampleOrigin = "http://example.com";

    private static ServerHandshakeOptions[] CreateVariants()
    {
        var plain = new ServerHandshakeOptions();
        var subprotocols = new ServerHandshakeOptions();
        subprotocols.Subprotocols.Add("superchat");
        subprotocols.Subprotocols.Add("chat");
        subprotocols.Subprotocols.Add("v2.json");
        var hooks = new ServerHandshakeOptions
        {
            SubprotocolSelector = offered => offered[^1],
            ExtensionNegotiator = offers => offers[0].ToString(),
        };
        var origins = new ServerHandshakeOptions();
        origins.AllowedOrigins.Add(ExampleOrigin);
        origins.AllowedOrigins.Add("https://a.test");
        var requireOrigin = new ServerHandshakeOptions
        {
            RequireOrigin = true,
            SubprotocolSelector = _ => null,
            ExtensionNegotiator = offers => string.Join(", ", offers.Select(o => o.Name).Distinct(StringComparer.OrdinalIgnoreCase)),
        };
        return [plain, subprotocols, hooks, origins, requireOrigin];
    }

    public static HttpHeadLimits RandomLimits(FuzzRng rng) => rng.Chance(60)
        ? new HttpHeadLimits()
        : new HttpHeadLimits
        {
            MaxStartLineLength = rng.Chance(50) ? rng.Next(1, 64) : rng.Next(64, 700),
            MaxHeaderLineLength = rng.Chance(50) ? rng.Next(1, 64) : rng.Next(64, 700),
            MaxHeaderCount = rng.Next(1, 24),
            MaxHeadSize = rng.Chance(30) ? rng.Next(1, 128) : rng.Next(128, 5000),
        };

    public static string Limits(HttpHeadLimits limits) =>
        string.Create(CultureInfo.InvariantCulture, $"{limits.MaxStartLineLength}-{limits.MaxHeaderLineLength}-{limits.MaxHeaderCount}-{limits.MaxHeadSize}");

    private static HttpHeadLimits ParseLimits(string text)
    {
        int[] n = text.Split('-').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new HttpHeadLimits { MaxStartLineLength = n[0], MaxHeaderLineLength = n[1], MaxHeaderCount = n[2], MaxHeadSize = n[3] };
    }

    public static string RequestTarget(HttpHeadLimits limits, int variant, ulong seed) =>
        string.Create(CultureInfo.InvariantCulture, $"http:request:{Limits(limits)}:{variant}:{seed}");

    public static string ResponseTarget(HttpHeadLimits limits, ulong seed) =>
        string.Create(CultureInfo.InvariantCulture, $"http:response:{Limits(limits)}:{seed}");

    /// <summary>A parse result with the head rendered as text, for comparisons.</summary>
    private readonly record struct Outcome(HttpHeadParseStatus Status, int Consumed, int ErrorStatusCode, string? ErrorReason, object? Head, string? HeadText);

    private static Outcome Parse(bool isRequest, ReadOnlySpan<byte> buffer, HttpHeadLimits limits)
    {
        try
        {
            if (isRequest)
            {
                HttpHeadParseResult<HttpRequestHead> r = HttpHeadParser.ParseRequest(buffer, limits);
                return new Outcome(r.Status, r.Consumed, r.ErrorStatusCode, r.ErrorReason, r.Head, r.Head is null ? null : Describe(r.Head));
            }

            HttpHeadParseResult<HttpResponseHead> s = HttpHeadParser.ParseResponse(buffer, limits);
            return new Outcome(s.Status, s.Consumed, s.ErrorStatusCode, s.ErrorReason, s.Head, s.Head is null ? null : Describe(s.Head));
        }
        catch (Exception ex)
        {
            throw Check.Fail($"Parse{(isRequest ? "Request" : "Response")} threw on {buffer.Length} byte(s) (only ArgumentNullException for null limits is documented): {ex}");
        }
    }

    private static string Describe(HttpRequestHead head)
    {
        var builder = new StringBuilder().Append(head.Method).Append(' ').Append(head.Target).Append(' ').Append(head.Version).Append('\n');
        foreach (KeyValuePair<string, string> field in head.Headers)
        {
            builder.Append(field.Key).Append(": ").Append(field.Value).Append('\n');
        }

        return builder.ToString();
    }

    private static string Describe(HttpResponseHead head)
    {
        var builder = new StringBuilder().Append(head.Version).Append(' ').Append(head.StatusCode.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(head.ReasonPhrase).Append('\n');
        foreach (KeyValuePair<string, string> field in head.Headers)
        {
            builder.Append(field.Key).Append(": ").Append(field.Value).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The per-result invariants of the API (status, Consumed, Head, error fields).</summary>
    private static void CheckShape(Outcome r, int length, HttpHeadLimits limits, string what)
    {
        switch (r.Status)
        {
            case HttpHeadParseStatus.Complete:
                if (r.Consumed <= 0 || r.Consumed > length || r.Consumed > limits.MaxHeadSize || r.Head is null || r.ErrorStatusCode != 0 || r.ErrorReason is not null)
                {
                    throw Check.Fail($"{what}: Complete with Consumed={r.Consumed} for {length} byte(s) (MaxHeadSize {limits.MaxHeadSize}), head {(r.Head is null ? "null" : "set")}, error {r.ErrorStatusCode} '{r.ErrorReason}'");
                }

                break;
            case HttpHeadParseStatus.Incomplete:
                if (r.Consumed != 0 || r.Head is not null || r.ErrorStatusCode != 0 || r.ErrorReason is not null)
                {
                    throw Check.Fail($"{what}: Incomplete with Consumed={r.Consumed}, a head or an error");
                }

                if (length >= limits.MaxHeadSize)
                {
                    throw Check.Fail($"{what}: Incomplete for {length} byte(s) although MaxHeadSize is {limits.MaxHeadSize} (must be Invalid: the head cannot end within the limit)");
                }

                break;
            case HttpHeadParseStatus.Invalid:
                if (r.Consumed != 0 || r.Head is not null || Array.IndexOf(ParseErrorCodes, r.ErrorStatusCode) < 0 || string.IsNullOrEmpty(r.ErrorReason))
                {
                    throw Check.Fail($"{what}: Invalid with Consumed={r.Consumed}, head {(r.Head is null ? "null" : "set")}, status {r.ErrorStatusCode}, reason '{r.ErrorReason}'");
                }

                break;
            default:
                throw Check.Fail($"{what}: undefined status {r.Status}");
        }
    }

    public static void CheckInput(string target, byte[] input)
    {
        string[] parts = target.Split(':');
        bool isRequest = parts[1] == "request";
        HttpHeadLimits limits = ParseLimits(parts[2]);
        int variant = isRequest ? int.Parse(parts[3], CultureInfo.InvariantCulture) : -1;
        var rng = new FuzzRng(ulong.Parse(parts[^1], CultureInfo.InvariantCulture));

        Outcome full = Parse(isRequest, input, limits);
        CheckShape(full, input.Length, limits, "the input");
        Outcomes.Add((isRequest ? "request-" : "response-") + full.Status switch
        {
            HttpHeadParseStatus.Invalid => "invalid-" + full.ErrorStatusCode.ToString(CultureInfo.InvariantCulture),
            HttpHeadParseStatus.Complete => "complete",
            _ => "incomplete",
        });

        // Prefix consistency: statuses over growing prefixes go Incomplete... then stay Complete (same
        // Consumed and head) or stay Invalid. In particular every strict prefix of a complete head is Incomplete.
        foreach (int n in PrefixLengths(rng, input, full, limits))
        {
            Outcome prefix = Parse(isRequest, input.AsSpan(0, n), limits);
            CheckShape(prefix, n, limits, $"the {n}-byte prefix");
            bool ok = full.Status switch
            {
                HttpHeadParseStatus.Complete => n < full.Consumed
                    ? prefix.Status == HttpHeadParseStatus.Incomplete
                    : prefix.Status == HttpHeadParseStatus.Complete && prefix.Consumed == full.Consumed && prefix.HeadText == full.HeadText,
                HttpHeadParseStatus.Incomplete => prefix.Status == HttpHeadParseStatus.Incomplete,
                _ => prefix.Status != HttpHeadParseStatus.Complete,
            };
            if (!ok)
            {
                throw Check.Fail($"prefix inconsistency: the {input.Length}-byte input is {full.Status} (Consumed {full.Consumed}) but its {n}-byte prefix is {prefix.Status} (Consumed {prefix.Consumed}, {prefix.ErrorStatusCode} {prefix.ErrorReason})");
            }
        }

        // Longer buffers: whatever follows must not change a Complete or Invalid result.
        byte[] tail = rng.Bytes(rng.Next(1, 48));
        if (rng.Chance(30))
        {
            tail[0] = (byte)'\r';
        }

        byte[] longer = [.. input, .. tail];
        Outcome extended = Parse(isRequest, longer, limits);
        CheckShape(extended, longer.Length, limits, "the input plus a tail");
        bool extendedOk = full.Status switch
        {
            HttpHeadParseStatus.Complete => extended.Status == HttpHeadParseStatus.Complete && extended.Consumed == full.Consumed && extended.HeadText == full.HeadText,
            HttpHeadParseStatus.Invalid => extended.Status == HttpHeadParseStatus.Invalid,
            _ => true,
        };
        if (!extendedOk)
        {
            throw Check.Fail($"the input is {full.Status} (Consumed {full.Consumed}) but with {tail.Length} more byte(s) it is {extended.Status} (Consumed {extended.Consumed}, {extended.ErrorStatusCode} {extended.ErrorReason})");
        }

        switch (full.Status)
        {
            case HttpHeadParseStatus.Incomplete:
                if (input.AsSpan().IndexOf("\r\n\r\n"u8) >= 0 || HasBareLf(input))
                {
                    throw Check.Fail("Incomplete although the input holds CRLFCRLF or a bare LF (it must be Complete or Invalid)");
                }

                break;
            case HttpHeadParseStatus.Complete:
                CheckComplete(isRequest, input, full, limits, variant);
                break;
        }
    }

    private static bool HasBareLf(ReadOnlySpan<byte> input)
    {
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] == '\n' && (i == 0 || input[i - 1] != '\r'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>All prefix lengths for short inputs; otherwise the interesting ones (around line ends and the limits) plus random ones.</summary>
    private static List<int> PrefixLengths(FuzzRng rng, byte[] input, Outcome full, HttpHeadLimits limits)
    {
        int n = input.Length;
        var lengths = new SortedSet<int>();
        if (n <= 200)
        {
            for (int i = 0; i < n; i++)
            {
                lengths.Add(i);
            }
        }
        else
        {
            for (int i = 0; i < 16; i++)
            {
                lengths.Add(i);
            }

            for (int i = 0; i < n && lengths.Count < 400; i++)
            {
                if (input[i] == '\n')
                {
                    lengths.Add(i - 1);
                    lengths.Add(i);
                    lengths.Add(i + 1);
                }
            }

            for (int i = 0; i < 24; i++)
            {
                lengths.Add(rng.Next(n));
            }

            foreach (int special in new[] { full.Consumed - 1, full.Consumed, full.Consumed + 1, limits.MaxHeadSize - 1, limits.MaxHeadSize, limits.MaxHeadSize + 1, n - 2, n - 1 })
            {
                lengths.Add(special);
            }
        }

        return lengths.Where(l => l >= 0 && l < n).ToList();
    }

    private static void CheckComplete(bool isRequest, byte[] input, Outcome full, HttpHeadLimits limits, int variant)
    {
        if (HttpReference.CheckCompleteHead(input.AsSpan(0, full.Consumed), limits, isRequest, out string[] start, out List<HttpReference.Field> fields) is { } problem)
        {
            throw Check.Fail($"Complete (Consumed {full.Consumed}) but the reference says the head is not acceptable: {problem}");
        }

        var expected = new StringBuilder().Append(start[0]).Append(' ').Append(start[1]).Append(' ').Append(start[2]).Append('\n');
        foreach (HttpReference.Field field in fields)
        {
            expected.Append(field.Name).Append(": ").Append(field.Value).Append('\n');
        }

        if (expected.ToString() != full.HeadText)
        {
            throw Check.Fail($"parsed head differs from the reference split:\n    parser:    {full.HeadText?.Replace("\n", "\\n", StringComparison.Ordinal)}\n    reference: {expected.Replace("\n", "\\n")}");
        }

        if (isRequest)
        {
            var head = (HttpRequestHead)full.Head!;
            if (head.Path + (head.Target.Contains('?', StringComparison.Ordinal) ? "?" + head.Query : string.Empty) != head.Target)
            {
                throw Check.Fail($"Path '{head.Path}' and Query '{head.Query}' do not make up Target '{head.Target}'");
            }

            CheckNegotiate(head, fields, variant);
        }
        else
        {
            CheckClientValidation((HttpResponseHead)full.Head!);
        }
    }

    /// <summary>ClientHandshake.ValidateResponse on any parsed response: it accepts or throws WebSocketHandshakeException, nothing else.</summary>
    private static void CheckClientValidation(HttpResponseHead head)
    {
        var options = new ClientHandshakeOptions();
        options.Subprotocols.Add("chat");
        var client = new ClientHandshake(new Uri("ws://server.example.com/chat"), options, "dGhlIHNhbXBsZSBub25jZQ==");
        try
        {
            client.ValidateResponse(head);
        }
        catch (WebSocketHandshakeException)
        {
        }
        catch (Exception ex)
        {
            throw Check.Fail($"ClientHandshake.ValidateResponse threw {ex.GetType().Name} (only WebSocketHandshakeException is documented for a bad response): {ex}");
        }
    }

    private static void CheckNegotiate(HttpRequestHead head, List<HttpReference.Field> fields, int variant)
    {
        ServerHandshakeOptions options = OptionVariants[variant];
        ServerHandshakeResult result;
        try
        {
            result = ServerHandshake.Negotiate(head, options);
        }
        catch (Exception ex)
        {
            throw Check.Fail($"ServerHandshake.Negotiate threw on a parsed request (options #{variant}): {ex}");
        }

        int expected = HttpReference.ExpectedNegotiateStatus(head.Method, head.Version, fields, options);
        Outcomes.Add("negotiate-" + result.StatusCode.ToString(CultureInfo.InvariantCulture));
        if (result.StatusCode != expected || string.IsNullOrEmpty(result.Reason))
        {
            throw Check.Fail($"Negotiate answered {result.StatusCode} '{result.Reason}' (options #{variant}); the documented checks give {expected}");
        }

        bool upgrade = fields.Where(f => string.Equals(f.Name, "Upgrade", StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(','))
            .Any(e => string.Equals(e.Trim(' ', '\t'), "websocket", StringComparison.OrdinalIgnoreCase));
        if (result.IsWebSocketRequest != upgrade)
        {
            throw Check.Fail($"IsWebSocketRequest={result.IsWebSocketRequest} but the Upgrade header {(upgrade ? "lists" : "does not list")} websocket");
        }

        if (result.IsAccepted)
        {
            CheckAccepted(result, fields, variant);
        }
        else if (result.Accept is not null)
        {
            throw Check.Fail($"rejected with {result.StatusCode} but Accept is set");
        }

        // The response written for it parses back, with the same status.
        byte[] response;
        try
        {
            response = ServerHandshake.WriteResponse(result);
        }
        catch (Exception ex)
        {
            throw Check.Fail($"WriteResponse threw: {ex}");
        }

        HttpHeadParseResult<HttpResponseHead> parsed = HttpHeadParser.ParseResponse(response, new HttpHeadLimits());
        if (!parsed.IsComplete || parsed.Head.StatusCode != result.StatusCode)
        {
            throw Check.Fail($"the written response does not parse back as a complete {result.StatusCode} head: {parsed.Status} {parsed.ErrorReason}: {Encoding.Latin1.GetString(response)}");
        }

        int bodyLength = response.Length - parsed.Consumed;
        if (result.IsAccepted ? bodyLength != 0 : !parsed.Head.Headers.TryGetValue("Content-Length", out string? contentLength) || contentLength != bodyLength.ToString(CultureInfo.InvariantCulture))
        {
            throw Check.Fail($"the written {result.StatusCode} response has a body of {bodyLength} byte(s) that its Content-Length does not announce: {Encoding.Latin1.GetString(response)}");
        }

        if (result.IsAccepted)
        {
            CheckClientRoundTrip(result, parsed.Head, fields);
        }
    }

    private static void CheckAccepted(ServerHandshakeResult result, List<HttpReference.Field> fields, int variant)
    {
        string key = fields.First(f => string.Equals(f.Name, "Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase)).Value;
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        if (result.Key != key || result.Accept != accept)
        {
            throw Check.Fail($"accepted with Key '{result.Key}' and Accept '{result.Accept}'; expected '{key}' and '{accept}'");
        }

        List<string> offered = HttpReference.OfferedSubprotocols(fields);
        if (!offered.SequenceEqual(result.RequestedSubprotocols))
        {
            throw Check.Fail($"RequestedSubprotocols [{string.Join(",", result.RequestedSubprotocols)}], expected [{string.Join(",", offered)}]");
        }

        List<HttpReference.ExtensionElement> offers = HttpReference.ParseExtensions(HttpReference.ExtensionValues(fields))!;
        string actualOffers = string.Join(", ", result.ExtensionOffers.Select(o => o.ToString()));
        string expectedOffers = string.Join(", ", offers.Select(o => o.ToString()));
        if (actualOffers != expectedOffers)
        {
            throw Check.Fail($"ExtensionOffers '{actualOffers}', the grammar gives '{expectedOffers}'");
        }

        string? expectedSubprotocol = offered.Count == 0 ? null : variant switch
        {
            1 => new[] { "superchat", "chat", "v2.json" }.FirstOrDefault(offered.Contains),
            2 => offered[^1],
            _ => null,
        };
        string? expectedResponse = offers.Count == 0 ? null : variant switch
        {
            2 => offers[0].ToString(),
            4 => string.Join(", ", offers.Select(o => o.Name).Distinct(StringComparer.OrdinalIgnoreCase)),
            _ => null,
        };
        if (result.Subprotocol != expectedSubprotocol || result.ExtensionsResponse != expectedResponse)
        {
            throw Check.Fail($"negotiated subprotocol '{result.Subprotocol}' and extensions '{result.ExtensionsResponse}' (options #{variant}); expected '{expectedSubprotocol}' and '{expectedResponse}'");
        }
    }

    /// <summary>A client that offered what the request offered accepts the server's 101 and agrees on what was negotiated.</summary>
    private static void CheckClientRoundTrip(ServerHandshakeResult result, HttpResponseHead response, List<HttpReference.Field> fields)
    {
        List<string> offered = HttpReference.OfferedSubprotocols(fields);
        if (offered.Distinct(StringComparer.Ordinal).Count() != offered.Count)
        {
            return;   // a client never offers a subprotocol twice (ClientHandshake rejects such options)
        }

        var options = new ClientHandshakeOptions();
        foreach (string subprotocol in offered)
        {
            options.Subprotocols.Add(subprotocol);
        }

        List<string> extensionValues = HttpReference.ExtensionValues(fields);
        if (extensionValues.Count > 0)
        {
            options.ExtensionOffers = string.Join(", ", extensionValues);
        }

        var client = new ClientHandshake(new Uri("ws://server.example.com/chat"), options, result.Key!);
        ClientHandshakeResult accepted;
        try
        {
            accepted = client.ValidateResponse(response);
        }
        catch (Exception ex)
        {
            throw Check.Fail($"the client rejects the server's 101: {ex}");
        }

        string clientExtensions = string.Join(", ", accepted.Extensions.Select(e => e.ToString()));
        if (accepted.Subprotocol != result.Subprotocol || clientExtensions != (result.ExtensionsResponse is { } r ? string.Join(", ", WebSocketExtensionOffer.ParseHeader([r]).Select(e => e.ToString())) : string.Empty))
        {
            throw Check.Fail($"client and server disagree: subprotocol '{accepted.Subprotocol}' vs '{result.Subprotocol}', extensions '{clientExtensions}' vs '{result.ExtensionsResponse}'");
        }
    }

    /// <summary>Checks TryParseHeader/ParseHeader on header values against the grammar; input is UTF-16LE of the values joined with U+FFFF.</summary>
    public static void CheckExtensionHeader(byte[] input)
    {
        CheckExtensionHeaderCore(input, out bool valid);
        Outcomes.Add(valid ? "extensions-valid" : "extensions-invalid");
    }

    private static void CheckExtensionHeaderCore(byte[] input, out bool valid)
    {
        valid = false;
        string joined = Encoding.Unicode.GetString(input);
        string[] values = joined.Length == 0 ? [] : joined.Split('\uFFFF');
        List<HttpReference.ExtensionElement>? expected = HttpReference.ParseExtensions(values);
        bool ok;
        IReadOnlyList<WebSocketExtensionOffer> offers;
        try
        {
            ok = WebSocketExtensionOffer.TryParseHeader(values, out offers);
        }
        catch (Exception ex)
        {
            throw Check.Fail($"TryParseHeader threw: {ex}");
        }

        if (offers is null || ok != (expected is not null))
        {
            throw Check.Fail($"TryParseHeader returned {ok} (offers {(offers is null ? "null" : offers.Count.ToString(CultureInfo.InvariantCulture))}); the grammar {(expected is null ? "rejects" : "accepts")} the values");
        }

        string actualText = string.Join(", ", offers.Select(o => o.ToString()));
        if (!ok)
        {
            if (offers.Count != 0)
            {
                throw Check.Fail("TryParseHeader returned false with a non-empty list");
            }

            try
            {
                WebSocketExtensionOffer.ParseHeader(values);
                throw Check.Fail("ParseHeader accepted what TryParseHeader rejected");
            }
            catch (FormatException)
            {
            }

            return;
        }

        valid = true;
        string expectedText = string.Join(", ", expected!.Select(o => o.ToString()));
        if (actualText != expectedText)
        {
            throw Check.Fail($"parsed '{actualText}', the grammar gives '{expectedText}'");
        }

        IReadOnlyList<WebSocketExtensionOffer> again = WebSocketExtensionOffer.ParseHeader(values);
        IReadOnlyList<WebSocketExtensionOffer> roundTrip = WebSocketExtensionOffer.ParseHeader(offers.Count == 0 ? [] : [actualText]);
        if (string.Join(", ", again.Select(o => o.ToString())) != actualText || string.Join(", ", roundTrip.Select(o => o.ToString())) != actualText)
        {
            throw Check.Fail($"ParseHeader or the ToString round trip disagrees: '{actualText}'");
        }
    }
}
