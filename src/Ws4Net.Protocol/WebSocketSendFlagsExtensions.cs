namespace Ws4Net.Protocol;

/// <summary>Conversions of <see cref="WebSocketSendFlags"/> used by the drivers.</summary>
internal static class WebSocketSendFlagsExtensions
{
    /// <summary>The compression choice the flags make: <see langword="false"/>, <see langword="true"/>, or <see langword="null"/> for the threshold.</summary>
    /// <exception cref="ArgumentException">Both <see cref="WebSocketSendFlags.DisableCompression"/> and <see cref="WebSocketSendFlags.ForceCompression"/> are set.</exception>
    public static bool? CompressionChoice(this WebSocketSendFlags flags, string parameterName)
    {
        bool disable = (flags & WebSocketSendFlags.DisableCompression) != 0;
        bool force = (flags & WebSocketSendFlags.ForceCompression) != 0;
        if (disable && force)
        {
            throw new ArgumentException("DisableCompression and ForceCompression exclude each other.", parameterName);
        }

        return disable ? false : force ? true : null;
    }
}
