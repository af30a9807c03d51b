using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// The targets of the coverage-guided fuzzer (tests/Ws4Net.Fuzz, run by eng/fuzz.sh under AFL++): each
/// turns one file of bytes into a replay target of <see cref="FuzzReplay"/> and its input, so a file is
/// checked by exactly the properties of the random fuzzers (no exception, bounded memory, the same
/// events under every chunking, agreement with the reference decoders). The first bytes of a file choose
/// the target's parameters (role, limits, agreement, chunking seed), so one target covers them all and
/// the fuzzer mutates them like the rest. <see cref="CorpusReplayTests"/> replays the checked-in corpus
/// through the same entry point. A violated property throws (<see cref="FuzzCheckException"/>), which
/// AFL++ records as a crash.
/// </summary>
/// <remarks>
/// File layouts (all bytes after the header are the input; a missing header byte counts as 0):
/// <list type="bullet">
/// <item><c>frames</c>: [role/profile][chunk seed] frames. Bit 0 of the first byte: 0 server, 1 client
/// (the receiving engine's role); the rest (mod 6) picks a <see cref="FrameProfile"/>.</item>
/// <item><c>zframes</c>: [role/profile][takeover][window bits][chunk seed] frames with a permessage-deflate
/// agreement. Takeover bit 0: server_no_context_takeover, bit 1: client_no_context_takeover. Window
/// bits: low nibble mod 8 the receiver's own direction (0 unstated, 1-7: 9-15), high nibble mod 9 the
/// peer's (0 unstated, 1-8: 8-15).</item>
/// <item><c>http-request</c>: [policy][limits][4 limit bytes] request head: ParseRequest on every prefix,
/// then ServerHandshake.Negotiate under the policy (mod 5, <see cref="HttpChecks.OptionVariants"/>) and
/// WriteResponse. Limits byte bit 7 set: MaxStartLineLength = 1 + 3·b, MaxHeaderLineLength = 1 + 3·b,
/// MaxHeaderCount = 1 + b mod 24, MaxHeadSize = 1 + 20·b from the next four bytes; clear: the defaults.</item>
/// <item><c>http-response</c>: the same header (policy ignored), response head: ParseResponse on every
/// prefix, then ClientHandshake.ValidateResponse.</item>
/// <item><c>extensions</c>: Sec-WebSocket-Extensions values, one per line (LF), bytes as ISO-8859-1:
/// WebSocketExtensionOffer.TryParseHeader and ParseHeader against the RFC 7230 grammar.</item>
/// <item><c>utf8</c>: [chunk seed] bytes: Utf8Validator whole, byte by byte and in random chunks against
/// the reference.</item>
/// <item><c>deflate-negotiation</c>: [server options][client options] Sec-WebSocket-Extensions values, one per
/// line: PerMessageDeflateNegotiation (RFC 7692 §5, §7.1) on both sides. An options byte: bit 0
/// server_no_context_takeover, bit 1 client_no_context_takeover, bits 2-4 and 5-7 (mod 7) the server's and
/// the client's window bits 9-15. See <see cref="CheckDeflateNegotiation"/>.</item>
/// </list>
/// </remarks>
internal static class CoverageFuzzTargets
{
    /// <summary>Inputs are cut here: longer files only make each execution slower.</summary>
    public const int MaxInputLength = 64 * 1024;

    /// <summary>Allocation bound of one uncompressed engine run with a bounded profile (the compressed checks have their own).</summary>
    public const long FrameAllocationOverhead = 64 * 1024;

    public static IReadOnlyList<string> Names { get; } = ["frames", "zframes", "http-request", "http-response", "extensions", "utf8", "deflate-negotiation"];

    public const string DeflateNegotiationTarget = "deflate-negotiation";

    /// <summary>Checks one file against <paramref name="name"/>; throws on a violated property.</summary>
    /// <exception cref="ArgumentException">Unknown target.</exception>
    public static void Run(string name, ReadOnlySpan<byte> file)
    {
        if (file.Length > MaxInputLength)
        {
            file = file[..MaxInputLength];
        }

        (string target, byte[] input) = Map(name, file);
        FuzzReplay.Run(target, input);
        if (name == "frames")
        {
            CheckFrameAllocations(target, input);
        }
    }

