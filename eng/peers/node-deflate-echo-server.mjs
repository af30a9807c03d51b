#!/usr/bin/env node
// Ws4Net interop peer: a `ws` echo server WITH permessage-deflate (threshold 0:
// every echo compressed when the client negotiated the extension).
//
//   node node-deflate-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]
//        [--server-no-context-takeover] [--client-no-context-takeover]
//        [--server-max-window-bits N] [--client-max-window-bits N]
//
// Listens on any path, echoes every message with the same type, answers pings,
// echoes close frames. Prints exactly "LISTENING <port>" on stdout once ready;
// each accepted connection's negotiated Sec-WebSocket-Extensions goes to stderr.
// Exits on stdin EOF (unless --ignore-stdin) or SIGTERM/SIGINT.

import { logger, parseServerArgs } from './lib/peer-common.mjs';
import { DEFLATE_OPTIONS, serveWsEcho } from './lib/ws-peer.mjs';

const NAME = 'node-deflate-echo-server';
const { port, host, ignoreStdin, ...deflate } = parseServerArgs(
  NAME,
  'node node-deflate-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin] [--server-no-context-takeover] [--client-no-context-takeover] [--server-max-window-bits N] [--client-max-window-bits N]',
  { options: DEFLATE_OPTIONS, inline: 'none' },
);
const log = logger(NAME);

// threshold 0: every echo is compressed when the client negotiated the extension.
const wss = serveWsEcho(NAME, { port, host, ignoreStdin }, { threshold: 0, ...deflate });
wss.on('headers', (headers) => {
  const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  log(`answered ${line ?? '(no extension)'}`);
});
