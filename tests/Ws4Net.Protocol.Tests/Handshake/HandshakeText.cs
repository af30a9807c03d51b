using System.Text;
using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Handshake;

/// <summary>Shared samples and conversions for the handshake tests.</summary>
internal static class HandshakeText
{
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    public const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    /// <summary>The client handshake of RFC 6455 §1.2/§1.3, with CRLF line ends.</summary>
    public const string SampleRequest =
        "GET /chat HTTP/1.1\r\n" +
        "Host: server.example.com\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Origin: http://example.com\r\n" +
        "Sec-WebSocket-Protocol: chat, superchat\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "\r\n";

    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string AsText(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static HttpRequestHead ParseRequest(string text)
    {
        HttpHeadParseResult<HttpRequestHead> result = HttpHeadParser.ParseRequest(Bytes(text), new HttpHeadLimits());
        Assert.True(result.IsComplete, result.ErrorReason);
        return result.Head;
    }

    public static HttpResponseHead ParseResponse(string text)
    {
        HttpHeadParseResult<HttpResponseHead> result = HttpHeadParser.ParseResponse(Bytes(text), new HttpHeadLimits());
        Assert.True(result.IsComplete, result.ErrorReason);
        return result.Head;
    }

    /// <summary>Builds a request head from a request line and header lines.</summary>
    public static string Request(string requestLine, params string[] headerLines) =>
        requestLine + "\r\n" + string.Concat(headerLines.Select(line => line + "\r\n")) + "\r\n";
}
