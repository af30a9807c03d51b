using System.Globalization;
using System.Text.RegularExpressions;
using Ws4Net.Interop.Tests.Infrastructure;

namespace Ws4Net.Interop.Tests;

/// <summary>A third-party echo server that a test class talks to.</summary>
public interface IEchoPeer
{
    /// <summary>A short name for messages.</summary>
    string Name { get; }

    /// <summary>What the server reported so far (for failure messages).</summary>
    string Transcript { get; }

    /// <summary>The <c>ws://</c> URI of <paramref name="pathAndQuery"/> on the server.</summary>
    Uri Uri(string pathAndQuery = "/echo");
}

/// <summary>How a peer server saw a connection end: the close frame it received (or 1006 without one).</summary>
/// <param name="Id">The <c>id</c> query parameter the connection was opened with.</param>
/// <param name="Clean">Whether the peer considers the close handshake completed cleanly.</param>
/// <param name="Code">The close code the peer received, or <see langword="null"/> for a close frame without one.</param>
/// <param name="Reason">The close reason the peer received ("" when none).</param>
public sealed record PeerCloseRecord(string Id, bool Clean, int? Code, string Reason);

/// <summary>
/// An echo server that understands the query parameters <c>id=TAG</c> (reports how the connection
/// ended under that tag) and <c>close=CODE</c> (after the first echo, the server starts the close
/// handshake with CODE).
/// </summary>
public interface IReportingEchoPeer : IEchoPeer
{
    /// <summary>The reason the server puts in the close frame it starts for <c>close=CODE</c>.</summary>
    string ServerCloseReason { get; }

    /// <summary>Waits until the server reports the end of the connection tagged <paramref name="id"/>.</summary>
    Task<PeerCloseRecord> WaitForCloseAsync(string id, TimeSpan timeout);
}

/// <summary>One third-party echo server process shared by the tests of a class; killed (whole tree) on dispose.</summary>
public abstract class PeerEchoServerFixture : IAsyncLifetime, IEchoPeer
{
    private PeerProcess? _process;

    public int Port { get; private set; }

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Transcript => _process?.Transcript ?? "(not started)";

    public string Name => GetType().Name;

    public Uri Uri(string pathAndQuery = "/echo") => new($"ws://127.0.0.1:{Port}{pathAndQuery}");

    internal PeerProcess Process => _process ?? throw new InvalidOperationException($"{Name} is not started.");

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

/// <summary>
/// A peer echo server script that prints <c>CLOSED id=TAG clean=true|false code=N|none reason=TEXT</c>
/// on stderr when a connection ends (eng/peers/autobahn-echo-server.py, eng/peers/faye-echo-server.mjs).
/// </summary>
public abstract partial class ReportingPeerEchoServerFixture : PeerEchoServerFixture, IReportingEchoPeer
{
    public abstract string ServerCloseReason { get; }

    public async Task<PeerCloseRecord> WaitForCloseAsync(string id, TimeSpan timeout)
    {
        string prefix = $"CLOSED id={id} ";
        string line = await Process.WaitForStderrLineAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), timeout).WaitAsync(timeout * 2);
        Match match = ClosedLine().Match(line);
        Assert.True(match.Success, $"{Name} printed a malformed CLOSED line: {line}");
        return new PeerCloseRecord(
            match.Groups["id"].Value,
            match.Groups["clean"].Value == "true",
            match.Groups["code"].Value == "none" ? null : int.Parse(match.Groups["code"].Value, CultureInfo.InvariantCulture),
            match.Groups["reason"].Value);
    }

    [GeneratedRegex(@"^CLOSED id=(?<id>\S+) clean=(?<clean>true|false) code=(?<code>\d+|none) reason=(?<reason>.*)$")]
    private static partial Regex ClosedLine();
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

/// <summary>eng/peers/autobahn-echo-server.py: AutobahnPython's asyncio server, strict defaults, <c>fragment=N</c> supported.</summary>
public sealed class AutobahnEchoServerFixture : ReportingPeerEchoServerFixture
{
    public override string ServerCloseReason => "autobahn closing";

    internal override (string Executable, string Script) Resolve()
        => (TestEnvironment.RequirePythonAutobahn(), TestEnvironment.PeerScript("autobahn-echo-server.py"));
}

/// <summary>eng/peers/faye-echo-server.mjs: faye-websocket on a Node http server's 'upgrade' event.</summary>
public sealed class FayeEchoServerFixture : ReportingPeerEchoServerFixture
{
    public override string ServerCloseReason => "faye closing";

    internal override (string Executable, string Script) Resolve()
        => (TestEnvironment.RequireNodeWithPeerModule("faye-websocket"), TestEnvironment.PeerScript("faye-echo-server.mjs"));
}
