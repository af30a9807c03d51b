using System.Text.Json;
using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Browser.Tests;

/// <summary>
/// Chromium's own WebSocket implementation (the page's <c>WebSocket</c> API, driven by script) as a
/// peer of the demo server: binary messages at every payload length encoding, close codes both ways.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserWebSocketApiTests(BrowserFixture browser)
{
    private const string EchoScript = """
        async (url) => {
          const sizes = [0, 125, 126, 65535, 65536, 1048576];
          const ws = new WebSocket(url);
        """ + PageScripts.SocketInbox + """
          const results = [];
          for (const size of sizes) {
            const bytes = new Uint8Array(size);
            let x = (size * 2654435761) >>> 0 || 1;
            for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; bytes[i] = x & 0xff; }
            ws.send(bytes);
            const echo = await next();
            if (!(echo instanceof ArrayBuffer)) { results.push(`binary ${size}: echo arrived as ${typeof echo}`); continue; }
            const got = new Uint8Array(echo);
            let same = got.length === bytes.length;
            for (let i = 0; same && i < got.length; i++) same = got[i] === bytes[i];
            results.push(same ? `binary ${size}: ok` : `binary ${size}: differs (got ${got.length} bytes)`);
          }
          const text = 'Grüße 😀 '.repeat(20000);
          ws.send(text);
          const textEcho = await next();
          results.push(textEcho === text ? `text ${new TextEncoder().encode(text).length}: ok` : `text: differs (type ${typeof textEcho})`);
          ws.close(4000, 'done');
          while (!closed) await new Promise(r => wake = r);
          results.push(`close ${closed.code} clean=${closed.wasClean}`);
          return results;
        }
        """;

    private const string BinaryToChatScript = """
        async (url) => {
          const ws = new WebSocket(url);
          await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('could not open ' + url)); });
          const closed = new Promise(resolve => ws.onclose = e => resolve(`close ${e.code} clean=${e.wasClean}`));
          ws.send(new Uint8Array([1, 2, 3]));
          return await closed;
        }
        """;

    [Fact]
    public async Task ChromiumWebSocket_EchoesBinaryOfEveryLengthEncoding_AndCloses4000()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        await using ChatPage page = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

        JsonElement results = await page.Page.EvaluateAsync<JsonElement>(EchoScript, $"ws://127.0.0.1:{server.Port}/echo").WaitAsync(Timeouts.Step * 3);
        string[] lines = [.. results.EnumerateArray().Select(r => r.GetString() ?? "null")];

        string[] expected =
        [
            "binary 0: ok",
            "binary 125: ok",
            "binary 126: ok",
            "binary 65535: ok",
            "binary 65536: ok",
            "binary 1048576: ok",
            "text 260000: ok",
            "close 4000 clean=true",
        ];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public async Task ChromiumWebSocket_BinaryOnChat_IsRefusedWith1003()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        await using ChatPage page = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

        string result = await page.Page.EvaluateAsync<string>(BinaryToChatScript, $"ws://127.0.0.1:{server.Port}/chat").WaitAsync(Timeouts.Step * 2);
        Assert.Equal("close 1003 clean=true", result);
    }
}
