using System.Net;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using Ws4Net.Protocol.Handshake;
using Ws4Net.Server;

namespace Ws4Net.Cli.Demo;

/// <summary>
/// Builds the server that <c>ws4net serve</c> runs: the chat page at <c>/</c> (and its icon), and the
/// WebSocket endpoints <c>/echo</c>, <c>/chat</c> (a topic of the server's manager with a 50-message
/// history, kept per node), <c>/broadcast</c> (a topic, no history) and <c>/pubsub</c> (topics by command,
/// broadcast, direct sends by connection id). Tests use it in-process. Thread-safe.
/// </summary>
internal static class DemoServer
{
    private static readonly Lazy<byte[]> s_page = new(() => LoadResource("wwwroot/index.html"));
    private static readonly Lazy<byte[]> s_favicon = new(() => LoadResource("wwwroot/favicon.ico"));

    /// <summary>Creates (does not start) the demo server.</summary>
    /// <param name="options">Settings.</param>
    /// <returns>The configured server; call <see cref="WebSocketServer.StartAsync"/>.</returns>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The certificate or key cannot be loaded.</exception>
    /// <exception cref="FileNotFoundException">A certificate or key file is missing.</exception>
    public static WebSocketServer Create(DemoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var serverOptions = new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(options.Host, options.Port),
            Certificate = LoadCertificate(options),
            LoggerFactory = options.LoggerFactory,
            HttpFallback = ServePage,
            PerMessageDeflate = options.PerMessageDeflate,
            Manager = options.Manager,
        };
        WebSocketConnectionOptions connection = serverOptions.Connection;
        connection.Protocol.MaxMessageSize = options.MaxMessageSize;
        connection.KeepAliveInterval = options.KeepAliveInterval;
        connection.KeepAliveTimeout = options.KeepAliveTimeout;
        connection.IdleTimeout = options.IdleTimeout;
        connection.BackpressurePolicy = options.BackpressurePolicy;

        var server = new WebSocketServer(serverOptions);
        var chat = new ChatRoom(server.Manager);
        server.Map("/echo", _ => new EchoHandler());
        server.Map("/chat", _ => new ChatHandler(chat));
        server.Map("/broadcast", _ => new BroadcastHandler(server.Manager));
        server.Map("/pubsub", _ => new PubSubHandler(server.Manager));
        return server;
    }

    /// <summary>Gets the icon served at <c>/favicon.ico</c> (ICO bytes).</summary>
    public static ReadOnlyMemory<byte> Favicon => s_favicon.Value;

    /// <summary>Gets the chat page's bytes (UTF-8 HTML).</summary>
    public static ReadOnlyMemory<byte> Page => s_page.Value;

    private static HttpFallbackResponse? ServePage(HttpRequestHead request)
    {
        if (request.Method is not ("GET" or "HEAD"))
        {
            return HttpFallbackResponse.Text(405, "Method not allowed");
        }

        return request.Path switch
        {
            "/" or "/index.html" => new HttpFallbackResponse(200, "text/html; charset=utf-8", s_page.Value),
            "/favicon.ico" => new HttpFallbackResponse(200, "image/x-icon", s_favicon.Value),
            _ => null,
        };
    }

    private static X509Certificate2? LoadCertificate(DemoServerOptions options)
    {
        if (options.CertificatePath is not { } path)
        {
            return null;
        }

        if (options.KeyPath is { } keyPath)
        {
            using var pem = X509Certificate2.CreateFromPemFile(path, keyPath);
            // Re-import so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
    }

    private static byte[] LoadResource(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
