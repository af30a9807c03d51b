namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>How a <see cref="ReferenceInflater.Run"/> call stopped.</summary>
internal enum InflateStop
{
    /// <summary>All input so far is decoded; the stream goes on with more input.</summary>
    NeedInput,

    /// <summary>The final block (BFINAL) ended; later input of the stream is ignored.</summary>
    Ended,

    /// <summary>The output cap was reached (more output may follow).</summary>
    Cap,

    /// <summary>The data is not valid DEFLATE (see <see cref="ReferenceInflater.Error"/>).</summary>
    Error,
}

/// <summary>
/// A raw DEFLATE (RFC 1951) decoder written for the fuzzers, independent of zlib and of the engine. It
/// is incremental (input is appended, output is produced as soon as the bits of a symbol are all there)
/// and rejects exactly what zlib's inflate rejects, at the same bit: reserved block type, stored
/// LEN/NLEN mismatch, more than 286 literal/length or 30 distance codes, an incomplete or
/// over-subscribed code-length code, a repeat with nothing to repeat or past the end, a literal/length
/// code without end-of-block, incomplete or over-subscribed literal/length and distance codes (except
/// zlib's single one-bit code), literal/length symbols 286-287 and distance symbols 30-31 of the fixed
/// code, and distances before the start of the stream. (zlib quirk kept: a code-length code with no
/// codes at all decodes every length as a one-bit 0.)
/// <para>A distance beyond the window of <c>2^windowBits</c> bytes but within the data already
/// produced is rejected too, with <see cref="WindowViolation"/> set: a peer that honours the agreed
/// window never sends one, and zlib accepts or rejects it depending on how the output is cut into
/// calls.</para>
/// </summary>
internal sealed class ReferenceInflater
{
    private static readonly int[] LengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static readonly int[] LengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    private static readonly int[] DistanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static readonly int[] DistanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
    private static readonly int[] CodeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

    private static readonly Huffman FixedLiterals = BuildFixedLiterals();
    private static readonly Huffman FixedDistances = Huffman.Build(Enumerable.Repeat(5, 32).ToArray(), 32, out _);

    private readonly int _windowSize;
    private readonly ByteBuf _input = new(64);
    private long _bit;
    private readonly byte[] _history = new byte[32768];
    private long _produced;

    private Mode _mode = Mode.Header;
    private bool _last;
    private bool _fixed;
    private int _storedLeft;
    private Huffman? _literals;
    private Huffman? _distances;
    private int _pendingLength;
    private int _pendingDistance;

    public ReferenceInflater(int windowBits)
    {
        WindowBits = windowBits;
        _windowSize = 1 << windowBits;
    }

    private enum Mode
    {
        Header,
        Stored,
        Huffman,
        Ended,
        Failed,
    }

    public int WindowBits { get; }

    /// <summary>Gets why the data was rejected, once <see cref="InflateStop.Error"/> was returned.</summary>
    public string? Error { get; private set; }

    /// <summary>Gets whether the data was rejected for a distance beyond the window but within the output so far.</summary>
    public bool WindowViolation { get; private set; }

    /// <summary>Gets whether the final block ended.</summary>
    public bool Ended => _mode == Mode.Ended;

    /// <summary>Gets the bytes produced since the stream started.</summary>
    public long Produced => _produced;

    public void Append(ReadOnlySpan<byte> bytes) => _input.Append(bytes);

