using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Ws4Net.Tests;

/// <summary>
/// The packages as a user gets them: <c>eng/pack.sh</c> runs once for the class (into a temporary folder, with a
/// unique prerelease version so no NuGet cache can serve an older build); the <c>ws4net</c> tool is installed from
/// that folder into a temporary tool path and runs <c>serve</c>, <c>send</c> and <c>connect</c>; a throwaway console
/// project references the packed <c>Ws4Net</c> package (not the project) and runs the README's quick start
/// (samples/QuickStart/Program.cs). Slow (a pack, a tool install and a restore): everything shares one pack.
/// </summary>
public sealed partial class PackageTests(PackedPackagesFixture packages) : IClassFixture<PackedPackagesFixture>
{
    [Fact]
    public void Packages_CarryReadmeLicenseRepositoryAndSymbols()
    {
        foreach (string id in new[] { "Ws4Net.Protocol", "Ws4Net", "Ws4Net.Hosting", "Ws4Net.AspNetCore", "Ws4Net.Cli" })
        {
            string package = Path.Combine(packages.Folder, $"{id}.{packages.Version}.nupkg");
            Assert.True(File.Exists(package), $"{package} is missing");
            Assert.True(File.Exists(Path.Combine(packages.Folder, $"{id}.{packages.Version}.snupkg")), $"{id} has no symbol package");
            using ZipArchive zip = ZipFile.OpenRead(package);
            Assert.NotNull(zip.GetEntry("README.md"));
            using var reader = new StreamReader(zip.GetEntry($"{id}.nuspec")!.Open());
            string nuspec = reader.ReadToEnd();
            Assert.Contains("<license type=\"expression\">MIT</license>", nuspec, StringComparison.Ordinal);
            Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
            Assert.Contains("<repository type=\"git\"", nuspec, StringComparison.Ordinal);
            if (id != "Ws4Net.Cli")
            {
                Assert.NotNull(zip.GetEntry($"lib/net10.0/{id}.dll"));
                Assert.NotNull(zip.GetEntry($"lib/net10.0/{id}.xml"));   // XML documentation
                using ZipArchive symbols = ZipFile.OpenRead(Path.Combine(packages.Folder, $"{id}.{packages.Version}.snupkg"));
                Assert.NotNull(symbols.GetEntry($"lib/net10.0/{id}.pdb"));
            }
        }
    }

