using Ws4Net.Protocol;

namespace Ws4Net;

/// <summary>
/// How a connection ended: the close code and reason (RFC 6455 §7.1.5, §7.1.6). Immutable.
/// </summary>
/// <param name="Code">The code the peer sent; 1005 when its close frame was empty, 1006 when the
/// transport closed without a close frame, or the code we failed the connection with (1002, 1007, 1009, 1011).</param>
/// <param name="Reason">The reason text (may be empty).</param>
/// <param name="InitiatedByPeer"><see langword="true"/> when the peer's close or the transport's end came first.</param>
public readonly record struct WebSocketCloseInfo(WebSocketCloseCode Code, string Reason, bool InitiatedByPeer);