    /// <summary>
    /// Decodes what the input allows, appending at most <paramref name="cap"/> bytes to
    /// <paramref name="output"/>; returns why it stopped and, in <paramref name="written"/>, how many bytes it wrote.
    /// </summary>
    public InflateStop Run(ByteBuf output, long cap, out int written)
    {
        written = 0;
        while (true)
        {
            switch (_mode)
            {
                case Mode.Ended:
                    return InflateStop.Ended;
                case Mode.Failed:
                    return InflateStop.Error;
            }

            if (_pendingLength > 0)
            {
                int n = (int)Math.Min(_pendingLength, cap - written);
                for (int i = 0; i < n; i++)
                {
                    Emit(output, _history[(int)((_produced - _pendingDistance) & 0x7FFF)]);
                }

                written += n;
                _pendingLength -= n;
                if (_pendingLength > 0)
                {
                    return InflateStop.Cap;
                }
            }

            switch (_mode)
            {
                case Mode.Header:
                    {
                        InflateStop? stop = ReadBlockHeader();
                        if (stop is { } s)
                        {
                            return s;
                        }

                        break;
                    }

                case Mode.Stored:
                    {
                        if (_storedLeft == 0)
                        {
                            EndBlock();
                            break;
                        }

                        long availableBytes = _input.Length - (_bit >> 3);
                        if (availableBytes == 0)
                        {
                            return InflateStop.NeedInput;
                        }

                        if (written >= cap)
                        {
                            return InflateStop.Cap;
                        }

                        int n = (int)Math.Min(Math.Min(_storedLeft, availableBytes), cap - written);
                        ReadOnlySpan<byte> source = _input.ReadOnlySpan.Slice((int)(_bit >> 3), n);
                        foreach (byte b in source)
                        {
                            Emit(output, b);
                        }

                        _bit += 8L * n;
                        _storedLeft -= n;
                        written += n;
                        break;
                    }

                default:
                    {
                        if (written >= cap)
                        {
                            return InflateStop.Cap;
                        }

                        InflateStop? stop = ReadSymbol(output, cap, ref written);
                        if (stop is { } s)
                        {
                            return s;
                        }

                        break;
                    }
            }
        }
    }

    /// <summary>
    /// After a <see cref="InflateStop.Cap"/> stop: whether zlib, whose output space is exhausted right after
    /// the capped byte, would still reach an error with the input it holds. zlib goes on without output
    /// space through end-of-block codes and block headers, decodes the next literal or the length and
    /// distance codes of the next match, and stops there (a distance too far back is only checked when
    /// there is room to copy). Decoding goes on from the current state (used once the stream failed anyway).
    /// </summary>
    public bool ErrorBeforeOutputNeeded()
    {
        if (_pendingLength > 0)
        {
            return false;
        }

        while (true)
        {
            switch (_mode)
            {
                case Mode.Ended:
                    return false;
                case Mode.Failed:
                    return true;
                case Mode.Stored:
                    if (_storedLeft > 0)
                    {
                        return false;
                    }

                    EndBlock();
                    continue;
                case Mode.Header:
                    InflateStop? stop = ReadBlockHeader();
                    if (stop is { } s)
                    {
                        return s == InflateStop.Error;
                    }

                    continue;
            }

            long pos = _bit;
            int symbol = Decode(_literals!, ref pos);
            if (symbol == -1)
            {
                return false;
            }

            if (symbol == -2 || (_fixed && symbol >= 286))
            {
                return true;
            }

            if (symbol < 256)
            {
                return false;
            }

            if (symbol == 256)
            {
                _bit = pos;
                EndBlock();
                continue;
            }

            int lengthIndex = symbol - 257;
            if (!Available(pos, LengthExtra[lengthIndex]))
            {
                return false;
            }

            Bits(ref pos, LengthExtra[lengthIndex]);
            int distanceSymbol = Decode(_distances!, ref pos);
            return distanceSymbol == -2 || distanceSymbol >= 30;
        }
    }

    private void Emit(ByteBuf output, byte b)
    {
        output.Append(b);
        _history[(int)(_produced & 0x7FFF)] = b;
        _produced++;
    }

    private void EndBlock() => _mode = _last ? Mode.Ended : Mode.Header;

    private InflateStop Fail(string error, bool window = false)
    {
        _mode = Mode.Failed;
        Error = error;
        WindowViolation = window;
        return InflateStop.Error;
    }

    private bool Available(long pos, int bits) => (_input.Length * 8L) - pos >= bits;

    private int Bits(ref long pos, int count)
    {
        ReadOnlySpan<byte> data = _input.ReadOnlySpan;
        int value = 0;
        for (int i = 0; i < count; i++)
        {
            value |= ((data[(int)(pos >> 3)] >> (int)(pos & 7)) & 1) << i;
            pos++;
        }

        return value;
    }

