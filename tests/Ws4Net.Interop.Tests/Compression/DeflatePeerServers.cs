using System.Globalization;
using System.Text.RegularExpressions;
using Ws4Net.Interop.Tests.Infrastructure;

namespace Ws4Net.Interop.Tests.Compression;

/// <summary>
/// A third-party echo server with permessage-deflate enabled (eng/peers/*-deflate-echo-server.*), run
/// with extra arguments; one process per test class, killed (whole tree) on dispose.
/// </summary>
public abstract partial class DeflatePeerServerFixture : IAsyncLifetime, IEchoPeer
{
    private PeerProcess? _process;

    public int Port { get; private set; }

    public string Name => GetType().Name;

    public string Transcript => _process?.Transcript ?? "(not started)";

    public Uri Uri(string pathAndQuery = "/echo") => new($"ws://127.0.0.1:{Port}{pathAndQuery}");

    /// <summary>The permessage-deflate answer this server gives to our default offer (<c>permessage-deflate; client_max_window_bits</c>).</summary>
    public abstract string ExpectedAnswer { get; }

    /// <summary>Small windows (server, client) to ask this server for; a `ws` server configured with limits rejects requests below them (400) instead of declining.</summary>
    public virtual (int Server, int Client) SmallWindows => (9, 9);

    public async Task InitializeAsync()
    {
        (string executable, string script, string[] extra) = Resolve();
        PeerProcess process = PeerProcess.Start(executable, [script, "--port", "0", "--ignore-stdin", .. extra], Path.GetDirectoryName(script)!);
        try
        {
            string line = await process.WaitForStdoutLineAsync(l => Listening().IsMatch(l), Timeouts.PeerStartup).WaitAsync(Timeouts.PeerStartup * 2);
            Port = int.Parse(Listening().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
            _process = process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        _process?.Dispose();
        return Task.CompletedTask;
    }

    internal abstract (string Executable, string Script, string[] Arguments) Resolve();

    [GeneratedRegex(@"^LISTENING (\d{1,5})$")]
    private static partial Regex Listening();
}

/// <summary>Node `ws` with its default permessage-deflate settings (context takeover, 15-bit windows), threshold 0.</summary>
public sealed class NodeWsDeflateServerFixture : DeflatePeerServerFixture
{
    public override string ExpectedAnswer => "permessage-deflate";

    internal override (string, string, string[]) Resolve()
        => (TestEnvironment.RequireNodeWithPeerModules(), TestEnvironment.PeerScript("node-deflate-echo-server.mjs"), []);
}

/// <summary>Node `ws` that resets both contexts and limits both windows (10 for itself, 11 for the client).</summary>
public sealed class NodeWsNoTakeoverDeflateServerFixture : DeflatePeerServerFixture
{
    public override string ExpectedAnswer => "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11";

    public override (int Server, int Client) SmallWindows => (10, 11);

    internal override (string, string, string[]) Resolve()
        => (TestEnvironment.RequireNodeWithPeerModules(), TestEnvironment.PeerScript("node-deflate-echo-server.mjs"),
            ["--server-no-context-takeover", "--client-no-context-takeover", "--server-max-window-bits", "10", "--client-max-window-bits", "11"]);
}

/// <summary>Python `websockets` 10.4 with its default compression: 12-bit windows both ways, memLevel 5.</summary>
public sealed class PythonWebsocketsDeflateServerFixture : DeflatePeerServerFixture
{
    public override string ExpectedAnswer => "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";

    internal override (string, string, string[]) Resolve()
        => (TestEnvironment.RequirePythonWebsockets(), TestEnvironment.PeerScript("py-deflate-echo-server.py"), []);
}
