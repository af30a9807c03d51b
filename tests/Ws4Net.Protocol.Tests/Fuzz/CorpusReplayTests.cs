using Xunit.Abstractions;

namespace Ws4Net.Protocol.Tests.Fuzz;

/// <summary>
/// Replays the checked-in corpora of the coverage-guided fuzzer (tests/Ws4Net.Fuzz/corpus/TARGET: seeds and
/// minimised campaign output) and its findings (tests/Ws4Net.Fuzz/regressions/TARGET) through every
/// target's checks (<see cref="CoverageFuzzTargets"/>), without AFL++: each file as its own target and as
/// every other one (a file is valid input for all of them). A finding that comes back fails here.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class CorpusReplayTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (string name in CoverageFuzzTargets.Names)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_file_passes_the_targets_checks(string target)
    {
        string root = Path.Combine(RepoRoot(), "tests", "Ws4Net.Fuzz");
        string[] own = Files(root, "corpus", target);
        Assert.True(own.Length > 0, $"no seed corpus for '{target}' under {root}/corpus/{target}");

        string[] all = [.. CoverageFuzzTargets.Names.SelectMany(n => Files(root, "corpus", n).Concat(Files(root, "regressions", n)))];
        foreach (string file in all)
        {
            byte[] bytes = File.ReadAllBytes(file);
            try
            {
                CoverageFuzzTargets.Run(target, bytes);
            }
            catch (Exception ex)
            {
                (string replay, byte[] input) = CoverageFuzzTargets.Map(target, bytes);
                throw new FuzzFailureException($"{Path.GetRelativePath(root, file)} fails target '{target}' (replay: WS4NET_FUZZ_REPRO_TARGET='{replay}' WS4NET_FUZZ_REPRO_HEX={HexText.Format(input)}): {ex.Message}", ex);
            }
        }

        output.WriteLine($"{all.Length} file(s) passed target '{target}' ({own.Length} in its own corpus).");
    }

    [Fact]
    public void The_file_header_chooses_the_replay_target()
    {
        Assert.Throws<ArgumentException>(() => CoverageFuzzTargets.Run("no-such-target", [1, 2, 3]));
        (string target, byte[] input) = CoverageFuzzTargets.Map("frames", [0x01, 0x07, 0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]);
        Assert.Equal("frames:client/msg64k/7", target);
        Assert.Equal([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], input);
        (target, _) = CoverageFuzzTargets.Map("zframes", [0x03, 0x03, 0x4A, 0x09]);
        Assert.Equal("zframes:client/zfrag64k/S11C10/9", target);
        (target, input) = CoverageFuzzTargets.Map("extensions", "a; b\nc"u8);
        Assert.Equal("extensions", target);
        Assert.Equal("a; b\uFFFFc", System.Text.Encoding.Unicode.GetString(input));
    }

    private static string[] Files(string root, string kind, string target)
    {
        string directory = Path.Combine(root, kind, target);
        return Directory.Exists(directory) ? [.. Directory.GetFiles(directory).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)] : [];
    }

    private static string RepoRoot()
    {
        if (Environment.GetEnvironmentVariable("WS4NET_REPO_ROOT") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Ws4Net.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"cannot find the repository root (Ws4Net.slnx) above {AppContext.BaseDirectory}; set WS4NET_REPO_ROOT");
    }
}