    /// <summary>Decodes one Huffman symbol: the symbol, -1 for more input, -2 for an invalid code.</summary>
    private int Decode(Huffman table, ref long pos)
    {
        ReadOnlySpan<byte> data = _input.ReadOnlySpan;
        long limit = _input.Length * 8L;
        int code = 0;
        int first = 0;
        int index = 0;
        for (int length = 1; length <= 15; length++)
        {
            if (pos >= limit)
            {
                return -1;
            }

            code |= (data[(int)(pos >> 3)] >> (int)(pos & 7)) & 1;
            pos++;
            int count = table.Count[length];
            if (code - count < first)
            {
                return table.Symbols[index + (code - first)];
            }

            if (length == 1 && table.OneBitIncomplete)
            {
                return -2;   // zlib marks the unused one-bit code invalid after one bit
            }

            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }

        return -2;
    }

    private InflateStop? ReadBlockHeader()
    {
        long pos = _bit;
        if (!Available(pos, 3))
        {
            return InflateStop.NeedInput;
        }

        bool last = Bits(ref pos, 1) == 1;
        int type = Bits(ref pos, 2);
        switch (type)
        {
            case 0:
                pos = (pos + 7) & ~7L;
                if (!Available(pos, 32))
                {
                    return InflateStop.NeedInput;
                }

                int length = Bits(ref pos, 16);
                int complement = Bits(ref pos, 16);
                if (length != (~complement & 0xFFFF))
                {
                    return Fail("invalid stored block lengths");
                }

                _bit = pos;
                _last = last;
                _storedLeft = length;
                _mode = Mode.Stored;
                return null;
            case 1:
                _bit = pos;
                _last = last;
                _literals = FixedLiterals;
                _distances = FixedDistances;
                _fixed = true;
                _mode = Mode.Huffman;
                return null;
            case 2:
                return ReadDynamicHeader(pos, last);
            default:
                return Fail("invalid block type");
        }
    }

    private InflateStop? ReadDynamicHeader(long pos, bool last)
    {
        if (!Available(pos, 14))
        {
            return InflateStop.NeedInput;
        }

        int literalCount = Bits(ref pos, 5) + 257;
        int distanceCount = Bits(ref pos, 5) + 1;
        int codeCount = Bits(ref pos, 4) + 4;
        if (literalCount > 286 || distanceCount > 30)
        {
            return Fail("too many length or distance symbols");
        }

        if (!Available(pos, codeCount * 3))
        {
            return InflateStop.NeedInput;
        }

        int[] codeLengths = new int[19];
        for (int i = 0; i < codeCount; i++)
        {
            codeLengths[CodeLengthOrder[i]] = Bits(ref pos, 3);
        }

        Huffman? codeCode = codeLengths.All(l => l == 0) ? null : Huffman.Build(codeLengths, 19, out _, codeLengthCode: true);
        if (codeCode is not null && !HuffmanOk(codeCode))
        {
            return Fail("invalid code lengths set");
        }

        int total = literalCount + distanceCount;
        int[] lengths = new int[total];
        int have = 0;
        while (have < total)
        {
            int symbol;
            if (codeCode is null)
            {
                // zlib quirk: an empty code-length code is a table of one-bit "0" entries.
                if (!Available(pos, 1))
                {
                    return InflateStop.NeedInput;
                }

                pos++;
                symbol = 0;
            }
            else
            {
                symbol = Decode(codeCode, ref pos);
                if (symbol == -1)
                {
                    return InflateStop.NeedInput;
                }
            }

            if (symbol < 16)
            {
                lengths[have++] = symbol;
                continue;
            }

            int repeat;
            int value = 0;
            switch (symbol)
            {
                case 16:
                    if (!Available(pos, 2))
                    {
                        return InflateStop.NeedInput;
                    }

                    if (have == 0)
                    {
                        return Fail("invalid bit length repeat");
                    }

                    value = lengths[have - 1];
                    repeat = 3 + Bits(ref pos, 2);
                    break;
                case 17:
                    if (!Available(pos, 3))
                    {
                        return InflateStop.NeedInput;
                    }

                    repeat = 3 + Bits(ref pos, 3);
                    break;
                default:
                    if (!Available(pos, 7))
                    {
                        return InflateStop.NeedInput;
                    }

                    repeat = 11 + Bits(ref pos, 7);
                    break;
            }

            if (have + repeat > total)
            {
                return Fail("invalid bit length repeat");
            }

            for (int i = 0; i < repeat; i++)
            {
                lengths[have++] = value;
            }
        }

        if (lengths[256] == 0)
        {
            return Fail("invalid code -- missing end-of-block");
        }

        Huffman literals = Huffman.Build(lengths.AsSpan(0, literalCount).ToArray(), literalCount, out _);
        if (!HuffmanOk(literals))
        {
            return Fail("invalid literal/lengths set");
        }

        Huffman distances = Huffman.Build(lengths.AsSpan(literalCount).ToArray(), distanceCount, out _);
        if (!HuffmanOk(distances))
        {
            return Fail("invalid distances set");
        }

        _bit = pos;
        _last = last;
        _literals = literals;
        _distances = distances;
        _fixed = false;
        _mode = Mode.Huffman;
        return null;
    }

