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
import { MAX_PAYLOAD, logger, parseServerArgs, reportClosed, runServer } from './lib/peer-common.mjs';

// faye-websocket is CommonJS.
const require = createRequire(import.meta.url);
const WebSocket = require('faye-websocket');

const NAME = 'faye-echo-server';
const opts = parseServerArgs(NAME, 'node faye-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]');
const log = logger(NAME);
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
  const ws = new WebSocket(request, socket, body, [], { extensions: [], maxLength: MAX_PAYLOAD });
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
    reportClosed(tag, event.code !== 1006 && sawError === null, event.code, event.reason);
  });
});

server.on('clientError', (err, socket) => {
  log(`client error: ${err.message}`);
  socket.destroy();
});

runServer(NAME, server, opts, () => {
  for (const ws of sockets) ws.close(1001, 'server stopping');
});
server.listen(opts.port, opts.host);
