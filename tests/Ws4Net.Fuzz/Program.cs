using System.Globalization;
using SharpFuzz;
using Ws4Net.Protocol.Tests.Fuzz;

namespace Ws4Net.Fuzz;

/// <summary>
/// The coverage-guided fuzz program. <c>Ws4Net.Fuzz TARGET</c> runs under afl-fuzz (eng/fuzz.sh): it
/// speaks AFL's fork-server protocol through SharpFuzz and checks every input AFL++ sends against
/// TARGET's properties (<see cref="CoverageFuzzTargets"/>); a violated property or any exception escapes
/// and is recorded as a crash. Outside afl-fuzz it checks one input from standard input.
/// <c>Ws4Net.Fuzz TARGET FILE...</c> checks files (to triage crashes) and prints the replay target of a
/// failure. <c>Ws4Net.Fuzz --seeds frames|zframes DIR COUNT SEED</c> writes valid generated streams as
/// seed files. The target <c>canary</c> throws for an input that starts with <c>!</c>: eng/fuzz.sh --smoke runs
/// it first to prove that a failing check reaches AFL++ as a crash.
/// </summary>
internal static class Program
{
    private const string Canary = "canary";

    private static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == Canary)
        {
            Fuzzer.Run(stream =>
            {
                // Through the instrumented library, so that AFL++ sees coverage.
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var validator = default(Ws4Net.Protocol.Text.Utf8Validator);
                if (validator.Validate(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) && buffer.Length > 0 && buffer.GetBuffer()[0] == '!')
                {
                    throw new InvalidOperationException("canary: the fuzz harness reports a failing check as a crash");
                }
            });
            return 0;
        }

        if (args.Length == 5 && args[0] == "--seeds")
        {
            return WriteSeeds(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), ulong.Parse(args[4], CultureInfo.InvariantCulture));
        }

        if (args.Length == 0 || !CoverageFuzzTargets.Names.Contains(args[0]))
        {
            Console.Error.WriteLine($"usage: Ws4Net.Fuzz TARGET [FILE...] | Ws4Net.Fuzz --seeds frames|zframes DIR COUNT SEED; targets: {string.Join(", ", CoverageFuzzTargets.Names)}");
            return 2;
        }

        string target = args[0];
        if (args.Length > 1)
        {
            return CheckFiles(target, args[1..]);
        }

        Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            CoverageFuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    }

    // Valid generated streams (at most 1 KiB) as seed files gen-SEED-N, each checked before it is written.
    private static int WriteSeeds(string target, string directory, int count, ulong seed)
    {
        Directory.CreateDirectory(directory);
        int n = 0;
        foreach (byte[] file in CoverageFuzzTargets.GenerateSeeds(target, seed, count, 1024))
        {
            CoverageFuzzTargets.Run(target, file);
            File.WriteAllBytes(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"gen-{seed}-{n++:D3}")), file);
        }

        Console.WriteLine($"{n} seed(s) for {target} in {directory}");
        return 0;
    }

    private static int CheckFiles(string target, string[] files)
    {
        int failed = 0;
        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            try
            {
                CoverageFuzzTargets.Run(target, bytes);
                Console.WriteLine($"ok    {file}");
            }
            catch (Exception ex)
            {
                failed++;
                (string replay, byte[] input) = CoverageFuzzTargets.Map(target, bytes);
                Console.WriteLine($"FAIL  {file}\n      replay: WS4NET_FUZZ_REPRO_TARGET='{replay}' WS4NET_FUZZ_REPRO_HEX={Convert.ToHexString(input)}\n      {ex.GetType().Name}: {ex.Message}");
            }
        }

        Console.WriteLine($"{files.Length - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
