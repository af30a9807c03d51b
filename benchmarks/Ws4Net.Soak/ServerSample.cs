namespace Ws4Net.Soak;

/// <summary>One sample of a server process; -1 where a value could not be read.</summary>
/// <param name="RssKiB">Resident set size (VmRSS), KiB.</param>
/// <param name="Fds">Open file descriptors (entries of <c>/proc/PID/fd</c>), count.</param>
/// <param name="GcHeapBytes">Managed heap size after the last GC (the server's <c>stats:</c> line), bytes.</param>
/// <param name="Connections">Open WebSocket connections (the server's manager), count.</param>
internal readonly record struct ServerSample(long RssKiB, int Fds, long GcHeapBytes, long Connections);
