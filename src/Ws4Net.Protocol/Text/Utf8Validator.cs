using System.Text.Unicode;

namespace Ws4Net.Protocol.Text;

/// <summary>
/// Incremental UTF-8 validator (RFC 3629, as required for text messages by RFC 6455 §5.6 and §8.1).
/// Chunks may split a code point anywhere; an error is reported in the chunk that contains the first
/// invalid byte, so a text message is failed fast instead of at its end (also for a truncated prefix
/// that can never become valid, such as <c>F4 90</c> or <c>ED A0</c>). Overlongs, surrogates
/// (U+D800-U+DFFF) and code points above U+10FFFF are invalid; U+FFFE and U+FFFF are valid.
/// </summary>
/// <remarks>
/// A mutable struct: keep it in a field and pass it by reference. Not thread-safe. Allocates nothing.
/// The bulk of each chunk is checked with the vectorized <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>;
/// only the bytes around chunk boundaries go through the byte-at-a-time state machine.
/// </remarks>
internal struct Utf8Validator
{
    private int _remaining;   // continuation bytes still expected for the current code point
    private byte _lower;      // allowed range for the NEXT continuation byte
    private byte _upper;

    /// <summary>Gets whether the bytes seen so far end on a code point boundary (a complete text).</summary>
    public readonly bool IsComplete => _remaining == 0;

    /// <summary>Forgets any partial code point: starts a new text.</summary>
    public void Reset() => _remaining = 0;

    /// <summary>Validates the next chunk of a text.</summary>
    /// <param name="chunk">The next bytes of the text, in order.</param>
    /// <returns><see langword="false"/> as soon as the text cannot be valid UTF-8 whatever follows;
    /// the validator is then in an undefined state until <see cref="Reset"/>.</returns>
    public bool Validate(ReadOnlySpan<byte> chunk)
    {
        int i = 0;
        while (_remaining != 0)
        {
            if (i == chunk.Length)
            {
                return true;
            }

            if (!Step(chunk[i++]))
            {
                return false;
            }
        }

        chunk = chunk[i..];
        if (chunk.IsEmpty)
        {
            return true;
        }

        int tail = IncompleteTailStart(chunk);
        if (!Utf8.IsValid(chunk[..tail]))
        {
            return false;
        }

        for (int j = tail; j < chunk.Length; j++)
        {
            if (!Step(chunk[j]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Index where a final, incomplete multi-byte sequence starts (or the length when none).</summary>
    private static int IncompleteTailStart(ReadOnlySpan<byte> chunk)
    {
        int end = chunk.Length;
        int min = Math.Max(0, end - 3);
        for (int i = end - 1; i >= min; i--)
        {
            byte b = chunk[i];
            if (b < 0x80)
            {
                return end;
            }

            if (b >= 0xC0)
            {
                int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return i + length > end ? i : end;
            }
        }

        return end;
    }

    /// <summary>One byte through the state machine.</summary>
    private bool Step(byte b)
    {
        if (_remaining == 0)
        {
            if (b < 0x80)
            {
                return true;
            }

            switch (b)
            {
                case >= 0xC2 and <= 0xDF:
                    _remaining = 1; _lower = 0x80; _upper = 0xBF;
                    return true;
                case 0xE0:
                    _remaining = 2; _lower = 0xA0; _upper = 0xBF;   // no overlongs
                    return true;
                case 0xED:
                    _remaining = 2; _lower = 0x80; _upper = 0x9F;   // no surrogates
                    return true;
                case >= 0xE1 and <= 0xEF:
                    _remaining = 2; _lower = 0x80; _upper = 0xBF;
                    return true;
                case 0xF0:
                    _remaining = 3; _lower = 0x90; _upper = 0xBF;   // no overlongs
                    return true;
                case >= 0xF1 and <= 0xF3:
                    _remaining = 3; _lower = 0x80; _upper = 0xBF;
                    return true;
                case 0xF4:
                    _remaining = 3; _lower = 0x80; _upper = 0x8F;   // nothing above U+10FFFF
                    return true;
                default:
                    return false;                                     // 80-C1, F5-FF
            }
        }

        if (b < _lower || b > _upper)
        {
            return false;
        }

        _remaining--;
        _lower = 0x80;
        _upper = 0xBF;
        return true;
    }
}
