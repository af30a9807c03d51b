#!/usr/bin/env node
// Ws4Net interop peer for graceful-shutdown tests: a `ws` client that only listens.
//
//   node node-shutdown-client.mjs --url ws://127.0.0.1:PORT/path
//
// stdout: "OPEN" once connected, then one "MSG <text>" line per text message
// ("BIN <hex>" for binary), then "CLOSE <code> <reason>" when the close
// handshake completes, exit 0. Errors print "FAIL <reason>" and exit 1.
// Never sends a data message; answers the close as the library does.

import WebSocket from 'ws';

const at = process.argv.indexOf('--url');
if (at < 0 || !process.argv[at + 1]) {
  console.error('usage: node node-shutdown-client.mjs --url ws://127.0.0.1:PORT/path');
  process.exit(2);
}

const ws = new WebSocket(process.argv[at + 1], { perMessageDeflate: false, maxPayload: 0 });
const timer = setTimeout(() => { console.log('FAIL timeout'); process.exit(1); }, 60000);
ws.on('open', () => console.log('OPEN'));
ws.on('message', (data, isBinary) => console.log(isBinary ? 'BIN ' + data.toString('hex') : 'MSG ' + data.toString()));
ws.on('close', (code, reason) => {
  clearTimeout(timer);
  console.log(`CLOSE ${code} ${reason.toString()}`);
  process.exitCode = 0;
});
ws.on('error', (error) => { console.log('FAIL ' + error.message); process.exit(1); });
