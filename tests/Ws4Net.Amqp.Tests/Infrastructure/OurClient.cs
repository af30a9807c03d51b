using Ws4Net.Client;

namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>Our <see cref="WebSocketClient"/> as a test client: a receive loop records every text.</summary>
internal sealed class OurClient : ITestClient
{
    private readonly WebSocketConnection _connection;
    private readonly Lock _sync = new();
    private readonly List<string> _received = [];
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OurClient(string name, WebSocketConnection connection)
    {
        Name = name;
        _connection = connection;
        _loop = Task.Run(ReceiveLoopAsync);
    }

    public string Name { get; }

    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_sync)
            {
                return [.. _received];
            }
        }
    }

    public static async Task<OurClient> ConnectAsync(string name, Uri uri)
        => new(name, await WebSocketClient.ConnectAsync(uri).WaitAsync(TimeSpan.FromSeconds(30)));

    public async Task SendAsync(string text) => await _connection.SendTextAsync(text).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    public async Task WaitUntilAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                if (condition(_received))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name}: {what} not within {timeout.TotalSeconds:F0} s. Received: [{string.Join(" | ", Received.TakeLast(50))}]");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _connection.CloseAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is WebSocketClosedException or TimeoutException or InvalidOperationException or IOException)
        {
            _connection.Abort();
        }

        await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (await _connection.ReceiveAsync() is { } message)
            {
                if (message.IsText)
                {
                    TaskCompletionSource changed;
                    lock (_sync)
                    {
                        _received.Add(message.GetText());
                        changed = _changed;
                        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    changed.TrySetResult();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketClosedException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // the test closed it
        }
    }
}
