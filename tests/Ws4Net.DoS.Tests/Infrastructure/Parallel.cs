namespace Ws4Net.DoS.Tests;

/// <summary>Runs many asynchronous operations with bounded concurrency.</summary>
internal static class ParallelRun
{
    /// <summary>Runs <paramref name="body"/> for 0..count-1, at most <paramref name="concurrency"/> at a time; returns the results in index order.</summary>
    public static async Task<T[]> ForAsync<T>(int count, int concurrency, Func<int, Task<T>> body)
    {
        var results = new T[count];
        int next = -1;
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                results[i] = await body(i);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(Worker)));
        return results;
    }
}
