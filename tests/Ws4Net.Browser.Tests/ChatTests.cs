using Microsoft.Playwright;
using Ws4Net.Browser.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Ws4Net.Browser.Tests;

/// <summary>
/// The chat page against the demo server's <c>/chat</c>, as people would use it: two browsers talk,
/// a late joiner gets the history. Each test has its own server (so its own history) and contexts.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ChatTests(BrowserFixture browser, ITestOutputHelper output)
{
    private const string AliceSays = "hello from alice";
    private const string BobSays = "hi alice, bob here — ça va? ✓";

    [Fact]
    public async Task TwoPages_SeeEachOthersMessages_AndTheScreenshotShowsTheChat()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        await using ChatPage alice = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);
        await using ChatPage bob = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

        await ExchangeAsync(alice, bob).WaitAsync(Timeouts.Step * 6);

        (string, string)[] expected = [("alice", AliceSays), ("bob", BobSays)];
        Assert.Equal(expected, await alice.GetMessagesAsync().WaitAsync(Timeouts.Step * 2));
        Assert.Equal(expected, await bob.GetMessagesAsync().WaitAsync(Timeouts.Step * 2));

        // The page marks its own messages (by nick).
        Assert.Equal("true", await alice.Page.Locator("#messages li.message").Nth(0).GetAttributeAsync("data-mine").WaitAsync(Timeouts.Step));
        Assert.Null(await alice.Page.Locator("#messages li.message").Nth(1).GetAttributeAsync("data-mine").WaitAsync(Timeouts.Step));
        Assert.Equal("true", await bob.Page.Locator("#messages li.message").Nth(1).GetAttributeAsync("data-mine").WaitAsync(Timeouts.Step));

        // Sending cleared the composer.
        Assert.Equal(string.Empty, await alice.Page.InputValueAsync("#message").WaitAsync(Timeouts.Step));

        string directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "chat.png");
        File.Delete(path);
        await alice.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true }).WaitAsync(Timeouts.Step);
        output.WriteLine($"Screenshot of alice's page after the exchange: {path}");

        byte[] png = await File.ReadAllBytesAsync(path).WaitAsync(Timeouts.Step);
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(png.Length > 1000, $"{path} is only {png.Length} bytes.");
        Assert.True(png.AsSpan().StartsWith(signature), $"{path} does not start with the PNG signature.");

        Assert.Empty(alice.PageErrors);
        Assert.Empty(bob.PageErrors);
    }

    [Fact]
    public async Task PageOpenedLater_ShowsTheHistory()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        await using ChatPage alice = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);
        await using ChatPage bob = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);
        await ExchangeAsync(alice, bob).WaitAsync(Timeouts.Step * 6);

        await using ChatPage carol = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);
        await carol.WaitForMessageAsync("alice", AliceSays).WaitAsync(Timeouts.Step * 2);
        await carol.WaitForMessageAsync("bob", BobSays).WaitAsync(Timeouts.Step * 2);
        Assert.Equal([("alice", AliceSays), ("bob", BobSays)], await carol.GetMessagesAsync().WaitAsync(Timeouts.Step * 2));

        // The newcomer is a full member: what it says reaches the others, once.
        await carol.SetNickAsync("carol").WaitAsync(Timeouts.Step * 2);
        await carol.SendAsync("carol joined late").WaitAsync(Timeouts.Step * 2);
        await alice.WaitForMessageAsync("carol", "carol joined late").WaitAsync(Timeouts.Step * 2);
        await bob.WaitForMessageAsync("carol", "carol joined late").WaitAsync(Timeouts.Step * 2);
        await carol.WaitForMessageAsync("carol", "carol joined late").WaitAsync(Timeouts.Step * 2);
        Assert.Equal(3, (await carol.GetMessagesAsync().WaitAsync(Timeouts.Step)).Count);
        Assert.Equal(3, (await alice.GetMessagesAsync().WaitAsync(Timeouts.Step)).Count);

        Assert.Empty(carol.PageErrors);
    }

    /// <summary>Alice (page A) says hello, both pages show it; Bob (page B) replies, both pages show that.</summary>
    private static async Task ExchangeAsync(ChatPage alice, ChatPage bob)
    {
        await alice.SetNickAsync("alice").WaitAsync(Timeouts.Step * 2);
        await bob.SetNickAsync("bob").WaitAsync(Timeouts.Step * 2);

        await alice.SendAsync(AliceSays).WaitAsync(Timeouts.Step * 2);
        await alice.WaitForMessageAsync("alice", AliceSays).WaitAsync(Timeouts.Step * 2);
        await bob.WaitForMessageAsync("alice", AliceSays).WaitAsync(Timeouts.Step * 2);

        await bob.SendAsync(BobSays).WaitAsync(Timeouts.Step * 2);
        await bob.WaitForMessageAsync("bob", BobSays).WaitAsync(Timeouts.Step * 2);
        await alice.WaitForMessageAsync("bob", BobSays).WaitAsync(Timeouts.Step * 2);
    }
}
