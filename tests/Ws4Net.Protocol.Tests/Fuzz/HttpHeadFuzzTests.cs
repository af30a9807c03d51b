using System.Text;
using Ws4Net.Protocol.Handshake;
using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Valid upgrade requests (differential): each must parse Complete under the default limits, be
/// accepted by <see cref="ServerHandshake.Negotiate(ServerHandshakeRequest, ServerHandshakeOptions)"/> with the subprotocol and extensions the policy
/// implies, and round-trip through <see cref="ClientHandshake.ValidateResponse"/>; plus every property
/// of <see cref="HttpChecks.CheckInput"/>.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class HttpValidHandshakeFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 1000;

    [Fact]
    public void Fuzz()
    {
        FuzzRunner.Run(output, "http-valid-handshake", nameof(HttpValidHandshakeFuzzTests), 0x5EED_0201, DefaultIterations, (rng, context) =>
        {
            int variant = rng.Next(HttpChecks.OptionVariants.Count);
            RequestSpec spec = HttpFuzzGenerator.ValidRequest(rng, variant is 3 or 4 || rng.Chance(20) ? HttpChecks.ExampleOrigin : null);
            byte[] input = spec.Render();
            var limits = new HttpHeadLimits();
            string target = HttpChecks.RequestTarget(limits, variant, rng.NextSeed());
            context.Set(target, input, () => Encoding.Latin1.GetString(input));

            HttpHeadParseResult<HttpRequestHead> parsed = HttpHeadParser.ParseRequest(input, limits);
            Check.That(parsed.IsComplete && parsed.Consumed == input.Length, $"a valid request is {parsed.Status} (Consumed {parsed.Consumed} of {input.Length}): {parsed.ErrorStatusCode} {parsed.ErrorReason}");
            ServerHandshakeResult result = ServerHandshake.Negotiate(parsed.Head!, HttpChecks.OptionVariants[variant]);
            Check.That(result.IsAccepted, $"a valid request is rejected with {result.StatusCode}: {result.Reason}");
            Check.That(result.RequestedSubprotocols.Order(StringComparer.Ordinal).SequenceEqual(spec.Subprotocols.Order(StringComparer.Ordinal)), "RequestedSubprotocols differ from what the request offered");
            Check.That(result.ExtensionOffers.Count == HttpReference.ParseExtensions(spec.ExtensionValues)!.Count, "ExtensionOffers differ from what the request offered");
            HttpChecks.CheckInput(target, input);
        });
        output.WriteLine("outcomes: " + HttpChecks.Outcomes);
    }
}

/// <summary>Random and mutated request heads under random limits: parser and Negotiate properties (see docs/fuzzing.md).</summary>
[Trait("Category", "Fuzz")]
public sealed class HttpRequestFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 2500;

    [Fact]
    public void Fuzz()
    {
        FuzzRunner.Run(output, "http-request", nameof(HttpRequestFuzzTests), 0x5EED_0202, DefaultIterations, (rng, context) =>
        {
            int variant = rng.Next(HttpChecks.OptionVariants.Count);
            HttpHeadLimits limits = HttpChecks.RandomLimits(rng);
            byte[] input;
            string description;
            int kind = rng.Next(100);
            if (kind < 80)
            {
                RequestSpec spec = HttpFuzzGenerator.ValidRequest(rng, rng.Chance(50) ? HttpChecks.ExampleOrigin : null);
                input = HttpFuzzGenerator.MutateRequest(rng, spec, out description);
            }
            else if (kind < 92)
            {
                // Random header lines, mostly broken.
                var spec = new RequestSpec();
                spec.Lines.Add(rng.Chance(80) ? "GET / HTTP/1.1" : HttpFuzzGenerator.FieldValue(rng, 30));
                int lines = rng.Next(0, 12);
                for (int i = 0; i < lines; i++)
                {
                    spec.Lines.Add(HttpFuzzGenerator.RandomHeaderLine(rng));
                }

                input = spec.Render(rng.Chance(85));
                description = "random lines";
            }
            else
            {
                input = rng.Bytes(rng.SkewedLength(600));
                description = "random bytes";
            }

            string target = HttpChecks.RequestTarget(limits, variant, rng.NextSeed());
            context.Set(target, input, () => description + "; " + Encoding.Latin1.GetString(input).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
            HttpChecks.CheckInput(target, input);
        });
        output.WriteLine("outcomes: " + HttpChecks.Outcomes);
    }
}

/// <summary>Random and mutated response heads under random limits; ClientHandshake.ValidateResponse on the complete ones.</summary>
[Trait("Category", "Fuzz")]
public sealed class HttpResponseFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 2500;

    [Fact]
    public void Fuzz()
    {
        FuzzRunner.Run(output, "http-response", nameof(HttpResponseFuzzTests), 0x5EED_0203, DefaultIterations, (rng, context) =>
        {
            HttpHeadLimits limits = HttpChecks.RandomLimits(rng);
            byte[] input = HttpFuzzGenerator.Response(rng, out string description);
            string target = HttpChecks.ResponseTarget(limits, rng.NextSeed());
            context.Set(target, input, () => description + "; " + Encoding.Latin1.GetString(input).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal));
            HttpChecks.CheckInput(target, input);
        });
        output.WriteLine("outcomes: " + HttpChecks.Outcomes);
    }
}

/// <summary>
/// <see cref="WebSocketExtensionOffer.TryParseHeader"/> (and ParseHeader) on grammar-generated,
/// damaged and random values, against a regular-expression statement of RFC 6455 §9.1.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ExtensionHeaderFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 10_000;

    [Fact]
    public void Fuzz()
    {
        FuzzRunner.Run(output, "extension-header", nameof(ExtensionHeaderFuzzTests), 0x5EED_0301, DefaultIterations, (rng, context) =>
        {
            int count = rng.Next(100) switch { < 5 => 0, < 80 => 1, _ => rng.Next(2, 4) };
            var values = new string[count];
            for (int i = 0; i < count; i++)
            {
                int kind = rng.Next(100);
                values[i] = kind switch
                {
                    < 40 => HttpFuzzGenerator.ExtensionValue(rng, valid: true),
                    < 90 => HttpFuzzGenerator.ExtensionValue(rng, valid: false),
                    _ => RandomText(rng),
                };
            }

            byte[] input = Encoding.Unicode.GetBytes(string.Join('\uFFFF', values));
            context.Set("extensions", input, () => string.Join(" | ", values.Select(v => "'" + v + "'")));
            HttpChecks.CheckExtensionHeader(input);
        });
        output.WriteLine("outcomes: " + HttpChecks.Outcomes);
    }

    private static string RandomText(FuzzRng rng)
    {
        const string Alphabet = "abcXYZ019-_.!#$%&'*+^`|~ \t,;=\"\\()/:<>?@[]{}\u00E9\u00FF\u0100\u0000\u007F";
        var builder = new StringBuilder();
        int length = rng.Next(0, 30);
        for (int i = 0; i < length; i++)
        {
            builder.Append(Alphabet[rng.Next(Alphabet.Length)]);
        }

        return builder.ToString();
    }
}
