#!/usr/bin/env node
// Ws4Net interop peer: a WebSocket echo server built on `faye-websocket`
// (and its `websocket-driver`), attached to a plain Node http server's
// 'upgrade' event.
//
//   node faye-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]
//
// Listens on 127.0.0.1 (port 0 = ephemeral), on any path. Every message is
// echoed back with the same type (a String stays text, a Buffer stays binary);
// pings are answered with pongs and a peer's close frame is answered with the
// same code and reason (both default websocket-driver behaviour). No extension
// is enabled (no permessage-deflate); messages up to 64 MiB are accepted.
// Query parameters change the behaviour:
//
//   close=CODE   after the first echo, start the close handshake with CODE and
//                the reason "faye closing"
//   id=TAG       a tag for the CLOSED line below
//
// Prints exactly "LISTENING <port>" on stdout once ready. On stderr, one line
// per finished connection:
//
//   CLOSED id=<TAG or -> clean=<true|false> code=<code> reason=<reason>
//
// where code/reason are what faye reports in its close event (the peer's close
// frame, or 1006 when the TCP connection ended without one). Exits when stdin
// reaches EOF (unless --ignore-stdin) or on SIGTERM/SIGINT.

import http from 'node:http';
import { createRequire } from 'node:module';

// faye-websocket is CommonJS.
const require = createRequire(import.meta.url);
const WebSocket = require('faye-websocket');

const MAX_LENGTH = 64 * 1024 * 1024;

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
  if (error) process.stderr.write(`faye-echo-server: ${error}\n`);
  process.stderr.write('usage: node faye-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]\n');
  process.exit(error ? 2 : 0);
}

function log(message) {
  process.stderr.write(`faye-echo-server: ${message}\n`);
}

const opts = parseArgs(process.argv.slice(2));
const sockets = new Set();

const server = http.createServer((request, response) => {
  response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
  response.end('WebSocket upgrade required\n');
});

server.on('upgrade', (request, socket, body) => {
  if (!WebSocket.isWebSocket(request)) {
    socket.destroy();
    return;
  }

  const query = new URL(request.url, 'http://localhost').searchParams;
  const tag = query.get('id') || '-';
  const closeCode = query.has('close') ? Number(query.get('close')) : null;

  // No extensions: faye only negotiates what is passed in `extensions`.
  const ws = new WebSocket(request, socket, body, [], { extensions: [], maxLength: MAX_LENGTH });
  sockets.add(ws);
  let echoed = 0;
  let sawError = null;

  ws.on('message', (event) => {
    ws.send(event.data);
    echoed += 1;
    if (closeCode !== null && echoed === 1) ws.close(closeCode, 'faye closing');
  });
  ws.on('error', (event) => {
    sawError = event.message;
    log(`connection error (${request.url}): ${event.message}`);
  });
  ws.on('close', (event) => {
    sockets.delete(ws);
    const clean = event.code !== 1006 && sawError === null;
    const reason = String(event.reason ?? '').replace(/\n/g, ' ');
    process.stderr.write(`CLOSED id=${tag} clean=${clean} code=${event.code} reason=${reason}\n`);
  });
});

server.on('clientError', (err, socket) => {
  log(`client error: ${err.message}`);
  socket.destroy();
});

server.on('error', (err) => {
  log(`server error: ${err.message}`);
  process.exit(1);
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  // Writes to pipes and files are synchronous in Node on POSIX, so the line
  // is flushed by the time write() returns.
  process.stdout.write(`LISTENING ${port}\n`);
});

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  for (const ws of sockets) ws.close(1001, 'server stopping');
  server.close(() => process.exit(0));
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
