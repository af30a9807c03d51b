// Reference server for the Ws4Net load benchmarks (eng/bench.sh): ASP.NET Core Kestrel with
// System.Net.WebSockets, written the way a competent application would be (reused buffers, no logging on
// the hot path).
//   /echo       sends every message back with the same type, frame by frame as it arrives (64 KiB buffer)
//   /broadcast  relays every message received to every connected /broadcast client; each client has a
//               bounded queue (a Channel) drained by its own writer, so a slow client cannot block the others
// Usage: dotnet Ws4Net.Bench.Kestrel.dll [--port N] [--host 127.0.0.1]
// Prints "kestrel ready on ws://HOST:PORT" when listening.
using System.Net;
using Ws4Net.Bench.Kestrel;

int port = 9002;
IPAddress host = IPAddress.Loopback;
for (int i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--port")
    {
        port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
    }
    else if (args[i] == "--host")
    {
        host = IPAddress.Parse(args[++i]);
    }
}

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseKestrel(kestrel =>
{
    kestrel.Listen(host, port);
    kestrel.Limits.MaxConcurrentConnections = null;
    kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    kestrel.AddServerHeader = false;
});

WebApplication app = builder.Build();
// No server pings during a run: the load generator does not answer them (neither do the other servers ping).
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });

var hub = new BroadcastHub();
app.Map("/echo", EchoEndpoint.HandleAsync);
app.Map("/broadcast", hub.HandleAsync);

app.Lifetime.ApplicationStarted.Register(() =>
{
    Console.Out.WriteLine($"kestrel ready on ws://{host}:{port}");
    Console.Out.Flush();
});
app.Run();