    /// <summary>zlib's inflate_table: over-subscribed codes are invalid; incomplete ones too, except a single one-bit code (and an empty code) outside the code-length code.</summary>
    private static bool HuffmanOk(Huffman table)
    {
        if (table.Left < 0)
        {
            return false;
        }

        if (table.MaxLength == 0)
        {
            return true;
        }

        return table.Left == 0 || (!table.CodeLengthCode && table.MaxLength == 1);
    }

    private InflateStop? ReadSymbol(ByteBuf output, long cap, ref int written)
    {
        long pos = _bit;
        int symbol = Decode(_literals!, ref pos);
        if (symbol == -1)
        {
            return InflateStop.NeedInput;
        }

        if (symbol == -2 || (_fixed && symbol >= 286))
        {
            return Fail("invalid literal/length code");
        }

        if (symbol < 256)
        {
            _bit = pos;
            Emit(output, (byte)symbol);
            written++;
            return null;
        }

        if (symbol == 256)
        {
            _bit = pos;
            EndBlock();
            return null;
        }

        int lengthIndex = symbol - 257;
        if (!Available(pos, LengthExtra[lengthIndex]))
        {
            return InflateStop.NeedInput;
        }

        int length = LengthBase[lengthIndex] + Bits(ref pos, LengthExtra[lengthIndex]);
        int distanceSymbol = Decode(_distances!, ref pos);
        if (distanceSymbol == -1)
        {
            return InflateStop.NeedInput;
        }

        if (distanceSymbol == -2 || distanceSymbol >= 30)
        {
            return Fail("invalid distance code");
        }

        if (!Available(pos, DistanceExtra[distanceSymbol]))
        {
            return InflateStop.NeedInput;
        }

        int distance = DistanceBase[distanceSymbol] + Bits(ref pos, DistanceExtra[distanceSymbol]);
        if (distance > _produced)
        {
            return Fail("invalid distance too far back");
        }

        if (distance > _windowSize)
        {
            return Fail("distance beyond the agreed window", window: true);
        }

        _bit = pos;
        _pendingLength = length;
        _pendingDistance = distance;
        return null;
    }

