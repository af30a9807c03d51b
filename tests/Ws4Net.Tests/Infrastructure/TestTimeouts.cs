namespace Ws4Net.Tests;

/// <summary>Bounds every await of the loopback tests so that a bug fails a test instead of hanging the run.</summary>
internal static class TestTimeouts
{
    /// <summary>The default bound of one await (generous: the machine may be busy running other test classes).</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task WithTimeout(this ValueTask task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    public static Task<T> WithTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);
}
