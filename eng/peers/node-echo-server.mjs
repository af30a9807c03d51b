#!/usr/bin/env node
// Ws4Net interop peer: a WebSocket echo server built on the `ws` package.
//
//   node node-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]
//
// Listens on 127.0.0.1 (port 0 = ephemeral) on any path, echoes every message
// back with the same type (text stays text, binary stays binary), answers
// pings with pongs and echoes close frames (both are default `ws` behaviour).
// Prints exactly "LISTENING <port>" on its own line once ready. Exits when
// stdin reaches EOF (unless --ignore-stdin) or on SIGTERM/SIGINT.
// Diagnostics go to stderr only; stdout carries nothing but the LISTENING line.

import { WebSocketServer } from 'ws';

const MAX_PAYLOAD = 64 * 1024 * 1024;

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', ignoreStdin: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`missing value for ${arg}`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': {
        const port = Number(next());
        if (!Number.isInteger(port) || port < 0 || port > 65535) usage('invalid --port');
        opts.port = port;
        break;
      }
      case '--host':
        opts.host = next();
        break;
      case '--ignore-stdin':
        opts.ignoreStdin = true;
        break;
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  return opts;
}

function usage(error) {
  if (error) process.stderr.write(`node-echo-server: ${error}\n`);
  process.stderr.write('usage: node node-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]\n');
  process.exit(error ? 2 : 0);
}

const opts = parseArgs(process.argv.slice(2));

const wss = new WebSocketServer({
  host: opts.host,
  port: opts.port,
  maxPayload: MAX_PAYLOAD,
  perMessageDeflate: false,
  clientTracking: true,
});

wss.on('connection', (socket, request) => {
  socket.on('message', (data, isBinary) => {
    socket.send(data, { binary: isBinary }, (err) => {
      if (err) process.stderr.write(`node-echo-server: send failed: ${err.message}\n`);
    });
  });
  socket.on('error', (err) => {
    process.stderr.write(`node-echo-server: connection error (${request.url}): ${err.message}\n`);
  });
});

wss.on('error', (err) => {
  process.stderr.write(`node-echo-server: server error: ${err.message}\n`);
  process.exit(1);
});

wss.on('listening', () => {
  const { port } = wss.address();
  // Writes to pipes and files are synchronous in Node on POSIX, so the line
  // is flushed by the time write() returns.
  process.stdout.write(`LISTENING ${port}\n`);
});

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`node-echo-server: stopping (${why})\n`);
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  // Never hang on shutdown.
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
