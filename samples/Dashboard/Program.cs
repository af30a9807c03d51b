// Server metrics pushed to browsers through a topic, once a second, encoded once for every viewer.
//   dotnet run --project samples/Dashboard -- --Ws4Net:Port=9002      then open http://127.0.0.1:9002/
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ws4Net;
using Ws4Net.Hosting;
using Ws4Net.Management;
using Ws4Net.Server;

byte[] page = ReadPage();
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddWs4Net(builder.Configuration.GetSection(Ws4NetOptions.SectionName));
builder.Services.AddWs4NetServer(server => server
    .Map<ViewerHandler>("/metrics")
    .ConfigureServer((options, _) => options.HttpFallback = request =>
        request.Path is "/" ? new HttpFallbackResponse(200, "text/html; charset=utf-8", page) : null));
builder.Services.AddHostedService<MetricsPublisher>();

using IHost host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
{
    var bound = (IPEndPoint)host.Services.GetRequiredService<Ws4NetHostedServer>().Server.LocalEndPoint!;
    Console.WriteLine($"Dashboard on http://{bound}/");
});
await host.RunAsync();

static byte[] ReadPage()
{
    using Stream stream = typeof(ViewerHandler).Assembly.GetManifestResourceStream("index.html")!;
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    return copy.ToArray();
}

/// <summary>A browser tab: subscribed to the "metrics" topic while it is open.</summary>
internal sealed class ViewerHandler(WebSocketConnectionManager manager) : WebSocketHandler
{
    public const string Topic = "metrics";

    protected override ValueTask OnOpenAsync()
    {
        manager.Subscribe(Connection, Topic);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Samples the process once a second and publishes one JSON text to the topic (skipped when nobody watches).</summary>
internal sealed class MetricsPublisher(WebSocketConnectionManager manager) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var process = Process.GetCurrentProcess();
        TimeSpan lastCpu = process.TotalProcessorTime;
        long lastTicks = Stopwatch.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime;
            long ticks = Stopwatch.GetTimestamp();
            double cpuPercent = (cpu - lastCpu).TotalSeconds / Stopwatch.GetElapsedTime(lastTicks, ticks).TotalSeconds / Environment.ProcessorCount * 100;
            (lastCpu, lastTicks) = (cpu, ticks);
            if (manager.GetSubscriberCount(ViewerHandler.Topic) == 0)
            {
                continue;
            }

            string json = JsonSerializer.Serialize(new
            {
                time = DateTimeOffset.UtcNow,
                cpuPercent = Math.Round(cpuPercent, 1),
                workingSetMiB = Math.Round(process.WorkingSet64 / 1048576.0, 1),
                gcHeapMiB = Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1),
                threads = process.Threads.Count,
                connections = manager.Count,
                viewers = manager.GetSubscriberCount(ViewerHandler.Topic),
            });
            manager.Publish(ViewerHandler.Topic, json);
        }
    }
}
