using SharpFuzz;
using Ws4Net.Protocol.Tests.Fuzz;

namespace Ws4Net.Fuzz;

/// <summary>
/// The coverage-guided fuzz program. <c>Ws4Net.Fuzz TARGET</c> runs under afl-fuzz (eng/fuzz.sh): it
/// speaks AFL's fork-server protocol through SharpFuzz and checks every input AFL++ sends against
/// TARGET's properties (<see cref="CoverageFuzzTargets"/>); a violated property or any exception escapes
/// and is recorded as a crash. Outside afl-fuzz it checks one input from standard input.
/// <c>Ws4Net.Fuzz TARGET FILE...</c> checks files (to triage crashes) and prints the replay target of a
/// failure. The target <c>canary</c> throws for an input that starts with <c>!</c>: eng/fuzz.sh --smoke runs
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

        if (args.Length == 0 || !CoverageFuzzTargets.Names.Contains(args[0]))
        {
            Console.Error.WriteLine($"usage: Ws4Net.Fuzz TARGET [FILE...]; targets: {string.Join(", ", CoverageFuzzTargets.Names)}");
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
