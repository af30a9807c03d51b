namespace Ws4Net.Client;

/// <summary>Describes one state change of a <see cref="ReconnectingWebSocketClient"/>. Immutable.</summary>
/// <param name="previousState">The state before.</param>
/// <param name="state">The new state.</param>
/// <param name="attempt">The number of consecutive failed connect attempts so far (0 after a successful connect).</param>
/// <param name="connectError">The connect failure that caused the change, or <see langword="null"/>.</param>
/// <param name="closeStatus">The close status of the connection whose end caused the change, or <see langword="null"/>.</param>
public sealed class ReconnectingStateChangedEventArgs(
    ReconnectingWebSocketState previousState,
    ReconnectingWebSocketState state,
    int attempt,
    WebSocketConnectException? connectError,
    WebSocketCloseInfo? closeStatus) : EventArgs
{
    /// <summary>Gets the state before the change.</summary>
    public ReconnectingWebSocketState PreviousState { get; } = previousState;

    /// <summary>Gets the new state.</summary>
    public ReconnectingWebSocketState State { get; } = state;

    /// <summary>Gets the number of consecutive failed connect attempts so far (0 after a successful connect).</summary>
    public int Attempt { get; } = attempt;

    /// <summary>Gets the connect failure that caused the change, or <see langword="null"/>.</summary>
    public WebSocketConnectException? ConnectError { get; } = connectError;

    /// <summary>Gets the close status of the connection whose end caused the change, or <see langword="null"/>.</summary>
    public WebSocketCloseInfo? CloseStatus { get; } = closeStatus;
}
