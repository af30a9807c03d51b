namespace Ws4Net.Protocol.Handshake;

/// <summary>Outcome of one <see cref="HttpHeadParser"/> call.</summary>
public enum HttpHeadParseStatus
{
    /// <summary>
    /// The buffer holds a valid prefix of a head but not yet its terminating empty line; read more bytes,
    /// append them and parse the whole buffer again.
    /// </summary>
    Incomplete = 0,

    /// <summary>A complete, valid head was parsed; the bytes after it were not consumed.</summary>
    Complete = 1,

    /// <summary>
    /// The bytes can never form a valid head (syntax error or a limit exceeded); the connection should
    /// answer with the reported error status (when a server) and be closed.
    /// </summary>
    Invalid = 2,
}
