// A chat in ASP.NET Core: Ws4Net WebSocket endpoints on Kestrel, over HTTP/1.1 and HTTP/2 (RFC 8441).
//   dotnet run --project samples/AspNetCoreChat -- --port 5443            https://127.0.0.1:5443/ (HTTP/1.1 + HTTP/2, self-signed certificate)
//   dotnet run --project samples/AspNetCoreChat -- --h2c-port 5080        ws://127.0.0.1:5080/chat over cleartext HTTP/2 only (prior knowledge)
// Identity: the "nick" cookie (the page sets it) or an X-User header. /chat relays to everyone, /echo echoes.
// Ctrl-C or SIGTERM: every WebSocket gets 1001 "going away".
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AspNetCoreChat;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Ws4Net.AspNetCore;
using Ws4Net.Hosting;

int? httpsPort = Option(args, "--port");
int? h2cPort = Option(args, "--h2c-port");
if (httpsPort is null && h2cPort is null)
{
    httpsPort = 5443;
}

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    if (httpsPort is { } port)
    {
        X509Certificate2 certificate = CreateSelfSignedCertificate();
        kestrel.Listen(IPAddress.Loopback, port, o =>
        {
            o.Protocols = HttpProtocols.Http1AndHttp2;
            o.UseHttps(certificate);
        });
    }

    if (h2cPort is { } cleartext)
    {
        kestrel.Listen(IPAddress.Loopback, cleartext, o => o.Protocols = HttpProtocols.Http2);
    }
});
builder.Services.AddWs4Net(o => o.Compression = true);

WebApplication app = builder.Build();
app.MapGet("/", () => Results.Stream(
    Assembly.GetExecutingAssembly().GetManifestResourceStream("AspNetCoreChat.index.html")!, "text/html; charset=utf-8"));
app.MapWebSocket<ChatHandler>("/chat");
app.MapWebSocket<EchoHandler>("/echo");
app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (string address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
    {
        Console.WriteLine($"Listening on {address}");
    }
});
await app.RunAsync();

static int? Option(string[] args, string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
}

// A throwaway certificate for 127.0.0.1 and localhost, made at every start: browsers warn (or tests ignore it).
static X509Certificate2 CreateSelfSignedCertificate()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=AspNetCoreChat sample", key, HashAlgorithmName.SHA256);
    var san = new SubjectAlternativeNameBuilder();
    san.AddIpAddress(IPAddress.Loopback);
    san.AddDnsName("localhost");
    request.CertificateExtensions.Add(san.Build());
    request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
    DateTimeOffset now = DateTimeOffset.UtcNow;
    using X509Certificate2 ephemeral = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
    return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
}
