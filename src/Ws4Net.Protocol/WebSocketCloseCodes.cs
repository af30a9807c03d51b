namespace Ws4Net.Protocol;

/// <summary>
/// Rules about which close codes may appear on the wire (RFC 6455 §7.4). Stateless and thread-safe.
/// </summary>
public static class WebSocketCloseCodes
{
    /// <summary>
    /// Returns whether <paramref name="code"/> may be carried in a close frame: 1000-1003, 1007-1011,
    /// 1012-1014 (IANA-registered) and 3000-4999. 1004, 1005, 1006, 1015, 0-999, 1016-2999 and
    /// 5000+ are not valid on the wire; a received close frame that carries one fails the connection
    /// with 1002.
    /// </summary>
    /// <param name="code">The 16-bit code, as read from or about to be written to a close frame.</param>
    /// <returns><see langword="true"/> when the code may be sent and accepted.</returns>
    public static bool IsValidOnWire(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
