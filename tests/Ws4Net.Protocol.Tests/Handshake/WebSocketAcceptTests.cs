using Ws4Net.Protocol.Handshake;

namespace Ws4Net.Protocol.Tests.Handshake;

public class WebSocketAcceptTests
{
    [Fact]
    public void GuidIsTheRfcConstant()
    {
        Assert.Equal("258EAFA5-E914-47DA-95CA-C5AB0DC85B11", WebSocketAccept.Guid);
    }

    [Fact]
    public void ComputesTheRfc6455Section13Vector()
    {
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketAccept.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Fact]
    public void ComputeAcceptHashesTheKeyStringAsIs()
    {
        // The key is not decoded or trimmed: different spellings give different answers.
        Assert.NotEqual(WebSocketAccept.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="), WebSocketAccept.ComputeAccept(" dGhlIHNhbXBsZSBub25jZQ=="));
        Assert.Equal(28, WebSocketAccept.ComputeAccept(new string('k', 1000)).Length);
    }

    [Fact]
    public void ComputeAcceptRejectsInvalidArguments()
    {
        Assert.Throws<ArgumentNullException>(() => WebSocketAccept.ComputeAccept(null!));
        Assert.Throws<ArgumentException>(() => WebSocketAccept.ComputeAccept("\u20AC"));
    }

    [Fact]
    public void GenerateKeyReturnsFreshValidKeys()
    {
        HashSet<string> keys = [];
        for (int i = 0; i < 64; i++)
        {
            string key = WebSocketAccept.GenerateKey();
            Assert.Equal(24, key.Length);
            Assert.True(WebSocketAccept.IsValidKey(key));
            Assert.Equal(16, Convert.FromBase64String(key).Length);
            Assert.True(keys.Add(key));
        }
    }

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("/////////////////////w==")]
    public void AcceptsSixteenByteKeys(string key)
    {
        Assert.True(WebSocketAccept.IsValidKey(key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAECAwQFBgcICQoLDA0O")] // 15 bytes, 20 characters
    [InlineData("AAECAwQFBgcICQoLDA0ODxA=")] // 17 bytes, also 24 characters
    [InlineData("AAECAwQFBgcICQoLDA0ODxAR")] // 18 bytes, 24 characters
    [InlineData("AAECAwQFBgcICQoLDA0ODxARE===")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ")] // unpadded
    [InlineData("dGhlIHNhbXBsZSBub25jZQ=")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ== ")]
    [InlineData(" dGhlIHNhbXBsZSBub25jZQ==")]
    [InlineData("dGhlIHNhbXBs ZSBub25jZQ==")]
    [InlineData("dGhlIHNhbXBsZSBub25j\tQ==")]
    [InlineData("dGhlIHNhbXBsZSBub25jZ!==")]
    [InlineData("dGhlIHNhbXBsZSBub25jZ-==")] // base64url alphabet
    [InlineData("dGhlIHNhbXBsZSBub25=ZQ==")]
    public void RejectsKeysThatAreNotBase64OfSixteenBytes(string? key)
    {
        Assert.False(WebSocketAccept.IsValidKey(key));
    }
}
