using System.CommandLine;
using System.CommandLine.Help;
using Ws4Net.Cli.Commands;

namespace Ws4Net.Cli;

/// <summary>Entry point of the <c>ws4net</c> command.</summary>
internal static class Program
{
    /// <summary>The command's name, as installed by <c>dotnet tool install Ws4Net.Cli</c>.</summary>
    public const string CommandName = "ws4net";

    /// <summary>Parses the command line and runs the chosen command.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The process exit code: 0 on success, non-zero on failure.</returns>
    public static Task<int> Main(string[] args)
    {
        // A plain command named "ws4net" (not RootCommand, whose name is the executable's, Ws4Net.Cli) so
        // that help and usage lines name the installed command.
        var root = new Command(CommandName, "Ws4Net: WebSocket server and client for .NET.")
        {
            new HelpOption(),
            new VersionOption(),
            ServeCommand.Create(),
            ConnectCommand.Create(),
            SendCommand.Create(),
            AutobahnClientCommand.Create(),
            BenchCommand.Create(),
        };
        return root.Parse(args).InvokeAsync();
    }
}