    /// <summary>The replay target and input a file stands for (printed by the fuzz program for a crash).</summary>
    /// <exception cref="ArgumentException">Unknown target.</exception>
    public static (string Target, byte[] Input) Map(string name, ReadOnlySpan<byte> file)
    {
        switch (name)
        {
            case "frames":
            {
                byte select = At(file, 0);
                string role = (select & 1) == 0 ? "server" : "client";
                FrameProfile profile = FrameProfile.All[(select >> 1) % FrameProfile.All.Count];
                return (Invariant($"frames:{role}/{profile.Name}/{At(file, 1)}"), Rest(file, 2));
            }

            case "zframes":
            {
                byte select = At(file, 0);
                bool server = (select & 1) == 0;
                FrameProfile profile = CompressedProfiles.All[(select >> 1) % CompressedProfiles.All.Count];
                byte takeover = At(file, 1);
                byte bits = At(file, 2);
                int own = (bits & 0x0F) % 8;
                int peer = (bits >> 4) % 9;
                int? ownBits = own == 0 ? null : 8 + own;    // 9-15: the receiver compresses with it
                int? peerBits = peer == 0 ? null : 7 + peer; // 8-15: a peer's 8 is inflated with 9
                var agreement = server
                    ? new PerMessageDeflateParameters((takeover & 1) != 0, (takeover & 2) != 0, ownBits, peerBits)
                    : new PerMessageDeflateParameters((takeover & 1) != 0, (takeover & 2) != 0, peerBits, ownBits);
                string target = CompressedFrameChecks.Target(server ? WebSocketRole.Server : WebSocketRole.Client, profile, agreement, At(file, 3));
                return (target, Rest(file, 4));
            }

            case "http-request":
            case "http-response":
            {
                HttpHeadLimits limits = (At(file, 1) & 0x80) == 0
                    ? new HttpHeadLimits()
                    : new HttpHeadLimits
                    {
                        MaxStartLineLength = 1 + (3 * At(file, 2)),
                        MaxHeaderLineLength = 1 + (3 * At(file, 3)),
                        MaxHeaderCount = 1 + (At(file, 4) % 24),
                        MaxHeadSize = 1 + (20 * At(file, 5)),
                    };
                ulong seed = (ulong)(At(file, 1) & 0x7F);
                string target = name == "http-request"
                    ? HttpChecks.RequestTarget(limits, At(file, 0) % HttpChecks.OptionVariants.Count, seed)
                    : HttpChecks.ResponseTarget(limits, seed);
                return (target, Rest(file, 6));
            }

            case "extensions":
            {
                string[] values = Encoding.Latin1.GetString(file).Split('\n');
                string joined = file.IsEmpty ? string.Empty : string.Join('\uFFFF', values);
                return ("extensions", Encoding.Unicode.GetBytes(joined));
            }

            case "utf8":
                return (Invariant($"utf8:{At(file, 0)}"), Rest(file, 1));

            case DeflateNegotiationTarget:
                return (DeflateNegotiationTarget, file.ToArray());

            default:
                throw new ArgumentException($"Unknown coverage fuzz target '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
        }
    }

    /// <summary>
    /// Seed files for <c>frames</c> and <c>zframes</c>: valid streams from the random fuzzers' generators,
    /// at most <paramref name="maxLength"/> bytes, under random header bytes (so every role, profile and
    /// agreement occurs). Deterministic for a seed. Used by <c>Ws4Net.Fuzz --seeds</c> to grow a corpus.
    /// </summary>
    /// <exception cref="ArgumentException">Not a frame target.</exception>
    public static IEnumerable<byte[]> GenerateSeeds(string name, ulong seed, int count, int maxLength)
    {
        var rng = new FuzzRng(seed);
        int made = 0;
        for (int attempt = 0; made < count && attempt < count * 200; attempt++)
        {
            byte[] header = name switch
            {
                "frames" => rng.Bytes(2),
                "zframes" => rng.Bytes(4),
                _ => throw new ArgumentException($"Seeds are generated for frames and zframes only, not '{name}'.", nameof(name)),
            };
            (string target, _) = Map(name, header);
            byte[] stream;
            if (name == "frames")
            {
                FrameChecks.ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out _);
                stream = FrameStreamGenerator.Generate(rng, role, profile).ToBytes();
            }
            else
            {
                CompressedFrameChecks.ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out PerMessageDeflateParameters agreement, out _);
                stream = CompressedStreamGenerator.Generate(rng, role, profile, agreement).Bytes.ReadOnlySpan.ToArray();
            }

            if (stream.Length == 0 || stream.Length > maxLength)
            {
                continue;
            }

            made++;
            yield return [.. header, .. stream];
        }
    }

    /// <summary>
    /// permessage-deflate negotiation on hostile headers. The header values (after the two option bytes)
    /// are offered to <see cref="PerMessageDeflateNegotiation.TryAccept"/> as a client's offers and to
    /// <see cref="PerMessageDeflateNegotiation.ValidateResponse"/> as a server's answer. Checks: TryAccept
    /// never throws, and what it agrees to stays within the server's options, answers every
    /// no-context-takeover demand and re-parses as exactly one permessage-deflate element; ValidateResponse
    /// returns or throws <see cref="WebSocketHandshakeException"/>, nothing else, and what it accepts
    /// stays within the client's offer (windows 9-15, never larger than offered, server_no_context_takeover
    /// when asked for); and the honest round trip, <see cref="PerMessageDeflateNegotiation.CreateOffer"/> →
    /// TryAccept → ValidateResponse, always agrees, with both sides on the same parameters.
    /// </summary>
    public static void CheckDeflateNegotiation(byte[] input)
    {
        PerMessageDeflateOptions server = DeflateOptions(At(input, 0));
        PerMessageDeflateOptions client = DeflateOptions(At(input, 1));
        string[] values = input.Length <= 2 ? [] : Encoding.Latin1.GetString(input, 2, input.Length - 2).Split('\n');

        // Any header values the extension parser accepts (RFC 6455 §9.1 grammar).
        if (WebSocketExtensionOffer.TryParseHeader(values, out IReadOnlyList<WebSocketExtensionOffer> offers))
        {
            bool accepted;
            PerMessageDeflateParameters? agreed;
            try
            {
                accepted = PerMessageDeflateNegotiation.TryAccept(offers, server, out agreed);
            }
            catch (Exception ex)
            {
                throw Check.Fail($"TryAccept threw on offers '{string.Join(", ", offers)}': {ex}");
            }

            if (accepted)
            {
                CheckAgreement(agreed!, server, $"TryAccept of '{string.Join(", ", offers)}'");
            }

            PerMessageDeflateParameters? validated = null;
            try
            {
                validated = PerMessageDeflateNegotiation.ValidateResponse(offers, client);
            }
            catch (WebSocketHandshakeException)
            {
            }
            catch (Exception ex)
            {
                throw Check.Fail($"ValidateResponse threw {ex.GetType().Name} (only WebSocketHandshakeException is documented) on '{string.Join(", ", offers)}': {ex}");
            }

            if (validated is not null)
            {
                int serverBits = validated.ServerMaxWindowBits ?? 15;
                int clientBits = validated.ClientMaxWindowBits ?? 15;
                if (serverBits is < 8 or > 15 || clientBits is < 9 or > 15
                    || (client.ServerMaxWindowBits < 15 && serverBits > client.ServerMaxWindowBits)
                    || clientBits > client.ClientMaxWindowBits
                    || (client.ServerNoContextTakeover && !validated.ServerNoContextTakeover))
                {
                    throw Check.Fail($"ValidateResponse accepted '{string.Join(", ", offers)}' as '{validated.ToHeaderValue()}', outside what was offered ('{PerMessageDeflateNegotiation.CreateOffer(client)}')");
                }
            }
        }

        // The honest round trip between these two endpoints.
        string offer = PerMessageDeflateNegotiation.CreateOffer(client);
        if (!PerMessageDeflateNegotiation.TryAccept(WebSocketExtensionOffer.ParseHeader([offer]), server, out PerMessageDeflateParameters? answer))
        {
            throw Check.Fail($"the server declined the client's own offer '{offer}'");
        }

        CheckAgreement(answer, server, $"TryAccept of '{offer}'");
        PerMessageDeflateParameters? agreement;
        try
        {
            agreement = PerMessageDeflateNegotiation.ValidateResponse(WebSocketExtensionOffer.ParseHeader([answer.ToHeaderValue()]), client);
        }
        catch (WebSocketHandshakeException ex)
        {
            throw Check.Fail($"the client refused the server's answer '{answer.ToHeaderValue()}' to its offer '{offer}': {ex.Message}");
        }

        if (agreement is null
            || agreement.ServerNoContextTakeover != answer.ServerNoContextTakeover || agreement.ClientNoContextTakeover != answer.ClientNoContextTakeover
            || agreement.SendWindowBits(WebSocketRole.Server) != answer.SendWindowBits(WebSocketRole.Server)
            || agreement.SendWindowBits(WebSocketRole.Client) != answer.SendWindowBits(WebSocketRole.Client))
        {
            throw Check.Fail($"offer '{offer}', answer '{answer.ToHeaderValue()}': the client agreed on '{agreement?.ToHeaderValue()}'");
        }
    }

    private static void CheckAgreement(PerMessageDeflateParameters agreed, PerMessageDeflateOptions server, string what)
    {
        int serverBits = agreed.ServerMaxWindowBits ?? 15;
        int clientBits = agreed.ClientMaxWindowBits ?? 15;
        // A client's window of 8 may be agreed (the server inflates it with 9 bits); the server's own never is.
        if (serverBits < 9 || serverBits > server.ServerMaxWindowBits || clientBits < 8 || (agreed.ClientMaxWindowBits is not null && clientBits > server.ClientMaxWindowBits)
            || (server.ServerNoContextTakeover && !agreed.ServerNoContextTakeover) || (server.ClientNoContextTakeover && !agreed.ClientNoContextTakeover))
        {
            throw Check.Fail($"{what} agreed on '{agreed.ToHeaderValue()}', outside the server's options");
        }

        IReadOnlyList<WebSocketExtensionOffer> reparsed;
        try
        {
            reparsed = WebSocketExtensionOffer.ParseHeader([agreed.ToHeaderValue()]);
        }
        catch (FormatException ex)
        {
            throw Check.Fail($"{what}: the answer '{agreed.ToHeaderValue()}' does not parse: {ex.Message}");
        }

        if (reparsed.Count != 1 || !string.Equals(reparsed[0].Name, PerMessageDeflateNegotiation.ExtensionName, StringComparison.Ordinal))
        {
            throw Check.Fail($"{what}: the answer '{agreed.ToHeaderValue()}' is not one permessage-deflate element");
        }
    }

    private static PerMessageDeflateOptions DeflateOptions(byte b) => new()
    {
        ServerNoContextTakeover = (b & 1) != 0,
        ClientNoContextTakeover = (b & 2) != 0,
        ServerMaxWindowBits = 9 + (((b >> 2) & 7) % 7),
        ClientMaxWindowBits = 9 + ((b >> 5) % 7),
    };

    // The uncompressed frame checks bound what is delivered; this bounds what the engine allocates on the
    // way (the same bound as the compressed checks: 4 × MaxMessageSize + 64 KiB), for the bounded profiles.
    private static void CheckFrameAllocations(string target, byte[] input)
    {
        FrameChecks.ParseTarget(target, out WebSocketRole role, out FrameProfile profile, out _);
        if (profile.MaxMessageSize == long.MaxValue)
        {
            return;
        }

        var chunks = new List<int> { input.Length };
        EngineRun run = EngineHarness.Run(role, profile, input, CollectionsMarshal.AsSpan(chunks), "whole (allocations)", [], measureAllocations: true);
        long bound = (4 * profile.MaxMessageSize) + FrameAllocationOverhead;
        if (run.AllocatedBytes > bound)
        {
            throw Check.Fail($"the engine allocated {run.AllocatedBytes} managed bytes for a {input.Length}-byte input, over the bound 4 × MaxMessageSize + {FrameAllocationOverhead} = {bound}");
        }
    }

    private static byte At(ReadOnlySpan<byte> file, int index) => index < file.Length ? file[index] : (byte)0;

    private static byte[] Rest(ReadOnlySpan<byte> file, int header) => header < file.Length ? file[header..].ToArray() : [];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