    private static Huffman BuildFixedLiterals()
    {
        int[] lengths = new int[288];
        for (int i = 0; i < 288; i++)
        {
            lengths[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        }

        return Huffman.Build(lengths, 288, out _);
    }

    /// <summary>A canonical Huffman code (counts per length and symbols in code order), as RFC 1951 §3.2.2 builds it.</summary>
    private sealed class Huffman
    {
        public int[] Count { get; } = new int[16];

        public int[] Symbols { get; private init; } = [];

        public int MaxLength { get; private set; }

        /// <summary>Gets the unused code space at the longest length (negative: over-subscribed).</summary>
        public int Left { get; private set; }

        public bool CodeLengthCode { get; private init; }

        public bool OneBitIncomplete => MaxLength <= 1 && Left > 0;

        public static Huffman Build(int[] lengths, int count, out bool complete, bool codeLengthCode = false)
        {
            var table = new Huffman { Symbols = new int[count], CodeLengthCode = codeLengthCode };
            for (int s = 0; s < count; s++)
            {
                table.Count[lengths[s]]++;
                table.MaxLength = Math.Max(table.MaxLength, lengths[s]);
            }

            int left = 1;
            for (int length = 1; length <= 15; length++)
            {
                left <<= 1;
                left -= table.Count[length];
                if (left < 0)
                {
                    break;
                }
            }

            table.Left = left;
            if (table.MaxLength == 0)
            {
                // No codes at all: every one-bit pattern is invalid (zlib builds a table of invalid entries).
                table.Left = 2;
                table.Count[0] = 0;
            }

            int[] offsets = new int[16];
            for (int length = 1; length < 15; length++)
            {
                offsets[length + 1] = offsets[length] + table.Count[length];
            }

            for (int s = 0; s < count; s++)
            {
                if (lengths[s] != 0)
                {
                    table.Symbols[offsets[lengths[s]]++] = s;
                }
            }

            table.Count[0] = 0;
            complete = left == 0;
            return table;
        }
    }
}

/// <summary>
/// A small raw DEFLATE encoder written for the fuzzers, independent of zlib: greedy LZ77 over hash
/// chains with distances limited to the agreed window (2^bits, the largest RFC 7692 allows, so the
/// window's edge is exercised), fixed-Huffman or stored blocks (the smaller, per block), several blocks
/// per message, and either a sync flush (an empty stored block, whose 00 00 FF FF tail the caller
/// removes) or a final block at the end of a message. The history is kept across messages (context
/// takeover) until <see cref="Reset"/> or a final block.
/// </summary>
internal sealed class ReferenceDeflater
{
    private const int HashBits = 14;
    private readonly int _window;
    private readonly ByteBuf _data = new(1024);   // everything fed since the stream started
    private int[] _head = new int[1 << HashBits];
    private int[] _previous = new int[1024];
    private readonly BitWriter _bits = new();

    public ReferenceDeflater(int windowBits)
    {
        _window = 1 << windowBits;
        Array.Fill(_head, -1);
    }

    public void Reset()
    {
        _data.Clear();
        Array.Fill(_head, -1);
    }

    /// <summary>
    /// Compresses one message and returns its permessage-deflate payload (RFC 7692 §7.2.1): blocks, then
    /// an empty stored block whose 00 00 FF FF is removed, or, with <paramref name="final"/>, a final block
    /// (after which the stream starts anew).
    /// </summary>
    public byte[] CompressMessage(FuzzRng rng, ReadOnlySpan<byte> message, bool final)
    {
        int start = _data.Length;
        _data.Append(message);
        EnsurePrevious(_data.Length);
        var cuts = new List<int> { 0, message.Length };
        int blocks = message.Length == 0 ? 0 : rng.Chance(70) ? 1 : rng.Next(2, 5);
        for (int i = 1; i < blocks; i++)
        {
            cuts.Add(rng.Next(message.Length + 1));
        }

        cuts.Sort();
        bool farthest = rng.Chance(30);   // prefer the farthest candidate: distances at the window's edge
        bool lazyLiterals = rng.Chance(20);
        for (int b = 1; b < cuts.Count; b++)
        {
            int from = start + cuts[b - 1];
            int to = start + cuts[b];
            bool lastBlock = final && b == cuts.Count - 1;
            WriteBlock(rng, from, to, lastBlock, farthest, lazyLiterals);
        }

        if (final && blocks == 0)
        {
            // An empty final block: fixed Huffman with only the end-of-block code.
            _bits.Write(1, 1);
            _bits.Write(1, 2);
            _bits.WriteHuffman(0, 7);
        }

        if (!final)
        {
            // Sync flush: an empty stored block; the caller's tail 00 00 FF FF is what we drop.
            _bits.Write(0, 1);
            _bits.Write(0, 2);
            _bits.AlignToByte();
            _bits.WriteByte(0x00);
            _bits.WriteByte(0x00);
            _bits.WriteByte(0xFF);
            _bits.WriteByte(0xFF);
            byte[] all = _bits.TakeBytes();
            return all[..^4];
        }

        _bits.AlignToByte();
        byte[] bytes = _bits.TakeBytes();
        Reset();
        return bytes;
    }

