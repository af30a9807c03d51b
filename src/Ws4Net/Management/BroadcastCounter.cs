namespace Ws4Net.Management;

/// <summary>Counts send outcomes during one broadcast or publish (a local value; no allocation).</summary>
internal struct BroadcastCounter
{
    private int _sent;
    private int _queued;
    private int _dropped;
    private int _closed;

    public void Add(WebSocketSendStatus status)
    {
        switch (status)
        {
            case WebSocketSendStatus.Sent:
                _sent++;
                break;
            case WebSocketSendStatus.Queued:
                _queued++;
                break;
            case WebSocketSendStatus.Dropped:
                _dropped++;
                break;
            default:
                _closed++;
                break;
        }
    }

    public readonly WebSocketBroadcastResult ToResult() => new(_sent, _queued, _dropped, _closed);
}
