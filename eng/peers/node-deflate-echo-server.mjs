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

import { WebSocketServer } from 'ws';

const MAX_PAYLOAD = 64 * 1024 * 1024;

function usage(error) {
  if (error) process.stderr.write(`node-deflate-echo-server: ${error}\n`);
  process.stderr.write('usage: node node-deflate-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin] [--server-no-context-takeover] [--client-no-context-takeover] [--server-max-window-bits N] [--client-max-window-bits N]\n');
  process.exit(error ? 2 : 0);
}

const opts = { port: 0, host: '127.0.0.1', ignoreStdin: false, deflate: { threshold: 0 } };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  const value = () => { if (i + 1 >= argv.length) usage(`missing value for ${arg}`); return argv[++i]; };
  const bits = () => { const n = Number(value()); if (!Number.isInteger(n) || n < 8 || n > 15) usage(`invalid ${arg}`); return n; };
  switch (arg) {
    case '--port': {
      const port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535) usage('invalid --port');
      opts.port = port;
      break;
    }
    case '--host': opts.host = value(); break;
    case '--ignore-stdin': opts.ignoreStdin = true; break;
    case '--server-no-context-takeover': opts.deflate.serverNoContextTakeover = true; break;
    case '--client-no-context-takeover': opts.deflate.clientNoContextTakeover = true; break;
    case '--server-max-window-bits': opts.deflate.serverMaxWindowBits = bits(); break;
    case '--client-max-window-bits': opts.deflate.clientMaxWindowBits = bits(); break;
    case '-h': case '--help': usage(); break;
    default: usage(`unknown argument ${arg}`);
  }
}

const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: MAX_PAYLOAD, perMessageDeflate: opts.deflate, clientTracking: true });

wss.on('headers', (headers) => {
  const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  process.stderr.write(`node-deflate-echo-server: answered ${line ?? '(no extension)'}\n`);
});

wss.on('connection', (socket, request) => {
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary, compress: true }, (err) => {
      if (err) process.stderr.write(`node-deflate-echo-server: send failed: ${err.message}\n`);
    });
  });
  socket.on('error', (err) => process.stderr.write(`node-deflate-echo-server: connection error (${request.url}): ${err.message}\n`));
});

wss.on('error', (err) => {
  process.stderr.write(`node-deflate-echo-server: server error: ${err.message}\n`);
  process.exit(1);
});

wss.on('listening', () => process.stdout.write(`LISTENING ${wss.address().port}\n`));

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`node-deflate-echo-server: stopping (${why})\n`);
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (!opts.ignoreStdin) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
