using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ws4Net.AspNetCore.Tests.Infrastructure;

/// <summary>A self-signed ECDSA P-256 server certificate for 127.0.0.1 and localhost, made once per test run.</summary>
internal static class SelfSignedCertificate
{
    private static readonly Lazy<X509Certificate2> s_certificate = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static X509Certificate2 Certificate => s_certificate.Value;

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Ws4Net AspNetCore tests", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ephemeral = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
