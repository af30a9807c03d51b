namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>A WebSocket client of one node (ours, Python websockets): sends texts, records the texts it receives.</summary>
internal interface ITestClient : IAsyncDisposable
{
    string Name { get; }

    Task SendAsync(string text);

    /// <summary>A snapshot of the texts received, oldest first.</summary>
    IReadOnlyList<string> Received { get; }

    /// <summary>Waits until the received texts satisfy <paramref name="condition"/>; fails with what was received on timeout.</summary>
    Task WaitUntilAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout, string what);
}
