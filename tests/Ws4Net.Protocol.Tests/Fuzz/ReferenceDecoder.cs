namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>What the reference decoder expects for one input.</summary>
internal sealed class ModelResult
{
    public List<FuzzEvent> Events { get; } = [];

    public List<OwedFrame> Output { get; } = [];

    /// <summary>Whether a close frame or a failure ended the receive side.</summary>
    public bool ReceiveDone { get; set; }
}

/// <summary>
/// A deliberately simple, whole-buffer (non-incremental) decoder of a received byte stream that
/// states the receive policy of RFC 6455 §5-§7 as the engine implements it, written independently of
/// the engine (the frame-level code is <see cref="CompressedReferenceDecoder"/> with no agreement). It
/// is the oracle for mutated streams:
/// <list type="bullet">
/// <item>RSV bits set, a reserved opcode, a continuation outside a message, a new data frame inside
/// one, a fragmented control frame, a control frame whose 7-bit length field is over 125, wrong
/// masking for the role, a 64-bit length with the top bit set, a close frame with a 1-byte payload or
/// a code not valid on the wire: Failed 1002. The first two header bytes are judged as soon as they
/// are there, before the extended length arrives.</item>
/// <item>A data frame longer than MaxFrameSize, or a message whose announced total exceeds
/// MaxMessageSize (or, when reassembling, the largest array): Failed 1009, decided on the header.</item>
/// <item>Text that can no longer be valid UTF-8 (checked on the bytes received so far, even inside an
/// incomplete frame), text ending inside a code point, an invalid close reason: Failed 1007.</item>
/// <item>Non-minimal length encodings are accepted. Nothing after a close or a failure is looked at.</item>
/// <item>Owed output: a pong per ping (same payload), the echo of a close (its code, no reason; an
/// empty close for an empty one), or a close with the failure code.</item>
/// </list>
/// With DeliverFragments the events are in the coalesced form of <see cref="EngineRun"/>.
/// </summary>
internal static class ReferenceDecoder
{
    /// <summary>
    /// Decodes <paramref name="data"/>: the frame-level logic is shared with the permessage-deflate oracle,
    /// which with no agreement (RSV1 then being a protocol error like RSV2/RSV3) is exactly this policy.
    /// </summary>
    public static ModelResult Decode(ReadOnlySpan<byte> data, WebSocketRole role, FrameProfile profile) =>
        CompressedReferenceDecoder.Decode(data, role, profile, agreement: null).Result;

    /// <summary>
    /// The owed output when the driver flushes only at the end: pongs are owed only while the owed bytes
    /// plus a maximal header (14) plus the payload stay within MaxPendingControlBytes (RFC 6455 §5.5.3
    /// allows answering only some pings); closes are always owed.
    /// </summary>
    public static List<OwedFrame> LazyOutput(ModelResult model, WebSocketRole role, FrameProfile profile)
    {
        var owed = new List<OwedFrame>();
        int owedBytes = 0;
        foreach (OwedFrame frame in model.Output)
        {
            int size = (role == WebSocketRole.Client ? 6 : 2) + frame.Payload.Length;
            if (frame.Opcode == 0xA && owedBytes + 14 + frame.Payload.Length > profile.Options.MaxPendingControlBytes)
            {
                continue;
            }

            owed.Add(frame);
            owedBytes += size;
        }

        return owed;
    }

    /// <summary>RFC 6455 §7.4.1/§7.4.2 and the IANA registry: the codes a close frame may carry.</summary>
    public static bool IsSendableCloseCode(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
