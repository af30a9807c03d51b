using System.CommandLine;
using Ws4Net.Cli.Commands;

namespace Ws4Net.Cli;

/// <summary>Entry point of the <c>ws4net</c> command.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The process exit code: 0 on success, non-zero on failure.</returns>
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Ws4Net: WebSocket server and client for .NET.")
        {
            ServeCommand.Create(),
            ConnectCommand.Create(),
            AutobahnClientCommand.Create(),
            BenchCommand.Create(),
        };
        return root.Parse(args).InvokeAsync();
    }
}
