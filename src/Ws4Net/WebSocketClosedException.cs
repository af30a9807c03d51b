namespace Ws4Net;

/// <summary>
/// Thrown by a send on a connection that can no longer send: a close frame was sent, or the
/// connection was aborted. <see cref="CloseStatus"/> tells how it ended when known.
/// </summary>
public sealed class WebSocketClosedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was attempted.</param>
    /// <param name="closeStatus">How the connection ended, when known.</param>
    /// <param name="innerException">The I/O error that ended it, if any.</param>
    public WebSocketClosedException(string message, WebSocketCloseInfo? closeStatus = null, Exception? innerException = null)
        : base(message, innerException)
    {
        CloseStatus = closeStatus;
    }

    /// <summary>Gets how the connection ended, when known.</summary>
    public WebSocketCloseInfo? CloseStatus { get; }
}
