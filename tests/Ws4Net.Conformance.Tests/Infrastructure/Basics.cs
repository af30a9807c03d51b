using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>Which of OUR endpoints a case exercises; the test plays the other side with raw sockets.</summary>
public enum Role
{
    /// <summary>Our server (the demo server's /echo endpoint); the test is a raw-socket client that masks its frames.</summary>
    Server,

    /// <summary>Our client (<c>WebSocketClient.ConnectAsync</c> running an echo loop); the test is a raw-socket server.</summary>
    Client,

    /// <summary>
    /// Our server hosted in ASP.NET Core: Kestrel over HTTP/1.1, <c>MapWebSocket</c> from Ws4Net.AspNetCore with the
    /// demo server's limits and permessage-deflate accepted when offered (the raw client does not offer it).
    /// </summary>
    Kestrel,

    /// <summary>The same Kestrel endpoint with compression disabled (<c>WebSocketEndpointOptions.DisableCompression</c>).</summary>
    KestrelNoCompression,
}

/// <summary>Helpers on <see cref="Role"/>.</summary>
public static class RoleExtensions
{
    /// <summary>Whether the endpoint under test is one of our servers (standalone or Kestrel-hosted): the raw peer is a client.</summary>
    public static bool IsServer(this Role role) => role != Role.Client;
}

/// <summary>Wire opcodes (RFC 6455 §5.2), as plain integers so reserved ones can be sent too.</summary>
public static class Op
{
    public const int Continuation = 0x0;
    public const int Text = 0x1;
    public const int Binary = 0x2;
    public const int Close = 0x8;
    public const int Ping = 0x9;
    public const int Pong = 0xA;

    public static string Name(int opcode) => opcode switch
    {
        Continuation => "Continuation",
        Text => "Text",
        Binary => "Binary",
        Close => "Close",
        Ping => "Ping",
        Pong => "Pong",
        _ => "Reserved" + opcode.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>Time limits. Every await in this project is bounded by one of them.</summary>
public static class Timeouts
{
    /// <summary>One expected frame, handshake step or TCP close.</summary>
    public static readonly TimeSpan Frame = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a fail-fast close may take to arrive while the rest of the message is withheld. The rest is never
    /// sent within it, so its length only bounds the wait, not what is proven; 5 s leaves room for a loaded CI
    /// machine running four roles of cases in parallel (2 s once timed out there under a load average of 20).
    /// </summary>
    public static readonly TimeSpan FailFast = TimeSpan.FromSeconds(5);

    /// <summary>A window during which nothing may arrive (ignored frames, a client that must keep TCP open).</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    /// <summary>A whole ordinary case.</summary>
    public static readonly TimeSpan Case = TimeSpan.FromSeconds(45);

    /// <summary>A whole load case (Autobahn 9.x).</summary>
    public static readonly TimeSpan Load = TimeSpan.FromSeconds(120);

    /// <summary>The close timeout our endpoints use (WebSocketConnectionOptions default).</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
}

/// <summary>Per-case configuration of the endpoint under test.</summary>
/// <param name="MaxSendFrameSize">WebSocketProtocolOptions.MaxSendFrameSize of our endpoint (0: one frame per message).</param>
/// <param name="EarlyMessages">Data messages the test sends in the same write as its handshake bytes (the upgrade request, or the 101 response).</param>
public sealed record CaseSettings(int MaxSendFrameSize = 0, IReadOnlyList<(int Opcode, byte[] Payload)>? EarlyMessages = null)
{
    public static CaseSettings Default { get; } = new();
}

/// <summary>A frame as read off the wire (already unmasked).</summary>
public sealed record RawFrame(bool Fin, int Rsv, int Opcode, bool Masked, byte[] Payload)
{
    /// <summary>Gets the masking key the sender used (empty when unmasked).</summary>
    public byte[] MaskKey { get; init; } = [];

    public bool IsControl => Opcode >= 8;

    /// <summary>The close code, or null when the close payload is empty.</summary>
    public int? CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Op.Name(Opcode)).Append(Fin ? " FIN" : " (FIN=0)");
        if (Rsv != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" RSV={Rsv}");
        }

        text.Append(Masked ? " masked" : " unmasked").Append(CultureInfo.InvariantCulture, $" len={Payload.Length}");
        if (Opcode == Op.Close && CloseCode is { } code)
        {
            text.Append(CultureInfo.InvariantCulture, $" code={code}");
        }

        if (Payload.Length > 0)
        {
            text.Append(" payload=").Append(Hex.Of(Payload, 24));
        }

        return text.ToString();
    }
}

/// <summary>Hex formatting for diagnostics and hex-declared test vectors.</summary>
public static class Hex
{
    public static string Of(ReadOnlySpan<byte> bytes, int max = 64)
    {
        string hex = Convert.ToHexString(bytes[..Math.Min(bytes.Length, max)]);
        var spaced = new StringBuilder(hex.Length * 3 / 2);
        for (int i = 0; i < hex.Length; i += 2)
        {
            if (i > 0)
            {
                spaced.Append(' ');
            }

            spaced.Append(hex, i, 2);
        }

        if (bytes.Length > max)
        {
            spaced.Append(CultureInfo.InvariantCulture, $" ... ({bytes.Length} bytes)");
        }

        return spaced.ToString();
    }

    public static byte[] Parse(string spaced) => Convert.FromHexString(spaced.Replace(" ", string.Empty, StringComparison.Ordinal));
}
