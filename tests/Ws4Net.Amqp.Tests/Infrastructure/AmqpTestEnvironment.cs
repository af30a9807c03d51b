namespace Ws4Net.Amqp.Tests.Infrastructure;

/// <summary>
/// Where the test dependencies are: RabbitMQ (Debian package rabbitmq-server; WS4NET_RABBITMQ_BIN overrides
/// /usr/lib/rabbitmq/bin), Python websockets (WS4NET_PYTHON, default /usr/bin/python3), the ws4net CLI (built next
/// to the tests). A missing dependency fails the test with what to install; it never skips (CI=true says the CI
/// script should have installed it).
/// </summary>
internal static class AmqpTestEnvironment
{
    public static string RabbitMqBin
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_RABBITMQ_BIN");
            return string.IsNullOrEmpty(fromEnv) ? "/usr/lib/rabbitmq/bin" : fromEnv;
        }
    }

    public static string Python
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_PYTHON");
            return string.IsNullOrEmpty(fromEnv) ? "/usr/bin/python3" : fromEnv;
        }
    }

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    public static string AgentScript => Path.Combine(AppContext.BaseDirectory, "peers", "ws_agent.py");

    public static bool IsCi
    {
        get
        {
            string? ci = Environment.GetEnvironmentVariable("CI");
            return string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
        }
    }

    public static (string Server, string Ctl) RequireRabbitMq()
    {
        string server = Path.Combine(RabbitMqBin, "rabbitmq-server");
        string ctl = Path.Combine(RabbitMqBin, "rabbitmqctl");
        if (!File.Exists(server) || !File.Exists(ctl))
        {
            throw Missing($"RabbitMQ was not found in {RabbitMqBin} (rabbitmq-server, rabbitmqctl)", "apt-get install rabbitmq-server");
        }

        return (server, ctl);
    }

    public static string RequirePythonWebsockets()
    {
        if (!File.Exists(Python))
        {
            throw Missing($"{Python} does not exist", "apt-get install python3 python3-websockets");
        }

        return Python;
    }

    public static Exception Missing(string what, string howToInstall)
        => new InvalidOperationException(IsCi
            ? $"Missing test dependency: {what}. CI=true: the CI script (.ci/run -> eng/test.sh) should have installed it; check its log. To install by hand: {howToInstall}."
            : $"Missing test dependency: {what}. To fix: {howToInstall} (or run ./eng/test.sh, which installs every test dependency).");
}
