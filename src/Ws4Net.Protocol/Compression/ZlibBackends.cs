namespace Ws4Net.Protocol.Compression;

/// <summary>
/// Chooses, once per process, the zlib that permessage-deflate runs on: the .NET runtime's private
/// <c>libSystem.IO.Compression.Native</c> exports (<see cref="RuntimeZlibBackend"/>, the fastest, but not a public
/// contract), else the operating system's zlib (<see cref="SystemZlibBackend"/>). Each candidate is probed with a
/// small compress/inflate round trip before it is chosen, so a runtime update that changes the private exports
/// degrades to the system zlib instead of failing. When neither works, compression is not negotiated
/// (<see cref="IsAvailable"/>): servers decline the extension and clients do not offer it. Thread-safe.
/// </summary>
/// <remarks>The environment variable <see cref="EnvironmentVariable"/> (read once, at first use) forces a choice:
/// <c>runtime</c>, <c>system</c> or <c>none</c>; anything else (or unset) means automatic. A forced backend that
/// does not work falls back to automatic selection, except <c>none</c>. See docs/compression.md.</remarks>
internal static class ZlibBackends
{
    /// <summary>The environment variable that forces the backend: <c>runtime</c>, <c>system</c> or <c>none</c>.</summary>
    public const string EnvironmentVariable = "WS4NET_ZLIB";

    private static readonly Lazy<IZlibBackend?> s_selected = new(() => Select(Environment.GetEnvironmentVariable(EnvironmentVariable), LoadRuntime, LoadSystem));
    private static readonly AsyncLocal<IZlibBackend?> s_override = new();

    /// <summary>Gets the backend in use on this async flow: a test override (<see cref="Use"/>), else the process-wide choice; <see langword="null"/> when no zlib works.</summary>
    public static IZlibBackend? Current => s_override.Value is { } forced ? (forced == Unavailable.Instance ? null : forced) : s_selected.Value;

    /// <summary>Gets whether permessage-deflate can run (a zlib backend works).</summary>
    public static bool IsAvailable => Current is not null;

    /// <summary>Gets the backend in use or throws when there is none.</summary>
    /// <exception cref="InvalidOperationException">No zlib backend works in this process.</exception>
    public static IZlibBackend Required => Current ?? throw new InvalidOperationException(
        "No zlib is available (neither the runtime's libSystem.IO.Compression.Native nor the system zlib): permessage-deflate cannot run.");

    /// <summary>Makes <paramref name="backend"/> the one used on the current async flow until the returned scope is disposed (tests).</summary>
    /// <param name="backend">The backend to use.</param>
    /// <returns>A scope restoring the previous choice.</returns>
    public static IDisposable Use(IZlibBackend backend)
    {
        IZlibBackend? previous = s_override.Value;
        s_override.Value = backend;
        return new Scope(previous);
    }

    /// <summary>Makes the current async flow behave as if no zlib worked, until the returned scope is disposed (tests).</summary>
    /// <returns>A scope restoring the previous choice.</returns>
    public static IDisposable UseNone() => Use(Unavailable.Instance);

    /// <summary>Returns every backend that works in this process, probed (tests run the vectors through each).</summary>
    /// <returns>The working backends, the preferred first.</returns>
    public static IReadOnlyList<IZlibBackend> LoadAll()
    {
        var all = new List<IZlibBackend>();
        foreach (Func<IZlibBackend?> load in new Func<IZlibBackend?>[] { LoadRuntime, LoadSystem })
        {
            if (Probe(load) is { } backend)
            {
                all.Add(backend);
            }
        }

        return all;
    }

    /// <summary>
    /// The selection rule: the forced candidate first when <paramref name="setting"/> names one, then the others in
    /// order of preference; the first whose probe succeeds wins. <c>none</c> selects nothing.
    /// </summary>
    /// <param name="setting">The value of <see cref="EnvironmentVariable"/>, or <see langword="null"/>.</param>
    /// <param name="candidates">Loaders in order of preference; a loader returns <see langword="null"/> or throws when its zlib is missing.</param>
    /// <returns>The chosen backend, or <see langword="null"/>.</returns>
    public static IZlibBackend? Select(string? setting, params Func<IZlibBackend?>[] candidates)
    {
        string wanted = setting?.Trim().ToLowerInvariant() ?? string.Empty;
        if (wanted == "none")
        {
            return null;
        }

        var loaded = new List<IZlibBackend>();
        foreach (Func<IZlibBackend?> candidate in candidates)
        {
            if (Probe(candidate) is { } backend)
            {
                if (backend.Name == wanted)
                {
                    return backend;
                }

                loaded.Add(backend);
            }
        }

        return loaded.Count > 0 ? loaded[0] : null;
    }

    private static IZlibBackend? LoadRuntime() => RuntimeZlibBackend.Instance;

    private static IZlibBackend? LoadSystem() => SystemZlibBackend.TryLoad();

    /// <summary>Loads a candidate and checks it compresses and inflates a short text back (RFC 7692 §7.2.3.1's "Hello").</summary>
    private static IZlibBackend? Probe(Func<IZlibBackend?> load)
    {
        try
        {
            IZlibBackend? backend = load();
            if (backend is null)
            {
                return null;
            }

            ReadOnlySpan<byte> text = "Hello, permessage-deflate"u8;
            Span<byte> compressed = stackalloc byte[128];
            Span<byte> inflated = stackalloc byte[128];
            int compressedLength;
            using (IZlibStream deflater = backend.CreateDeflater(6, 15, 8))
            {
                int rc = deflater.Process(text, compressed, ZlibNative.SyncFlush, out int consumed, out compressedLength);
                if (rc != ZlibNative.Ok || consumed != text.Length)
                {
                    return null;
                }
            }

            using (IZlibStream inflater = backend.CreateInflater(15))
            {
                int rc = inflater.Process(compressed[..compressedLength], inflated, ZlibNative.SyncFlush, out _, out int written);
                return rc is ZlibNative.Ok or ZlibNative.StreamEnd && inflated[..written].SequenceEqual(text) ? backend : null;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // DllNotFoundException, EntryPointNotFoundException (renamed exports), BadImageFormatException,
            // InvalidOperationException (init refused): this candidate is unusable, try the next one.
            return null;
        }
    }

    private sealed class Unavailable : IZlibBackend
    {
        public static readonly Unavailable Instance = new();

        public string Name => "none";

        public IZlibStream CreateDeflater(int level, int windowBits, int memoryLevel) => throw new InvalidOperationException("No zlib.");

        public IZlibStream CreateInflater(int windowBits) => throw new InvalidOperationException("No zlib.");
    }

    private sealed class Scope(IZlibBackend? previous) : IDisposable
    {
        public void Dispose() => s_override.Value = previous;
    }
}
