using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ws4Net.DoS.Tests;

/// <summary>A self-signed certificate for localhost/127.0.0.1 written to a temporary PFX file for `ws4net serve --cert`.</summary>
internal sealed class TestCertificate : IDisposable
{
    private TestCertificate(string path) => PfxPath = path;

    public string PfxPath { get; }

    public static TestCertificate Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        string path = Path.Combine(Path.GetTempPath(), $"ws4net-dos-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12));
        return new TestCertificate(path);
    }

    public void Dispose() => File.Delete(PfxPath);
}
