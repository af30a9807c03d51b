using System.Text.Json;
using Microsoft.Playwright;

namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>The demo's chat page (src/Ws4Net.Cli/wwwroot/index.html) in one browser context, seen through its element ids.</summary>
internal sealed class ChatPage : IAsyncDisposable
{
    private const string FindMessage = """
        ([nick, text]) => Array.from(document.querySelectorAll('#messages li.message')).some(li =>
            li.querySelector('span.nick')?.textContent === nick && li.querySelector('span.text')?.textContent === text)
        """;

    private readonly IBrowserContext _context;
    private readonly List<string> _pageErrors = [];

    private ChatPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.PageError += (_, error) =>
        {
            lock (_pageErrors)
            {
                _pageErrors.Add(error);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Uncaught script errors seen on the page.</summary>
    public IReadOnlyList<string> PageErrors
    {
        get
        {
            lock (_pageErrors)
            {
                return [.. _pageErrors];
            }
        }
    }

    /// <summary>Opens the page in a new context and waits until the chat socket is open.</summary>
    public static async Task<ChatPage> OpenAsync(BrowserFixture browser, string url)
    {
        IBrowserContext context = await browser.NewContextAsync().WaitAsync(Timeouts.Step);
        try
        {
            IPage page = await context.NewPageAsync().WaitAsync(Timeouts.Step);
            var chat = new ChatPage(context, page);
            IResponse? response = await page.GotoAsync(url).WaitAsync(Timeouts.Step);
            Assert.NotNull(response);
            Assert.Equal(200, response.Status);
            await chat.WaitForStateAsync("open").WaitAsync(Timeouts.Step);
            return chat;
        }
        catch
        {
            await context.CloseAsync().WaitAsync(Timeouts.Step);
            throw;
        }
    }

    public async Task WaitForStateAsync(string state, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Timeouts.Step;
        await Page.WaitForSelectorAsync($"#status[data-state=\"{state}\"]", new PageWaitForSelectorOptions { Timeout = (float)limit.TotalMilliseconds })
            .WaitAsync(limit + TimeSpan.FromSeconds(5));
    }

    public async Task<string?> GetStateAsync()
        => await Page.GetAttributeAsync("#status", "data-state").WaitAsync(Timeouts.Step);

    public async Task SetNickAsync(string nick)
        => await Page.FillAsync("#nick", nick).WaitAsync(Timeouts.Step);

    /// <summary>Types the message and clicks Send (which Playwright waits to be enabled: the socket is open).</summary>
    public async Task SendAsync(string text)
    {
        await Page.FillAsync("#message", text).WaitAsync(Timeouts.Step);
        await Page.ClickAsync("#send").WaitAsync(Timeouts.Step);
    }

    /// <summary>Waits until a message with exactly this nick and text is rendered.</summary>
    public async Task WaitForMessageAsync(string nick, string text)
    {
        try
        {
            await Page.WaitForFunctionAsync(FindMessage, new[] { nick, text }).WaitAsync(Timeouts.Step);
        }
        catch (Exception ex) when (ex is TimeoutException or PlaywrightException)
        {
            IReadOnlyList<(string Nick, string Text)> shown = await GetMessagesAsync().WaitAsync(Timeouts.Step);
            throw new TimeoutException($"Message {nick}: \"{text}\" did not appear. The page shows [{string.Join(", ", shown.Select(m => $"{m.Nick}: \"{m.Text}\""))}], status {await GetStateAsync().WaitAsync(Timeouts.Step)}.", ex);
        }
    }

    /// <summary>The rendered chat lines, oldest first.</summary>
    public async Task<IReadOnlyList<(string Nick, string Text)>> GetMessagesAsync()
    {
        JsonElement lines = await Page.EvaluateAsync<JsonElement>("""
            () => Array.from(document.querySelectorAll('#messages li.message')).map(li => [
                li.querySelector('span.nick')?.textContent ?? null,
                li.querySelector('span.text')?.textContent ?? null])
            """).WaitAsync(Timeouts.Step);
        return [.. lines.EnumerateArray().Select(l => (l[0].GetString() ?? "<no span.nick>", l[1].GetString() ?? "<no span.text>"))];
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync().WaitAsync(Timeouts.Step);
}
