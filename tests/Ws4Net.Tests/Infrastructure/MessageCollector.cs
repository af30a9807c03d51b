using System.Threading.Channels;

namespace Ws4Net.Tests;

/// <summary>
/// Drains a client connection with the pull API in the background, copying each message into a
/// channel, so a test can send and receive at the same time and await messages with a timeout.
/// The channel completes when <see cref="WebSocketConnection.ReceiveAsync"/> returns null (closed).
/// </summary>
internal sealed class MessageCollector
{
    private readonly Channel<ReceivedMessage> _messages = Channel.CreateUnbounded<ReceivedMessage>();

    public MessageCollector(WebSocketConnection connection)
    {
        Connection = connection;
        Loop = RunAsync(); // enters the receive synchronously: from here on, this collector is the connection's reader
    }

    public WebSocketConnection Connection { get; }

    /// <summary>Completes when the connection has closed (the receive returned null); faults if receiving threw.</summary>
    public Task Loop { get; }

    public async Task<ReceivedMessage> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        try
        {
            return await _messages.Reader.ReadAsync(cts.Token);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"The connection closed ({Connection.CloseStatus}) while a message was expected.");
        }
    }

    public async Task<List<ReceivedMessage>> NextAsync(int count, TimeSpan? timeout = null)
    {
        var result = new List<ReceivedMessage>(count);
        for (int i = 0; i < count; i++)
        {
            result.Add(await NextAsync(timeout));
        }

        return result;
    }

    /// <summary>Returns true when no message arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> NothingWithinAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            await _messages.Reader.WaitToReadAsync(cts.Token);
            return !_messages.Reader.TryPeek(out _);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private async Task RunAsync()
    {
        try
        {
            while (await Connection.ReceiveAsync().ConfigureAwait(false) is { } message)
            {
                _messages.Writer.TryWrite(ReceivedMessage.From(message));
            }
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}