    private void WriteBlock(FuzzRng rng, int from, int to, bool last, bool farthest, bool lazyLiterals)
    {
        // Tokens: (length, distance) with length 0 for a literal.
        var tokens = new List<(int Length, int Distance)>();
        ReadOnlySpan<byte> data = _data.ReadOnlySpan;
        int pos = from;
        while (pos < to)
        {
            int bestLength = 0;
            int bestDistance = 0;
            if (pos + 3 <= to && !(lazyLiterals && rng.Chance(10)))
            {
                int hash = Hash(data, pos);
                int candidate = _head[hash];
                int chain = 0;
                while (candidate >= 0 && pos - candidate <= _window && chain++ < 24)
                {
                    int max = Math.Min(258, to - pos);
                    int length = 0;
                    while (length < max && data[candidate + length] == data[pos + length])
                    {
                        length++;
                    }

                    if (length >= 3 && (length > bestLength || (farthest && length == bestLength)))
                    {
                        bestLength = length;
                        bestDistance = pos - candidate;
                        if (length == max && !farthest)
                        {
                            break;
                        }
                    }

                    candidate = _previous[candidate];
                }
            }

            if (bestLength >= 3 && rng.Chance(3))
            {
                bestLength = rng.Next(3, bestLength + 1);   // a shorter match is valid too
            }

            int step = bestLength >= 3 ? bestLength : 1;
            tokens.Add(bestLength >= 3 ? (bestLength, bestDistance) : (0, data[pos]));
            for (int i = 0; i < step; i++)
            {
                // Long matches: only their ends go into the chains (as zlib does, it keeps long runs cheap).
                if (step <= 16 || i < 2 || i >= step - 3)
                {
                    Insert(data, pos + i);
                }
                else
                {
                    _previous[pos + i] = -1;
                }
            }

            pos += step;
        }

        long fixedBits = 3 + 7;
        foreach ((int length, int value) in tokens)
        {
            fixedBits += length == 0 ? (value < 144 ? 8 : 9) : FixedLengthCost(length) + 5 + DistanceExtraBits(value);
        }

        long storedBits = 3 + 7 + (((to - from + 65534) / 65535) * 40L) + (8L * (to - from));
        if (storedBits < fixedBits || (to - from <= 4096 && rng.Chance(5)))
        {
            WriteStored(from, to, last);
            return;
        }

        _bits.Write(last ? 1 : 0, 1);
        _bits.Write(1, 2);
        foreach ((int length, int value) in tokens)
        {
            if (length == 0)
            {
                WriteLiteral(value);
            }
            else
            {
                WriteMatch(length, value);
            }
        }

        _bits.WriteHuffman(0, 7);   // end of block (256)
    }

    private void WriteStored(int from, int to, bool last)
    {
        ReadOnlySpan<byte> data = _data.ReadOnlySpan;
        int pos = from;
        do
        {
            int length = Math.Min(65535, to - pos);
            bool lastPiece = pos + length == to;
            _bits.Write(last && lastPiece ? 1 : 0, 1);
            _bits.Write(0, 2);
            _bits.AlignToByte();
            _bits.WriteByte((byte)length);
            _bits.WriteByte((byte)(length >> 8));
            _bits.WriteByte((byte)~length);
            _bits.WriteByte((byte)(~length >> 8));
            for (int i = 0; i < length; i++)
            {
                _bits.WriteByte(data[pos + i]);
            }

            pos += length;
        }
        while (pos < to);
    }

