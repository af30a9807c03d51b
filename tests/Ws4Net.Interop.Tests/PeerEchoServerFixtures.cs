using Ws4Net.Interop.Tests.Infrastructure;

namespace Ws4Net.Interop.Tests;

/// <summary>One third-party echo server process shared by the tests of a class; killed (whole tree) on dispose.</summary>
public abstract class PeerEchoServerFixture : IAsyncLifetime
{
    private PeerProcess? _process;

    public int Port { get; private set; }

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Transcript => _process?.Transcript ?? "(not started)";

    public string Name => GetType().Name;

    public Uri Uri(string path = "/echo") => new($"ws://127.0.0.1:{Port}{path}");

    public async Task InitializeAsync()
    {
        (string executable, string script) = Resolve();
        (_process, Port) = await PeerProcess.StartServerAsync(executable, script, Timeouts.PeerStartup).WaitAsync(Timeouts.PeerStartup + TimeSpan.FromSeconds(5));
    }

    public Task DisposeAsync()
    {
        _process?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Finds the runtime and script, failing with an install hint when the runtime or its package is missing.</summary>
    internal abstract (string Executable, string Script) Resolve();
}

/// <summary>eng/peers/node-echo-server.mjs: the Node `ws` package's server.</summary>
public sealed class NodeWsEchoServerFixture : PeerEchoServerFixture
{
    internal override (string Executable, string Script) Resolve()
        => (TestEnvironment.RequireNodeWithPeerModules(), TestEnvironment.PeerScript("node-echo-server.mjs"));
}

/// <summary>eng/peers/py-echo-server.py: the Python `websockets` package's server.</summary>
public sealed class PythonWebsocketsEchoServerFixture : PeerEchoServerFixture
{
    internal override (string Executable, string Script) Resolve()
        => (TestEnvironment.RequirePythonWebsockets(), TestEnvironment.PeerScript("py-echo-server.py"));
}
