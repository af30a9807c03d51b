namespace Ws4Net.Backplane;

/// <summary>
/// Intercepts a message that another node published, before the manager delivers it locally (see
/// <see cref="Management.WebSocketConnectionManager.RemoteMessageHandler"/>). Runs on the backplane's receiving thread,
/// once per message, in the origin node's order. Must not throw and must not wait.
/// </summary>
/// <param name="message">The message; its payload is borrowed for the duration of the call.</param>
/// <returns><see langword="true"/> when the handler delivered the message itself (for example with
/// <see cref="Management.WebSocketConnectionManager.PublishLocal"/>, after keeping it in a history); <see langword="false"/>
/// to let the manager deliver it as usual.</returns>
public delegate bool WebSocketRemoteMessageHandler(in WebSocketBackplaneMessage message);
