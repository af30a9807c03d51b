namespace Ws4Net.Interop.Tests.Infrastructure;

/// <summary>Owns a connection for a test: disposing it closes (or aborts) the connection within a bounded time.</summary>
internal sealed class ConnectionLease(WebSocketConnection connection) : IAsyncDisposable
{
    public WebSocketConnection Connection { get; } = connection;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync().AsTask().WaitAsync(Timeouts.Step).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Connection.Abort();
            throw;
        }
    }
}
