using System.Buffers.Binary;

namespace Ws4Net.Cli.Bench;

/// <summary>
/// Incremental parser of the server's (unmasked) frames: any chunking of the byte stream gives the same
/// result; 7, 16 and 64-bit lengths, fragmented messages and interleaved control frames are handled.
/// It counts complete data messages and, when asked, keeps the first bytes of each message's payload.
/// Never allocates after construction. Not thread-safe: one instance per connection.
/// </summary>
internal class ServerFrameParser
{
    /// <summary>How many leading payload bytes of each data message are kept (see <see cref="OnMessage"/>).</summary>
    public const int PrefixLength = 16;

    private readonly byte[] _header = new byte[10];
    private readonly byte[] _prefix;
    private readonly bool _keepPrefix;
    private int _headerFilled;
    private int _headerNeeded = 2;
    private bool _inPayload;
    private long _remaining;
    private int _opcode;
    private bool _fin;
    private int _prefixFilled;

    /// <summary>Creates a parser.</summary>
    /// <param name="keepPrefix">Whether to keep the first <see cref="PrefixLength"/> bytes of each data message and call <see cref="OnMessage"/>.</param>
    public ServerFrameParser(bool keepPrefix)
    {
        _keepPrefix = keepPrefix;
        _prefix = new byte[keepPrefix ? PrefixLength : 0];
    }

    /// <summary>Gets a value indicating whether a close frame was received.</summary>
    public bool CloseReceived { get; private set; }

    /// <summary>Gets the number of pings received (they are not answered).</summary>
    public long Pings { get; private set; }

    /// <summary>Parses the next bytes of the stream.</summary>
    /// <param name="data">Bytes as read from the socket.</param>
    /// <returns>The number of data messages completed by these bytes.</returns>
    /// <exception cref="InvalidDataException">The server sent a masked frame or a reserved opcode.</exception>
    public int Feed(ReadOnlySpan<byte> data)
    {
        int completed = 0;
        while (!data.IsEmpty)
        {
            if (!_inPayload)
            {
                int take = Math.Min(_headerNeeded - _headerFilled, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFilled));
                _headerFilled += take;
                data = data[take..];
                if (_headerFilled < _headerNeeded)
                {
                    continue;
                }

                if (_headerNeeded == 2)
                {
                    if ((_header[1] & 0x80) != 0)
                    {
                        throw new InvalidDataException("the server sent a masked frame");
                    }

                    int length7 = _header[1] & 0x7F;
                    _headerNeeded = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
                    if (_headerNeeded > 2)
                    {
                        continue;
                    }
                }

                int length7Final = _header[1] & 0x7F;
                _remaining = length7Final switch
                {
                    126 => BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)),
                    127 => (long)BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2)),
                    _ => length7Final,
                };
                _opcode = _header[0] & 0x0F;
                _fin = (_header[0] & 0x80) != 0;
                if (_opcode is 3 or 4 or 5 or 6 or 7 or >= 0xB)
                {
                    throw new InvalidDataException($"the server sent reserved opcode {_opcode}");
                }

                if (_opcode is 1 or 2)
                {
                    _prefixFilled = 0;
                }

                _headerFilled = 0;
                _headerNeeded = 2;
                _inPayload = true;
            }

            if (_remaining > 0)
            {
                int take = (int)Math.Min(_remaining, data.Length);
                if (_keepPrefix && _opcode < 8 && _prefixFilled < PrefixLength)
                {
                    int copy = Math.Min(PrefixLength - _prefixFilled, take);
                    data[..copy].CopyTo(_prefix.AsSpan(_prefixFilled));
                    _prefixFilled += copy;
                }

                _remaining -= take;
                data = data[take..];
                if (_remaining > 0)
                {
                    continue;
                }
            }

            _inPayload = false;
            if (_opcode >= 8)
            {
                if (_opcode == 8)
                {
                    CloseReceived = true;
                }
                else if (_opcode == 9)
                {
                    Pings++;
                }
            }
            else if (_fin)
            {
                completed++;
                if (_keepPrefix)
                {
                    OnMessage(_prefix.AsSpan(0, _prefixFilled));
                }
            }
        }

        return completed;
    }

    /// <summary>Called at the end of each data message when the parser keeps prefixes.</summary>
    /// <param name="prefix">The message's first bytes (up to <see cref="PrefixLength"/>).</param>
    protected virtual void OnMessage(ReadOnlySpan<byte> prefix)
    {
    }
}
