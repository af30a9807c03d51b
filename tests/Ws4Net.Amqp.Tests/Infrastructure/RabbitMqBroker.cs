using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>
/// A private RabbitMQ node for the tests (the Debian rabbitmq-server package, never its system service): its own
/// node name, AMQP port, distribution port and epmd port (free ports), its data, logs, cookie and config in a
/// temporary directory, bound to 127.0.0.1. Started with <c>rabbitmq-server</c>, awaited with
/// <c>rabbitmqctl -n NODE await_startup</c>, stopped with <c>rabbitmqctl -n NODE shutdown</c> (and its epmd killed).
/// <see cref="RestartAsync"/> stops and starts the same node (same port, same data) for the broker-loss test.
/// </summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ws4net-rabbitmq-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private string _server = "";
    private string _ctl = "";
    private LineProcess? _process;

    public int Port { get; private set; }

    public string NodeName { get; private set; } = "";

    /// <summary>The broker URI for the nodes and clients (guest may connect from localhost).</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public async Task InitializeAsync()
    {
        (_server, _ctl) = AmqpTestEnvironment.RequireRabbitMq();
        Directory.CreateDirectory(_directory);
        Port = FreePort();
        int distPort = FreePort();
        int epmdPort = FreePort();
        NodeName = $"ws4net{Environment.ProcessId}x{Port}@localhost";
        File.WriteAllText(Path.Combine(_directory, "rabbitmq.conf"), $"listeners.tcp.default = 127.0.0.1:{Port}\nloopback_users.guest = true\n");
        File.WriteAllText(Path.Combine(_directory, "enabled_plugins"), "[].\n");
        _environment["HOME"] = _directory;   // the Erlang cookie lives here, shared by the server and rabbitmqctl
        _environment["RABBITMQ_NODENAME"] = NodeName;
        _environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        _environment["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        _environment["RABBITMQ_DIST_PORT"] = distPort.ToString(CultureInfo.InvariantCulture);
        _environment["ERL_EPMD_PORT"] = epmdPort.ToString(CultureInfo.InvariantCulture);
        _environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        _environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        _environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia");
        _environment["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log");
        _environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf");
        _environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins");
        _environment["RABBITMQ_PLUGINS_EXPAND_DIR"] = Path.Combine(_directory, "plugins-expand");
        _environment["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "rabbitmq.pid");
        await StartAsync();
    }

    /// <summary>Stops the node (clients see the connection drop) and returns once it is down.</summary>
    public async Task StopAsync()
    {
        await RunCtlAsync(["shutdown"], TimeSpan.FromSeconds(60));
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(15));
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Starts the node again (same port and data) and waits until it serves.</summary>
    public Task StartAgainAsync() => StartAsync();

    public async Task DisposeAsync()
    {
        try
        {
            if (_process is not null && !_process.HasExited)
            {
                await RunCtlAsync(["shutdown"], TimeSpan.FromSeconds(60));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            // killed below
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        try
        {
            // the node started its own epmd on its private port; end it (it would outlive the test run)
            using Process epmd = Process.Start(new ProcessStartInfo("epmd", ["-kill"]) { Environment = { ["ERL_EPMD_PORT"] = _environment["ERL_EPMD_PORT"] }, RedirectStandardOutput = true, RedirectStandardError = true })!;
            await epmd.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException or InvalidOperationException)
        {
            // epmd not on PATH or already gone
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // left in /tmp
        }
    }

    private async Task StartAsync()
    {
        _process = LineProcess.Start("rabbitmq-server " + NodeName, _server, [], _environment);
        var deadline = Stopwatch.StartNew();
        string last = "";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"rabbitmq-server exited during start-up. Output:\n{_process.Transcript}");
            }

            (int code, string output) = await RunCtlRawAsync(["await_startup", "--timeout", "30"], TimeSpan.FromSeconds(45));
            if (code == 0)
            {
                return;
            }

            last = output;
            await Task.Delay(1000);
        }

        throw new TimeoutException($"RabbitMQ node {NodeName} did not start within {StartTimeout.TotalSeconds} s. rabbitmqctl: {last}\nServer output:\n{_process.Transcript}");
    }

    private async Task RunCtlAsync(string[] arguments, TimeSpan timeout)
    {
        (int code, string output) = await RunCtlRawAsync(arguments, timeout);
        if (code != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed ({code}): {output}");
        }
    }

    private async Task<(int Code, string Output)> RunCtlRawAsync(string[] arguments, TimeSpan timeout)
    {
        await using LineProcess ctl = LineProcess.Start("rabbitmqctl", _ctl, ["-n", NodeName, .. arguments], _environment);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await ctl.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            return (-1, "timed out. " + ctl.Transcript);
        }

        return (ctl.ExitCode, ctl.Transcript);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqBroker>, ICollectionFixture<Ws4Net.Browser.Tests.Infrastructure.BrowserFixture>
{
    public const string Name = "RabbitMQ";
}
