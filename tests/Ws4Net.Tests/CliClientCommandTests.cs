using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ws4Net.Tests;

/// <summary>
/// The client side of the <c>ws4net</c> command in its own process (Ws4Net.Cli.dll): <c>--help</c> names the
/// command <c>ws4net</c>, <c>send</c> (argument and stdin, exit codes), <c>connect</c> pong round-trip times,
/// and <c>--cacert</c> trusting a PEM certificate for wss where the default validation refuses it.
/// </summary>
public sealed class CliClientCommandTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Ws4Net.Cli.dll");

    [Fact]
    public async Task Help_NamesTheCommandWs4net()
    {
        ProcessResult help = await RunAsync(["--help"]);
        Assert.Equal(0, help.ExitCode);
        string text = help.Stdout.ReplaceLineEndings("\n");
        Assert.Contains("Usage:\n  ws4net [command] [options]", text, StringComparison.Ordinal);
        Assert.Contains("send <url> <message>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Ws4Net.Cli", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_PrintsTheReplies_ReadsStdinForDash_AndExitsZero()
    {
        string url = fixture.Plain.Uri("/echo").ToString();
        ProcessResult send = await RunAsync(["send", url, "one shot", "--replies", "1"]);
        Assert.True(send.ExitCode == 0, send.ToString());
        Assert.Equal("one shot", send.Stdout.Trim());

        ProcessResult piped = await RunAsync(["send", url, "-", "-n", "1"], stdin: "line one\nline two\n");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("line one\nline two", piped.Stdout.ReplaceLineEndings("\n").TrimEnd('\n'));
    }

    [Fact]
    public async Task Send_ExitsOne_WhenItCannotConnect_OrARepliesAreMissing()
    {
        ProcessResult refused = await RunAsync(["send", "ws://127.0.0.1:1/", "x"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("[ConnectionRefused]", refused.Stderr, StringComparison.Ordinal);

        ProcessResult missing = await RunAsync(["send", fixture.Plain.Uri("/close").ToString(), "x", "--replies", "5", "--reply-timeout", "20"]);
        Assert.Equal(1, missing.ExitCode);

        ProcessResult usage = await RunAsync(["send", "not a url", "x"]);
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public async Task Connect_PrintsPongsWithTheirRoundTripTime()
    {
        ProcessResult connect = await RunAsync(["connect", fixture.Plain.Uri("/echo").ToString()], stdin: "/ping\n/ping mine\nafter\n");
        Assert.True(connect.ExitCode == 0, connect.ToString());
        Assert.Matches(@"< pong ws4net-1 \([0-9.]+ ms\)", connect.Stdout);
        Assert.Matches(@"< pong mine \([0-9.]+ ms\)", connect.Stdout);
        Assert.Contains("< after", connect.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaCert_TrustsThePemCertificate_WhereTheDefaultValidationRefuses()
    {
        string url = fixture.Secure.Uri("/echo").ToString();
        string pem = Path.Combine(Path.GetTempPath(), $"ws4net-ca-{Guid.NewGuid():N}.pem");
        string other = Path.Combine(Path.GetTempPath(), $"ws4net-other-{Guid.NewGuid():N}.pem");
        try
        {
            await File.WriteAllTextAsync(pem, TestCertificate.Certificate.ExportCertificatePem());
            using (ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            {
                var request = new CertificateRequest("CN=someone else", key, HashAlgorithmName.SHA256);
                using X509Certificate2 stranger = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
                await File.WriteAllTextAsync(other, stranger.ExportCertificatePem());
            }

            ProcessResult untrusted = await RunAsync(["send", url, "x"]);
            Assert.Equal(1, untrusted.ExitCode);
            Assert.Contains("[Tls]", untrusted.Stderr, StringComparison.Ordinal);

            ProcessResult trusted = await RunAsync(["send", url, "over wss", "--cacert", pem, "-n", "1"]);
            Assert.True(trusted.ExitCode == 0, trusted.ToString());
            Assert.Equal("over wss", trusted.Stdout.Trim());

            ProcessResult wrongCa = await RunAsync(["send", url, "x", "--cacert", other]);
            Assert.Equal(1, wrongCa.ExitCode);
            Assert.Contains("[Tls]", wrongCa.Stderr, StringComparison.Ordinal);

            ProcessResult both = await RunAsync(["send", url, "x", "--cacert", pem, "--insecure"]);
            Assert.Equal(2, both.ExitCode);
        }
        finally
        {
            File.Delete(pem);
            File.Delete(other);
        }
    }

    private static Task<ProcessResult> RunAsync(string[] args, string? stdin = null)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing from the test output");
        return PackedPackagesFixture.RunAsync("dotnet", [CliDll, .. args], AppContext.BaseDirectory, TimeSpan.FromSeconds(60), stdin);
    }
}
