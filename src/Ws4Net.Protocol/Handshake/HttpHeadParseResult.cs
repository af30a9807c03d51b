using System.Diagnostics.CodeAnalysis;

namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Result of <see cref="HttpHeadParser.ParseRequest"/> (<typeparamref name="THead"/> =
/// <see cref="HttpRequestHead"/>) or <see cref="HttpHeadParser.ParseResponse"/>
/// (<typeparamref name="THead"/> = <see cref="HttpResponseHead"/>). Immutable and thread-safe.
/// The default value is an <see cref="HttpHeadParseStatus.Incomplete"/> result.
/// </summary>
/// <typeparam name="THead">The parsed head type.</typeparam>
public readonly struct HttpHeadParseResult<THead>
    where THead : class
{
    internal HttpHeadParseResult(HttpHeadParseStatus status, int consumed, THead? head, int errorStatusCode, string? errorReason)
    {
        Status = status;
        Consumed = consumed;
        Head = head;
        ErrorStatusCode = errorStatusCode;
        ErrorReason = errorReason;
    }

    /// <summary>Whether the head is complete, needs more bytes, or is invalid.</summary>
    public HttpHeadParseStatus Status { get; }

    /// <summary>
    /// When <see cref="HttpHeadParseStatus.Complete"/>: the length in bytes of the head including the
    /// terminating empty line (CRLFCRLF); bytes from this offset on belong to the next protocol
    /// (for example WebSocket frames the peer sent right after its head). Otherwise 0.
    /// </summary>
    public int Consumed { get; }

    /// <summary>The parsed head when <see cref="HttpHeadParseStatus.Complete"/>; otherwise <see langword="null"/>.</summary>
    public THead? Head { get; }

    /// <summary>
    /// When <see cref="HttpHeadParseStatus.Invalid"/>: the HTTP status a server should answer with:
    /// 400 (Bad Request) for a syntax error, 414 (URI Too Long) for a start line over
    /// <see cref="HttpHeadLimits.MaxStartLineLength"/>, 431 (Request Header Fields Too Large) for a header
    /// line, header count or total head size over its limit, 505 (HTTP Version Not Supported) for a
    /// well-formed version other than HTTP/1.0 and HTTP/1.1. For a parsed response the same codes only
    /// classify the failure. Otherwise 0.
    /// </summary>
    public int ErrorStatusCode { get; }

    /// <summary>When <see cref="HttpHeadParseStatus.Invalid"/>: a human-readable description of the error; otherwise <see langword="null"/>.</summary>
    public string? ErrorReason { get; }

    /// <summary>Whether <see cref="Status"/> is <see cref="HttpHeadParseStatus.Complete"/> (then <see cref="Head"/> is not null).</summary>
    [MemberNotNullWhen(true, nameof(Head))]
    public bool IsComplete => Status == HttpHeadParseStatus.Complete;
}
