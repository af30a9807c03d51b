using Ws4Net.Protocol.Compression;
using Ws4Net.Protocol.Handshake;
using static Ws4Net.Protocol.Tests.Handshake.HandshakeText;

namespace Ws4Net.Protocol.Tests.Handshake;

/// <summary>RFC 8441 extended CONNECT through the same negotiation as the HTTP/1.1 upgrade, and the response as data.</summary>
public class ServerHandshakeExtendedConnectTests
{
    private static HttpHeaderCollection Headers(params (string Name, string Value)[] fields)
    {
        var headers = new HttpHeaderCollection();
        foreach ((string name, string value) in fields)
        {
            headers.Add(name, value);
        }

        return headers;
    }

    private static ServerHandshakeRequest Connect(params (string, string)[] extra) =>
        ServerHandshakeRequest.ForExtendedConnect("CONNECT", "websocket", Headers([("sec-websocket-version", "13"), .. extra]));

    [Fact]
    public void AcceptsWith200AndNoKeyAcceptUpgradeOrConnection()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(Connect(("sec-websocket-protocol", "superchat, chat")), new ServerHandshakeOptions { Subprotocols = { "chat" } });

        Assert.True(result.IsAccepted);
        Assert.True(result.IsWebSocketRequest);
        Assert.Equal(ServerHandshakeKind.ExtendedConnect, result.Kind);
        Assert.Equal(200, result.StatusCode);
        Assert.Null(result.Key);
        Assert.Null(result.Accept);
        Assert.Equal("chat", result.Subprotocol);
        Assert.Equal([new KeyValuePair<string, string>("Sec-WebSocket-Protocol", "chat")], result.ResponseHeaders);
    }

    [Fact]
    public void AcceptedWithoutSubprotocolHasNoResponseHeaders()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(Connect(), new ServerHandshakeOptions());

        Assert.True(result.IsAccepted);
        Assert.Empty(result.ResponseHeaders);
    }

    [Fact]
    public void NegotiatesPermessageDeflateExactlyAsOverHttp11()
    {
        var options = new ServerHandshakeOptions { PerMessageDeflate = new PerMessageDeflateOptions() };
        const string offer = "permessage-deflate; client_max_window_bits";
        ServerHandshakeResult h2 = ServerHandshake.Negotiate(Connect(("sec-websocket-extensions", offer)), options);
        ServerHandshakeResult h1 = ServerHandshake.Negotiate(
            ParseRequest(Request("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + SampleKey, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Extensions: " + offer)),
            options);

        Assert.NotNull(h2.PerMessageDeflate);
        Assert.Equal(h1.ExtensionsResponse, h2.ExtensionsResponse);
        Assert.Equal([new KeyValuePair<string, string>("Sec-WebSocket-Extensions", h1.ExtensionsResponse!)], h2.ResponseHeaders);
        Assert.Equal("Sec-WebSocket-Extensions", h1.ResponseHeaders[^1].Key);
    }

    [Fact]
    public void Http11ResponseHeadersAreTheDataOfTheWrittenBytes()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(ParseRequest(SampleRequest), new ServerHandshakeOptions { Subprotocols = { "chat" } });

        Assert.Equal(
            [
                new KeyValuePair<string, string>("Upgrade", "websocket"),
                new("Connection", "Upgrade"),
                new("Sec-WebSocket-Accept", SampleAccept),
                new("Sec-WebSocket-Protocol", "chat"),
            ],
            result.ResponseHeaders);
    }

    [Theory]
    [InlineData("GET", "websocket", 400)]
    [InlineData("CONNECT", null, 400)]
    [InlineData("CONNECT", "webtransport", 400)]
    public void RejectsWrongMethodOrProtocol(string method, string? protocol, int status)
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(
            ServerHandshakeRequest.ForExtendedConnect(method, protocol, Headers(("sec-websocket-version", "13"))), new ServerHandshakeOptions());

        Assert.False(result.IsAccepted);
        Assert.Equal(status, result.StatusCode);
        Assert.Equal(protocol == "websocket", result.IsWebSocketRequest);
    }

    [Fact]
    public void ProtocolTokenIsCaseInsensitive()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(
            ServerHandshakeRequest.ForExtendedConnect("CONNECT", "WebSocket", Headers(("sec-websocket-version", "13"))), new ServerHandshakeOptions());

        Assert.True(result.IsAccepted);
    }

    [Fact]
    public void MissingVersionIs400AndWrongVersionIs426WithoutUpgradeHeader()
    {
        ServerHandshakeResult missing = ServerHandshake.Negotiate(
            ServerHandshakeRequest.ForExtendedConnect("CONNECT", "websocket", Headers()), new ServerHandshakeOptions());
        ServerHandshakeResult wrong = ServerHandshake.Negotiate(
            ServerHandshakeRequest.ForExtendedConnect("CONNECT", "websocket", Headers(("sec-websocket-version", "8"))), new ServerHandshakeOptions());

        Assert.Equal(400, missing.StatusCode);
        Assert.Equal(426, wrong.StatusCode);
        Assert.Equal([new KeyValuePair<string, string>("Sec-WebSocket-Version", "13")], wrong.ResponseHeaders);
    }

    [Fact]
    public void OriginPolicyAppliesToo()
    {
        var options = new ServerHandshakeOptions { AllowedOrigins = { "https://good.example" } };

        Assert.Equal(403, ServerHandshake.Negotiate(Connect(("origin", "https://evil.example")), options).StatusCode);
        Assert.True(ServerHandshake.Negotiate(Connect(("origin", "https://good.example")), options).IsAccepted);
    }

    [Fact]
    public void AnExtendedConnectResultCannotBeWrittenAsHttp11Bytes()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(Connect(), new ServerHandshakeOptions());

        Assert.Throws<ArgumentException>(() => ServerHandshake.WriteResponse(result));
    }

    [Fact]
    public void Http11RejectionWith426KeepsItsHeaders()
    {
        ServerHandshakeResult result = ServerHandshake.Negotiate(
            ParseRequest(Request("GET /chat HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + SampleKey, "Sec-WebSocket-Version: 8")),
            new ServerHandshakeOptions());

        Assert.Equal(426, result.StatusCode);
        Assert.Equal([new KeyValuePair<string, string>("Upgrade", "websocket"), new("Sec-WebSocket-Version", "13")], result.ResponseHeaders);
    }
}
