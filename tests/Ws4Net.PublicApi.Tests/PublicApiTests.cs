using System.Reflection;
using PublicApiGenerator;

namespace Ws4Net.PublicApi.Tests;

/// <summary>
/// The public surface of every shipped assembly, reflected by PublicApiGenerator, must equal the
/// checked-in baseline under <c>tests/Ws4Net.PublicApi.Tests/api/</c>, so every API change shows up as a diff in review. After an
/// intended change, run with <c>WS4NET_UPDATE_API=1</c> to rewrite the baselines, and commit them.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly string[] s_assemblyNames =
    [
        "Ws4Net.Protocol",
        "Ws4Net",
        "Ws4Net.Hosting",
        "Ws4Net.AspNetCore",
        "Ws4Net.Amqp",
    ];

    public static TheoryData<string> Assemblies => new(s_assemblyNames);

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void PublicSurfaceMatchesTheBaseline(string assemblyName)
    {
        Assembly assembly = Assembly.Load(assemblyName);
        string actual = Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }));
        string baselinePath = Path.Combine(RepoRoot(), "tests", "Ws4Net.PublicApi.Tests", "api", assemblyName + ".txt");
        if (Environment.GetEnvironmentVariable("WS4NET_UPDATE_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(baselinePath)!);
            File.WriteAllText(baselinePath, actual);
            return;
        }

        Assert.True(File.Exists(baselinePath), $"No API baseline at {baselinePath}; run the tests with WS4NET_UPDATE_API=1 to create it.");
        string expected = Normalize(File.ReadAllText(baselinePath));
        if (expected != actual)
        {
            string received = Path.ChangeExtension(baselinePath, ".received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The public API of {assemblyName} changed. First difference:\n{FirstDifference(expected, actual)}\n" +
                $"Whole surface written to {received}. If the change is intended, rerun with WS4NET_UPDATE_API=1 and commit tests/Ws4Net.PublicApi.Tests/api/{assemblyName}.txt.");
        }
    }

    [Fact]
    public void NoPublicTypeSharesANameWithSystemNetWebSockets()
    {
        // Both namespaces must be importable in one file (issue 10 §4).
        HashSet<string> bcl = typeof(System.Net.WebSockets.WebSocket).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "System.Net.WebSockets")
            .Select(t => t.Name)
            .ToHashSet();
        string[] clashes = s_assemblyNames
            .SelectMany(name => Assembly.Load(name).GetExportedTypes())
            .Where(t => bcl.Contains(t.Name))
            .Select(t => t.FullName!)
            .ToArray();
        Assert.Empty(clashes);
    }

    [Fact]
    public void NoPublicTypeSharesANameWithMicrosoftAspNetCoreHttp()
    {
        // Web projects import Microsoft.AspNetCore.Http implicitly (its WebSocketManager is HttpContext.WebSockets'
        // type), so a Ws4Net type of the same name would need an alias in every ASP.NET Core file that uses it.
        HashSet<string> http = typeof(Microsoft.AspNetCore.Http.HttpContext).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "Microsoft.AspNetCore.Http")
            .Select(t => t.Name)
            .ToHashSet();
        string[] clashes = s_assemblyNames
            .SelectMany(name => Assembly.Load(name).GetExportedTypes())
            .Where(t => http.Contains(t.Name))
            .Select(t => t.FullName!)
            .ToArray();
        Assert.Empty(clashes);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n');
        string[] a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string left = i < e.Length ? e[i] : "<end>";
            string right = i < a.Length ? a[i] : "<end>";
            if (left != right)
            {
                return $"line {i + 1}:\n  baseline: {left}\n  actual:   {right}";
            }
        }

        return "(none)";
    }

    private static string RepoRoot()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("WS4NET_REPO_ROOT");
        if (!string.IsNullOrEmpty(fromEnv))
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

        throw new InvalidOperationException("Cannot find the repository root (Ws4Net.slnx) above " + AppContext.BaseDirectory);
    }
}