    [Fact]
    public async Task InstalledTool_IsCalledWs4net_AndServesSendsAndConnects()
    {
        string toolPath = Path.Combine(packages.Root, "tools");
        ProcessResult install = await PackedPackagesFixture.RunAsync(
            "dotnet", ["tool", "install", "Ws4Net.Cli", "--tool-path", toolPath, "--add-source", packages.Folder, "--version", packages.Version], packages.Root, TimeSpan.FromMinutes(5));
        Assert.True(install.ExitCode == 0, install.ToString());
        string ws4net = Path.Combine(toolPath, "ws4net");
        Assert.True(File.Exists(ws4net), $"{ws4net} was not installed");

        ProcessResult help = await PackedPackagesFixture.RunAsync(ws4net, ["--help"], packages.Root, TimeSpan.FromMinutes(1));
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:\n  ws4net [command] [options]", help.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("Ws4Net.Cli", help.Stdout, StringComparison.Ordinal);

        var info = new ProcessStartInfo(ws4net) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "serve", "--port", "0" })
        {
            info.ArgumentList.Add(arg);
        }

        using Process serve = Process.Start(info)!;
        try
        {
            string url = await ReadUrlAsync(serve).WithTimeout(TimeSpan.FromSeconds(60));
            string echo = $"ws://{new Uri(url).Authority}/echo";

            ProcessResult send = await PackedPackagesFixture.RunAsync(ws4net, ["send", echo, "from the installed tool", "--replies", "1"], packages.Root, TimeSpan.FromMinutes(1));
            Assert.True(send.ExitCode == 0, send.ToString());
            Assert.Equal("from the installed tool", send.Stdout.Trim());

            ProcessResult piped = await PackedPackagesFixture.RunAsync(ws4net, ["send", echo, "-", "-n", "1"], packages.Root, TimeSpan.FromMinutes(1), stdin: "from stdin\n");
            Assert.True(piped.ExitCode == 0, piped.ToString());
            Assert.Equal("from stdin", piped.Stdout.Trim());

            ProcessResult connect = await PackedPackagesFixture.RunAsync(ws4net, ["connect", echo], packages.Root, TimeSpan.FromMinutes(1), stdin: "typed line\n/ping rtt\n");
            Assert.True(connect.ExitCode == 0, connect.ToString());
            Assert.Contains("< typed line", connect.Stdout, StringComparison.Ordinal);
            Assert.Matches(PongLine(), connect.Stdout);

            ProcessResult refused = await PackedPackagesFixture.RunAsync(ws4net, ["send", "ws://127.0.0.1:1/", "x"], packages.Root, TimeSpan.FromMinutes(1));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("[ConnectionRefused]", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task ConsoleProjectReferencingThePackedPackage_RunsTheReadmeQuickStart()
    {
        string project = Path.Combine(packages.Root, "quickstart");
        Directory.CreateDirectory(project);
        File.Copy(Path.Combine(PackedPackagesFixture.RepoRoot, "samples", "QuickStart", "Program.cs"), Path.Combine(project, "Program.cs"));
        await File.WriteAllTextAsync(Path.Combine(project, "QuickStart.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Ws4Net" Version="{packages.Version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(project, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="ws4net-local" value="{packages.Folder}" />
              </packageSources>
            </configuration>
            """);

        ProcessResult run = await PackedPackagesFixture.RunAsync("dotnet", ["run", "--project", project, "-c", "Release"], project, TimeSpan.FromMinutes(8));
        Assert.True(run.ExitCode == 0, run.ToString());
        string[] lines = run.Stdout.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("hello ", StringComparison.Ordinal));
        Assert.Contains("echo: hi", lines);
        Assert.Contains("closed: 1000", lines);

        string assets = await File.ReadAllTextAsync(Path.Combine(project, "obj", "project.assets.json"));
        Assert.Contains($"\"Ws4Net/{packages.Version}\"", assets, StringComparison.Ordinal);
        Assert.Contains($"\"Ws4Net.Protocol/{packages.Version}\"", assets, StringComparison.Ordinal);
    }

    private static async Task<string> ReadUrlAsync(Process process)
    {
        var seen = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            seen.AppendLine(line);
            Match match = UrlLine().Match(line);
            if (match.Success)
            {
                return match.Groups["url"].Value;
            }
        }

        throw new InvalidOperationException($"serve ended without printing its URL. Output:\n{seen}{await process.StandardError.ReadToEndAsync()}");
    }

    [GeneratedRegex(@"Open (?<url>http://[^ ]+/) in a browser")]
    private static partial Regex UrlLine();

    [GeneratedRegex(@"< pong rtt \([0-9.]+ ms\)")]
    private static partial Regex PongLine();
}

/// <summary>The result of a finished child process.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"{Command} exited with {ExitCode}\n--- stdout:\n{Stdout}\n--- stderr:\n{Stderr}";
}

/// <summary>Runs eng/pack.sh once into a temporary folder; removes the folder and the version it put in the NuGet cache afterwards.</summary>
public sealed class PackedPackagesFixture : IAsyncLifetime
{
    private static readonly Lazy<string> s_repoRoot = new(() =>
    {
        string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_REPO_ROOT");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "Ws4Net.slnx")))
        {
            return fromEnv;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ws4Net.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Ws4Net.slnx not found above {AppContext.BaseDirectory}");
    });

    public static string RepoRoot => s_repoRoot.Value;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "ws4net-pack-" + Guid.NewGuid().ToString("N")[..12]);

    public string Folder => Path.Combine(Root, "packages");

    public string Version { get; } = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "." + Environment.ProcessId;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        ProcessResult pack = await RunAsync(
            Path.Combine(RepoRoot, "eng", "pack.sh"),
            ["--artifacts-path", Path.Combine(Root, "build")],
            RepoRoot,
            TimeSpan.FromMinutes(10),
            environment: new() { ["WS4NET_PACKAGES_DIR"] = Folder, ["WS4NET_PACKAGE_VERSION"] = Version });
        Assert.True(pack.ExitCode == 0, pack.ToString());
    }

    public Task DisposeAsync()
    {
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "ws4net", "ws4net.protocol", "ws4net.cli" })
        {
            TryDelete(Path.Combine(cache, id, Version));
        }

        TryDelete(Root);
        return Task.CompletedTask;
    }

    /// <summary>Runs a process to its end (killing it after <paramref name="timeout"/>), with <paramref name="stdin"/> written then closed.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        TimeSpan timeout,
        string? stdin = null,
        Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string key, string value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
                await process.StandardInput.FlushAsync();
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}.\n{await stdout.WaitAsync(TimeSpan.FromSeconds(5))}");
        }

        return new ProcessResult($"{fileName} {string.Join(' ', arguments)}", process.ExitCode, await stdout.WithTimeout(), await stderr.WithTimeout());
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
