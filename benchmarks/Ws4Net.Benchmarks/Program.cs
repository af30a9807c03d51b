using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Ws4Net.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point. Every benchmark class measures Ws4Net against .NET's own
/// System.Net.WebSockets on the same bytes in the same run; report the ratios.
/// Run: dotnet run -c Release --project benchmarks/Ws4Net.Benchmarks -- --filter '*'
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // In-process: no child project build, so it runs on any SDK the repo builds with.
        IConfig config = DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
