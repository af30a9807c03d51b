using System.Collections.Concurrent;
using System.Diagnostics;
using Ws4Net.Diagnostics;

namespace Ws4Net.Tests.Diagnostics;

/// <summary>Records every stopped activity of the Ws4Net activity source through an <see cref="ActivityListener"/> while it lives.</summary>
internal sealed class ActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public ActivityRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Ws4NetDiagnostics.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    public async Task WaitForAsync(Func<ActivityRecorder, bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: not seen; stopped activities: {string.Join(", ", Stopped.Select(a => a.OperationName))}");
            }

            await Task.Delay(20);
        }
    }

    public void Dispose() => _listener.Dispose();
}
