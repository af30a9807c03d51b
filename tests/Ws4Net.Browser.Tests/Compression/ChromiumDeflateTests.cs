using System.Collections.Concurrent;
using System.Text.Json;
using Ws4Net.Browser.Tests.Infrastructure;

namespace Ws4Net.Browser.Tests.Compression;

/// <summary>
/// Chromium's WebSocket, which offers <c>permessage-deflate; client_max_window_bits</c> on every
/// connection, against the demo server (compression on by default): the page sees the extension in
/// <c>ws.extensions</c>, and text and binary echoes of 10 B, 10 KB and 1 MB, compressible and random,
/// come back exactly; the server-side connection holds the agreement.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ChromiumDeflateTests(BrowserFixture browser)
{
    private const string EchoScript = """
        async (url) => {
          const ws = new WebSocket(url);
        """ + PageScripts.SocketInbox + """
          const results = [`extensions ${ws.extensions}`];

          // Deterministic contents: a repeated phrase (compressible) or xorshift noise (not).
          const randomBytes = (size, seed) => {
            const bytes = new Uint8Array(size);
            let x = (seed * 2654435761) >>> 0 || 1;
            for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; bytes[i] = x & 0xff; }
            return bytes;
          };
          const compressibleText = size => 'permessage-deflate from Chromium, grüße 😀 '.repeat(Math.ceil(size / 40)).slice(0, size);
          const randomText = (size, seed) => {
            const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éß€中😀';
            const chars = Array.from(alphabet);
            const noise = randomBytes(size, seed);
            let s = '';
            for (let i = 0; i < size; i++) s += chars[noise[i] % chars.length];
            return s;
          };
          const sameBytes = (a, b) => {
            if (a.length !== b.length) return false;
            for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
            return true;
          };

          for (const size of [10, 10000, 1000000]) {
            for (const kind of ['compressible', 'random']) {
              const text = kind === 'compressible' ? compressibleText(size) : randomText(size, size);
              ws.send(text);
              const echo = await next();
              results.push(`text ${kind} ${size}: ${echo === text ? 'ok' : 'differs (' + typeof echo + ')'}`);

              const bytes = kind === 'compressible' ? new TextEncoder().encode(compressibleText(size)).slice(0, size) : randomBytes(size, size + 1);
              ws.send(bytes);
              const binaryEcho = await next();
              const same = binaryEcho instanceof ArrayBuffer && sameBytes(new Uint8Array(binaryEcho), bytes);
              results.push(`binary ${kind} ${size}: ${same ? 'ok' : 'differs'}`);
            }
          }

          ws.send('');
          results.push(`text empty: ${(await next()) === '' ? 'ok' : 'differs'}`);
          ws.close(1000, 'done');
          while (!closed) await new Promise(r => wake = r);
          results.push(`close ${closed.code} clean=${closed.wasClean}`);
          return results;
        }
        """;

    [Fact]
    public async Task Chromium_negotiates_deflate_and_echoes_are_exact()
    {
        await using DemoServerHost server = await DemoServerHost.StartAsync().WaitAsync(Timeouts.Step);
        var echoConnections = new ConcurrentQueue<WebSocketConnection>();
        server.Server.ConnectionOpened += connection =>
        {
            if (connection.Request?.Path == "/echo")
            {
                echoConnections.Enqueue(connection);
            }
        };
        await using ChatPage page = await ChatPage.OpenAsync(browser, server.PageUrl).WaitAsync(Timeouts.Step * 2);

        JsonElement results = await page.Page.EvaluateAsync<JsonElement>(EchoScript, $"ws://127.0.0.1:{server.Port}/echo").WaitAsync(Timeouts.Step * 3);
        string[] lines = [.. results.EnumerateArray().Select(r => r.GetString() ?? "null")];

        var expected = new List<string> { "extensions permessage-deflate; server_no_context_takeover" };
        foreach (int size in new[] { 10, 10000, 1000000 })
        {
            foreach (string kind in new[] { "compressible", "random" })
            {
                expected.Add($"text {kind} {size}: ok");
                expected.Add($"binary {kind} {size}: ok");
            }
        }

        expected.Add("text empty: ok");
        expected.Add("close 1000 clean=true");
        Assert.Equal(expected, lines);
        Assert.Empty(page.PageErrors);

        WebSocketConnection serverSide = Assert.Single(echoConnections);
        Assert.NotNull(serverSide.PerMessageDeflate);
        Assert.Equal("permessage-deflate; server_no_context_takeover", serverSide.PerMessageDeflate.ToHeaderValue());
    }
}