    private void WriteLiteral(int value)
    {
        if (value < 144)
        {
            _bits.WriteHuffman(0x30 + value, 8);
        }
        else
        {
            _bits.WriteHuffman(0x190 + value - 144, 9);
        }
    }

    private void WriteMatch(int length, int distance)
    {
        int code = LengthCode(length, out int lengthBase, out int lengthExtra);
        if (code < 280)
        {
            _bits.WriteHuffman(code - 256, 7);
        }
        else
        {
            _bits.WriteHuffman(0xC0 + code - 280, 8);
        }

        _bits.Write(length - lengthBase, lengthExtra);
        int distanceCode = DistanceCode(distance, out int distanceBase, out int distanceExtra);
        _bits.WriteHuffman(distanceCode, 5);
        _bits.Write(distance - distanceBase, distanceExtra);
    }

    private static readonly int[] LengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static readonly int[] LengthExtras = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    private static readonly int[] DistanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static readonly int[] DistanceExtras = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    private static int LengthCode(int length, out int lengthBase, out int extra)
    {
        int index = LengthBases.Length - 1;
        while (LengthBases[index] > length)
        {
            index--;
        }

        lengthBase = LengthBases[index];
        extra = LengthExtras[index];
        return 257 + index;
    }

    private static int DistanceCode(int distance, out int distanceBase, out int extra)
    {
        int index = DistanceBases.Length - 1;
        while (DistanceBases[index] > distance)
        {
            index--;
        }

        distanceBase = DistanceBases[index];
        extra = DistanceExtras[index];
        return index;
    }

    private static int FixedLengthCost(int length)
    {
        int code = LengthCode(length, out _, out int extra);
        return (code < 280 ? 7 : 8) + extra;
    }

    private static int DistanceExtraBits(int distance)
    {
        DistanceCode(distance, out _, out int extra);
        return extra;
    }

    private static int Hash(ReadOnlySpan<byte> data, int pos) =>
        (int)(((uint)((data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]) * 2654435761u) >> (32 - HashBits));

    private void Insert(ReadOnlySpan<byte> data, int pos)
    {
        if (pos + 3 > data.Length)
        {
            _previous[pos] = -1;
            return;
        }

        int hash = Hash(data, pos);
        _previous[pos] = _head[hash];
        _head[hash] = pos;
    }

    private void EnsurePrevious(int length)
    {
        if (_previous.Length < length)
        {
            Array.Resize(ref _previous, Math.Max(length, _previous.Length * 2));
        }
    }

    /// <summary>Writes bits LSB first (RFC 1951 §3.1.1).</summary>
    private sealed class BitWriter
    {
        private readonly ByteBuf _bytes = new(256);
        private uint _buffer;
        private int _count;

        public void Write(int value, int bits)
        {
            for (int i = 0; i < bits; i++)
            {
                _buffer |= (uint)((value >> i) & 1) << _count;
                if (++_count == 8)
                {
                    _bytes.Append((byte)_buffer);
                    _buffer = 0;
                    _count = 0;
                }
            }
        }

        /// <summary>Writes a Huffman code, most significant bit first.</summary>
        public void WriteHuffman(int code, int bits)
        {
            for (int i = bits - 1; i >= 0; i--)
            {
                Write((code >> i) & 1, 1);
            }
        }

        public void AlignToByte()
        {
            if (_count > 0)
            {
                _bytes.Append((byte)_buffer);
                _buffer = 0;
                _count = 0;
            }
        }

        public void WriteByte(byte b)
        {
            if (_count != 0)
            {
                throw new InvalidOperationException("not byte-aligned");
            }

            _bytes.Append(b);
        }

        /// <summary>Returns the whole bytes written so far (the stream must be byte-aligned) and forgets them.</summary>
        public byte[] TakeBytes()
        {
            if (_count != 0)
            {
                throw new InvalidOperationException("not byte-aligned");
            }

            byte[] bytes = _bytes.ToArray();
            _bytes.Clear();
            return bytes;
        }
    }
}
