using System.Text;
using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Browser.Tests;

/// <summary>The page's echo panel against the demo server's <c>/echo</c>.</summary>
[Collection(BrowserCollection.Name)]
public sealed class EchoPanelTests(BrowserFixture browser)
{
    [Fact]
    public async Task EchoPanel_ShowsTheReplyExactly_IncludingMultiByteCharacters()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        await using ChatPage page = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

        const string first = "  Grüße, 世界! € 😀 𝄞 ✓ — naïve café  ";
        await EchoAsync(page, first, previous: string.Empty).WaitAsync(Timeouts.Step * 4);
        Assert.Equal("open", await page.Page.GetAttributeAsync("#echo-state", "data-state").WaitAsync(Timeouts.Step));

        // A second message on the same /echo socket replaces the reply.
        const string second = "second: Ωμέγα ∑ 🚀🚀";
        await EchoAsync(page, second, previous: first).WaitAsync(Timeouts.Step * 4);

        Assert.Empty(page.PageErrors);
    }

    private static async Task EchoAsync(ChatPage page, string text, string previous)
    {
        await page.Page.FillAsync("#echo-input", text).WaitAsync(Timeouts.Step);
        Assert.Equal(text, await page.Page.InputValueAsync("#echo-input").WaitAsync(Timeouts.Step));
        await page.Page.ClickAsync("#echo-send").WaitAsync(Timeouts.Step);

        await page.Page.WaitForFunctionAsync(
            "previous => { const t = document.getElementById('echo-output').textContent; return t !== '' && t !== previous; }",
            previous).WaitAsync(Timeouts.Step);

        string? output = await page.Page.TextContentAsync("#echo-output").WaitAsync(Timeouts.Step);
        Assert.Equal(text, output);

        // The page reports the reply's UTF-8 length: the bytes came back, not just look-alike characters.
        string? meta = await page.Page.TextContentAsync("#echo-meta").WaitAsync(Timeouts.Step);
        Assert.StartsWith($"Reply: {Encoding.UTF8.GetByteCount(text)} bytes", meta, StringComparison.Ordinal);
    }
}
