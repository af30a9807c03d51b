namespace Ws4Net.Protocol.Compression;

/// <summary>
/// What an endpoint offers (client) or accepts (server) for the permessage-deflate extension
/// (RFC 7692), and how it compresses. Defaults: context takeover in both directions, 15-bit windows,
/// zlib level 6, memLevel 8, messages under 1 KiB sent uncompressed. An instance may be shared;
/// do not change it once connections use it.
/// </summary>
/// <remarks>
/// Role by role: <see cref="ServerNoContextTakeover"/> and <see cref="ServerMaxWindowBits"/> bind the
/// server's compressor, <see cref="ClientNoContextTakeover"/> and <see cref="ClientMaxWindowBits"/> the
/// client's (RFC 7692 §7.1.1, §7.1.2). A server always honours what the client asks for; a client
/// always honours what the server answers (any window 9-15). Window bits 8 is declined, because
/// zlib cannot produce an 8-bit raw DEFLATE window.
/// </remarks>
public sealed class PerMessageDeflateOptions
{
    private int _serverMaxWindowBits = 15;
    private int _clientMaxWindowBits = 15;
    private int _compressionLevel = 6;
    private int _memoryLevel = 8;
    private int _threshold = 1024;

    /// <summary>
    /// Gets or sets whether the server resets its compressor after every message
    /// (<c>server_no_context_takeover</c>). Server: answer with it even when not asked. Client: ask for it.
    /// </summary>
    public bool ServerNoContextTakeover { get; set; }

    /// <summary>
    /// Gets or sets whether the client resets its compressor after every message
    /// (<c>client_no_context_takeover</c>). Server: require it in the answer. Client: announce it in the offer.
    /// </summary>
    public bool ClientNoContextTakeover { get; set; }

    /// <summary>
    /// Gets or sets the largest LZ77 window the server compresses with, in bits (9-15, default 15):
    /// server: its own limit (answered when below the client's request or 15); client: requested with
    /// <c>server_max_window_bits</c> when below 15.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 9-15.</exception>
    public int ServerMaxWindowBits
    {
        get => _serverMaxWindowBits;
        set => _serverMaxWindowBits = CheckWindowBits(value);
    }

    /// <summary>
    /// Gets or sets the largest LZ77 window the client compresses with, in bits (9-15, default 15):
    /// server: answered with <c>client_max_window_bits</c> when below 15 and the client offered the
    /// parameter; client: offered with <c>client_max_window_bits</c> (with a value when below 15).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 9-15.</exception>
    public int ClientMaxWindowBits
    {
        get => _clientMaxWindowBits;
        set => _clientMaxWindowBits = CheckWindowBits(value);
    }

    /// <summary>Gets or sets the zlib compression level, 0 (store) to 9 (smallest); default 6.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0-9.</exception>
    public int CompressionLevel
    {
        get => _compressionLevel;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 0);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9);
            _compressionLevel = value;
        }
    }

    /// <summary>
    /// Gets or sets zlib's memLevel, 1-9 (default 8): the compressor's internal state is about
    /// 2^(memLevel+9) bytes plus 2^(window bits+2) bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1-9.</exception>
    public int MemoryLevel
    {
        get => _memoryLevel;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9);
            _memoryLevel = value;
        }
    }

    /// <summary>
    /// Gets or sets the smallest message, in bytes, that is compressed (default 1024); smaller ones go
    /// uncompressed (RSV1 clear), which RFC 7692 §6 allows per message. 0 compresses everything.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int Threshold
    {
        get => _threshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _threshold = value;
        }
    }

    private static int CheckWindowBits(int value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, 9);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 15);
        return value;
    }
}
