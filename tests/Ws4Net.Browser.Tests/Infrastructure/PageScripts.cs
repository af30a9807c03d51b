namespace Ws4Net.Browser.Tests.Infrastructure;

/// <summary>Page-script pieces shared by the tests that drive the browser's WebSocket API directly.</summary>
internal static class PageScripts
{
    /// <summary>
    /// Continues a script that has just created <c>ws</c> for <c>url</c>: binary as ArrayBuffer, an inbox
    /// with <c>next()</c> (throws if the socket closes while a message is awaited), and waits for open.
    /// </summary>
    public const string SocketInbox = """
                  ws.binaryType = 'arraybuffer';
                  const inbox = [];
                  let wake = null;
                  let closed = null;
                  ws.onmessage = e => { inbox.push(e.data); if (wake) wake(); };
                  ws.onclose = e => { closed = { code: e.code, reason: e.reason, wasClean: e.wasClean }; if (wake) wake(); };
                  const next = async () => {
                    while (inbox.length === 0) {
                      if (closed) throw new Error('closed early: ' + JSON.stringify(closed));
                      await new Promise(r => wake = r);
                    }
                    return inbox.shift();
                  };
                  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('could not open ' + url)); });

        """;
}
