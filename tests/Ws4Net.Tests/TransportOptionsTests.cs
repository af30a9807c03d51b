using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ws4Net.Cli.Demo;
using Ws4Net.Client;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>Listening on a Unix domain socket, and the demo server's TLS from PEM and PFX files (`ws4net serve --cert --key`).</summary>
public sealed class TransportOptionsTests
{
    [Fact]
    public async Task Server_and_client_speak_over_a_unix_domain_socket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ws4net-{Guid.NewGuid():N}.sock");
        await using var server = new WebSocketServer(new WebSocketServerOptions { UnixSocketPath = path });
        server.Map("/echo", _ => new EchoHandler());
        await server.StartAsync();
        Assert.True(File.Exists(path));

        var options = new WebSocketClientOptions { UnixSocketPath = path };
        await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri("ws://localhost/echo"), options).WithTimeout();
        await connection.SendTextAsync("over a unix socket").WithTimeout();
        Assert.Equal("over a unix socket", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());
        await connection.CloseAsync().WithTimeout();
        await server.StopAsync().WithTimeout();
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public async Task Demo_server_serves_wss_with_a_certificate_file(string format)
    {
        string directory = Directory.CreateTempSubdirectory("ws4net-cert-").FullName;
        try
        {
            X509Certificate2 certificate = TestCertificate.Certificate;
            var options = new DemoServerOptions { Port = 0, Host = IPAddress.Loopback };
            if (format == "pem")
            {
                options.CertificatePath = Path.Combine(directory, "server.crt");
                options.KeyPath = Path.Combine(directory, "server.key");
                await File.WriteAllTextAsync(options.CertificatePath, certificate.ExportCertificatePem());
                using ECDsa key = certificate.GetECDsaPrivateKey()!;
                await File.WriteAllTextAsync(options.KeyPath, key.ExportPkcs8PrivateKeyPem());
            }
            else
            {
                options.CertificatePath = Path.Combine(directory, "server.pfx");
                options.CertificatePassword = "secret";
                await File.WriteAllBytesAsync(options.CertificatePath, certificate.Export(X509ContentType.Pkcs12, "secret"));
            }

            await using WebSocketServer server = DemoServer.Create(options);
            await server.StartAsync();
            int port = ((IPEndPoint)server.LocalEndPoint!).Port;
            var clientOptions = new WebSocketClientOptions { RemoteCertificateValidation = TestCertificate.Validate };
            await using WebSocketConnection connection = await WebSocketClient.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/echo"), clientOptions).WithTimeout();
            await connection.SendTextAsync($"wss with {format}").WithTimeout();
            Assert.Equal($"wss with {format}", (await connection.ReceiveAsync().WithTimeout())!.Value.GetText());
            await connection.CloseAsync().WithTimeout();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class EchoHandler : WebSocketHandler
    {
        protected override ValueTask OnMessageAsync(WebSocketMessage message) => Connection.SendAsync(message.Payload, message.Type, message.EndOfMessage);
    }
}
