namespace Ws4Net.Protocol.Handshake;

/// <summary>
/// Size limits that <see cref="HttpHeadParser"/> enforces on an HTTP/1.1 head (start line plus header
/// fields, RFC 9112 §2.1) so that a peer can never make the parser wait for, or buffer, unbounded input.
/// A limit is reported as soon as the buffered bytes exceed it, before the head is complete.
/// </summary>
/// <remarks>
/// Not thread-safe to mutate. Once configured, one instance may be shared by any number of concurrent
/// parse calls, which only read it.
/// </remarks>
public sealed class HttpHeadLimits
{
    private int _maxStartLineLength = 8192;
    private int _maxHeaderLineLength = 8192;
    private int _maxHeaderCount = 100;
    private int _maxHeadSize = 16384;

    /// <summary>
    /// Maximum length in bytes of the request line or status line, excluding its terminating CRLF.
    /// Default 8192. Exceeding it fails the parse with status 414 (URI Too Long).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is zero or negative.</exception>
    public int MaxStartLineLength
    {
        get => _maxStartLineLength;
        set => _maxStartLineLength = Positive(value);
    }

    /// <summary>
    /// Maximum length in bytes of one header field line (<c>name: value</c>), excluding its terminating
    /// CRLF. Default 8192. Exceeding it fails the parse with status 431 (Request Header Fields Too Large).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is zero or negative.</exception>
    public int MaxHeaderLineLength
    {
        get => _maxHeaderLineLength;
        set => _maxHeaderLineLength = Positive(value);
    }

    /// <summary>
    /// Maximum number of header field lines (a count; repeated names count once per line). Default 100.
    /// Exceeding it fails the parse with status 431.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is zero or negative.</exception>
    public int MaxHeaderCount
    {
        get => _maxHeaderCount;
        set => _maxHeaderCount = Positive(value);
    }

    /// <summary>
    /// Maximum total size in bytes of the head: the start line, every header line and all CRLFs,
    /// including the final empty line (so a head ends with CRLFCRLF within this many bytes).
    /// Default 16384. Exceeding it fails the parse with status 431.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is zero or negative.</exception>
    public int MaxHeadSize
    {
        get => _maxHeadSize;
        set => _maxHeadSize = Positive(value);
    }

    private static int Positive(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
        return value;
    }
}
