namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>A Python <c>websockets</c> client (peers/ws_agent.py under /usr/bin/python3): stdin lines are sent, received texts come back as <c>&lt; text</c> lines.</summary>
internal sealed class PythonClient : ITestClient
{
    private readonly LineProcess _process;

    private PythonClient(string name, LineProcess process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public IReadOnlyList<string> Received => [.. _process.Lines.Where(l => l.StartsWith("< ", StringComparison.Ordinal)).Select(l => l[2..])];

    public static async Task<PythonClient> ConnectAsync(string name, Uri uri)
    {
        string python = AmqpTestEnvironment.RequirePythonWebsockets();
        LineProcess process = LineProcess.Start("python websockets " + name, python, [AmqpTestEnvironment.AgentScript, uri.ToString()]);
        try
        {
            await process.WaitForLineAsync(l => l == "open", TimeSpan.FromSeconds(30), "open");
        }
        catch (InvalidOperationException ex) when (process.Lines.Any(l => l.Contains("No module named 'websockets'", StringComparison.Ordinal)))
        {
            await process.DisposeAsync();
            throw AmqpTestEnvironment.Missing($"{python} cannot import websockets ({ex.Message})", "apt-get install python3-websockets");
        }

        return new PythonClient(name, process);
    }

    public Task SendAsync(string text) => _process.WriteLineAsync(text);

    public async Task WaitUntilAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!condition(Received))
        {
            int count = _process.LineCount;
            try
            {
                await _process.WaitForLineAsync(_ => true, TimeSpan.FromSeconds(1), "a line", from: count);
            }
            catch (TimeoutException)
            {
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name}: {what} not within {timeout.TotalSeconds:F0} s. Received: [{string.Join(" | ", Received.TakeLast(50))}]");
            }
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
