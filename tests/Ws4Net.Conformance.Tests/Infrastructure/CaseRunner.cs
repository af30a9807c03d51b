using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Ws4Net.Cli.Demo;
using Ws4Net.Client;

namespace Ws4Net.Conformance.Tests.Infrastructure;

/// <summary>
/// The case runner: a case is written once, as a script against a <see cref="RawPeer"/>, and runs in
/// either role. Against our server the peer is a raw client of the demo server's /echo endpoint;
/// against our client the peer is a raw server, and our client runs the echo loop
/// <c>while (await c.ReceiveAsync() is {} m) await c.SendAsync(m.Payload, m.Type, m.EndOfMessage)</c>.
/// Either way the endpoint under test echoes every message with its opcode and answers pings.
/// </summary>
public static class CaseRunner
{
    /// <summary>Both roles, for <c>[MemberData]</c>.</summary>
    public static TheoryData<Role> Roles => new(AllRoles);

    /// <summary>Every endpoint under test: our standalone server, our client, and our server in Kestrel with and without compression.</summary>
    public static IReadOnlyList<Role> AllRoles { get; } = [Role.Server, Role.Client, Role.Kestrel, Role.KestrelNoCompression];

    /// <summary>Every role with every value, for <c>[MemberData]</c>.</summary>
    public static TheoryData<Role, T> Cross<T>(IEnumerable<T> values)
    {
        var data = new TheoryData<Role, T>();
        foreach (Role role in AllRoles)
        {
            foreach (T value in values)
            {
                data.Add(role, value);
            }
        }

        return data;
    }

    /// <summary>Runs one case against the endpoint of <paramref name="role"/>, on a fresh connection.</summary>
    /// <param name="role">Which of our endpoints is under test.</param>
    /// <param name="fixture">Our servers (used in the server role).</param>
    /// <param name="script">The case: drives the raw peer and asserts.</param>
    /// <param name="settings">Configuration of the endpoint under test.</param>
    /// <param name="timeout">Bound on the whole script.</param>
    /// <param name="seed">Seeds the peer's randomness (mask keys).</param>
    public static Task RunAsync(Role role, EchoServerFixture fixture, Func<RawPeer, Task> script, CaseSettings? settings = null, TimeSpan? timeout = null, int seed = 1)
    {
        settings ??= CaseSettings.Default;
        return role.IsServer()
            ? AgainstServerAsync(fixture, role, script, settings, timeout ?? Timeouts.Case, seed)
            : AgainstClientAsync(script, settings, timeout ?? Timeouts.Case, seed);
    }

    private static byte[] EarlyBytes(CaseSettings settings, bool mask, int seed)
    {
        if (settings.EarlyMessages is not { Count: > 0 } messages)
        {
            return [];
        }

        var random = new Random(seed ^ 0x5EED);
        return FrameBuilder.Concat(messages.Select(m =>
        {
            byte[]? key = null;
            if (mask)
            {
                key = new byte[4];
                random.NextBytes(key);
            }

            return FrameBuilder.Build(m.Opcode, m.Payload, maskKey: key);
        }).ToArray());
    }

    private static async Task AgainstServerAsync(EchoServerFixture fixture, Role role, Func<RawPeer, Task> script, CaseSettings settings, TimeSpan timeout, int seed)
    {
        int port = await fixture.PortForAsync(settings, role);
        RawPeer peer = await RawPeer.ConnectAsync(port, EchoServerFixture.EchoPath(role), seed, EarlyBytes(settings, mask: true, seed));
        int clientPort = peer.LocalPort;
        Task<WebSocketConnection> connection = fixture.ConnectionFor(port, clientPort);
        peer.UnderTestConnection = () => connection;

        ExceptionDispatchInfo? failure = await CaptureAsync(() => script(peer).WaitAsync(timeout), timeout, "the case");
        ExceptionDispatchInfo? cleanup = await CaptureAsync(
            async () =>
            {
                await peer.DisposeAsync();
                WebSocketConnection server = await connection.WaitAsync(Timeouts.Frame);
                fixture.Forget(port, clientPort);
                // Whatever the case did, the server-side connection must end once TCP is gone.
                await server.Completion.WaitAsync(Timeouts.Frame);
            },
            Timeouts.Frame,
            "cleanup (server-side connection did not end)");
        (failure ?? cleanup)?.Throw();
    }

    /// <summary>The options our client runs with: the demo server's message limit, plus the case's settings.</summary>
    public static WebSocketClientOptions ClientOptions(CaseSettings settings)
    {
        var options = new WebSocketClientOptions { ConnectTimeout = Timeouts.Frame };
        options.Connection.Protocol.MaxMessageSize = DemoServerOptions.DefaultMaxMessageSize;
        options.Connection.Protocol.MaxSendFrameSize = settings.MaxSendFrameSize;
        return options;
    }

    private static async Task AgainstClientAsync(Func<RawPeer, Task> script, CaseSettings settings, TimeSpan timeout, int seed)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<WebSocketConnection> connect = WebSocketClient.ConnectAsync(
            new Uri(string.Create(CultureInfo.InvariantCulture, $"ws://127.0.0.1:{port}/echo")), ClientOptions(settings));
        RawPeer peer;
        WebSocketConnection connection;
        try
        {
            Socket socket = await listener.AcceptSocketAsync().WaitAsync(Timeouts.Frame);
            listener.Stop();
            peer = await RawPeer.AcceptAsync(socket, seed, EarlyBytes(settings, mask: false, seed));
            connection = await connect.WaitAsync(Timeouts.Frame);
        }
        catch
        {
            _ = connect.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            throw;
        }

        peer.UnderTestConnection = () => Task.FromResult(connection);
        Task echo = Task.Run(() => EchoLoopAsync(connection));

        ExceptionDispatchInfo? failure = await CaptureAsync(() => script(peer).WaitAsync(timeout), timeout, "the case");
        ExceptionDispatchInfo? cleanup = await CaptureAsync(
            async () =>
            {
                await peer.DisposeAsync();
                // The echo loop must end (ReceiveAsync returns null) once TCP is gone, without an unexpected exception.
                await echo.WaitAsync(Timeouts.Frame);
                await connection.Completion.WaitAsync(Timeouts.Frame);
                await connection.DisposeAsync().AsTask().WaitAsync(Timeouts.Frame);
            },
            Timeouts.Frame * 2,
            "cleanup (our client's echo loop or connection did not end cleanly)");
        (failure ?? cleanup)?.Throw();
    }

    /// <summary>The client-role echo loop: every message back with the same type.</summary>
    public static async Task EchoLoopAsync(WebSocketConnection connection)
    {
        while (await connection.ReceiveAsync() is { } message)
        {
            try
            {
                await connection.SendAsync(message.Payload, message.Type, message.EndOfMessage);
            }
            catch (WebSocketClosedException)
            {
                // The connection ended while we echoed (for example the peer failed it): the loop ends next turn.
            }
        }
    }

    private static async Task<ExceptionDispatchInfo?> CaptureAsync(Func<Task> action, TimeSpan timeout, string what)
    {
        try
        {
            await action();
            return null;
        }
        catch (TimeoutException ex)
        {
            return ExceptionDispatchInfo.Capture(new TimeoutException($"{what} timed out (limit {timeout.TotalSeconds:0} s): {ex.Message}", ex));
        }
        catch (Exception ex)
        {
            return ExceptionDispatchInfo.Capture(ex);
        }
    }
}
