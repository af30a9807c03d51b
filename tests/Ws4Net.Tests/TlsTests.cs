using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ws4Net.Client;

namespace Ws4Net.Tests;

/// <summary>wss with an in-process self-signed certificate: trusted by thumbprint only, rejected by default.</summary>
public sealed class TlsTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    [Fact]
    public void Certificate_HasLoopbackAndLocalhostInSubjectAlternativeName()
    {
        X509Certificate2 certificate = TestCertificate.Certificate;
        Assert.True(certificate.HasPrivateKey);
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(IPAddress.Loopback, san.EnumerateIPAddresses());
        Assert.Contains("localhost", san.EnumerateDnsNames());
    }

    [Fact]
    public async Task Wss_ClientTrustingTheGeneratedThumbprint_ConnectsAndTheServerSeesTls()
    {
        TestServer server = fixture.Secure;
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record");
        await using (client)
        {
            await handler.Opened.WithTimeout();
            Assert.True(handler.Request!.IsSecure);
            await client.SendTextAsync("over tls").WithTimeout();
            ReceivedMessage message = await handler.Messages.ReadAsync().WithTimeout();
            Assert.Equal("over tls", message.Text);
            await client.CloseAsync().WithTimeout();
        }

        Assert.Equal(WebSocketCloseCode.NormalClosure, (await handler.Closed.WithTimeout()).Code);
    }

    [Fact]
    public async Task Wss_DefaultClientValidation_RejectsTheUntrustedSelfSignedCertificate()
    {
        TestServer server = fixture.Secure;
        var options = new WebSocketClientOptions(); // no RemoteCertificateValidation: platform validation
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(server.Uri("/echo"), options).WithTimeout());
        Assert.Equal(WebSocketConnectError.Tls, error.Error);
        Assert.IsAssignableFrom<AuthenticationException>(error.InnerException);
    }

    [Fact]
    public async Task Wss_ThumbprintCheck_RejectsADifferentSelfSignedCertificate()
    {
        using X509Certificate2 impostor = CreateOtherCertificate();
        await using TestServer server = await TestServer.StartAsync(secure: true, configure: o => o.Certificate = impostor);
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(
            () => WebSocketClient.ConnectAsync(server.Uri("/echo"), server.ClientOptions()).WithTimeout());
        Assert.IsAssignableFrom<AuthenticationException>(error.InnerException);
    }

    [Fact]
    public async Task Wss_ServerNameLocalhost_MatchesTheDnsSan_ButAnotherNameIsRejected()
    {
        TestServer server = fixture.Secure;
        WebSocketClientOptions good = server.ClientOptions();
        good.TlsServerName = "localhost";
        await using (WebSocketConnection client = await server.ConnectAsync("/echo", good))
        {
            await client.SendTextAsync("sni").WithTimeout();
            Assert.Equal("sni", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
            await client.CloseAsync().WithTimeout();
        }

        WebSocketClientOptions bad = server.ClientOptions();
        bad.TlsServerName = "not-our-host.example";
        SslPolicyErrors seen = SslPolicyErrors.None;
        bad.RemoteCertificateValidation = (sender, certificate, chain, errors) =>
        {
            seen = errors;
            return TestCertificate.Validate(sender, certificate, chain, errors);
        };
        WebSocketConnectException error = await Assert.ThrowsAsync<WebSocketConnectException>(() => server.ConnectAsync("/echo", bad));
        Assert.Equal(WebSocketConnectError.Tls, error.Error);
        Assert.True(seen.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch), $"errors seen: {seen}");
    }

    private static X509Certificate2 CreateOtherCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Impostor", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
