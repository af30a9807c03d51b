#!/usr/bin/env node
// Ws4Net interop peer: a WebSocket client built on `faye-websocket`'s
// WebSocket.Client that runs a fixed conformance script against an echo
// endpoint.
//
//   node faye-client.mjs --url ws://127.0.0.1:PORT/echo
//
// faye-websocket sends every message as one frame (it has no fragmentation
// API), so this script sends no fragmented message. No extension is enabled
// (no permessage-deflate); messages up to 64 MiB are accepted.
//
// Steps, in order, each with a 10 s timeout:
//   text messages of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes
//     (repeating pattern with multi-byte characters "é€😀")
//   binary messages of 0, 125, 126, 65535, 65536, 1048576 pseudo-random bytes
//   ping with payload "ping!" -> expects a pong with the same payload
//   close 4000 "done"        -> expects the server's close frame to carry 4000
// stdout: one "OK <what> <detail>" line per check, then "ALL OK" (exit 0),
// or "FAIL <reason>" (exit 1). Usage errors exit 2.

import { createRequire } from 'node:module';
import { MAX_PAYLOAD, Peer, fail, parseClientArgs, runClient, runEchoScript } from './lib/peer-common.mjs';

// faye-websocket is CommonJS.
const require = createRequire(import.meta.url);
const WebSocket = require('faye-websocket');

class FayePeer extends Peer {
  async connect() {
    this.opened = false;
    // No extensions: faye only negotiates what is passed in `extensions`.
    this.ws = new WebSocket.Client(this.url, [], { extensions: [], maxLength: MAX_PAYLOAD });
    this.ws.on('open', () => {
      this.opened = true;
      this.notify();
    });
    // faye hands over a String for text and a Buffer for binary.
    this.ws.on('message', ({ data }) => {
      const isBinary = typeof data !== 'string';
      this.received(isBinary ? data : Buffer.from(data, 'utf8'), isBinary);
    });
    this.ws.on('close', (event) => this.closed(event.code, String(event.reason ?? '')));
    // faye reports errors, then closes; keep the first one for the FAIL line.
    this.ws.on('error', (event) => this.failed(this.error ?? new Error(event.message)));
    await this.until('connect', () => this.opened, false);
  }

  // faye picks the frame type from the data: a String is text, a Buffer binary.
  send(data) {
    this.ws.send(data);
  }

  async ping(step, payload) {
    let ponged = false;
    // faye calls back when a pong with exactly this payload arrives.
    if (!this.ws.ping(payload.toString('utf8'), () => {
      ponged = true;
      this.notify();
    })) {
      fail(`${step}: faye refused to send the ping`);
    }
    await this.until(step, () => ponged, false);
    return payload;
  }

  close(code, reason) {
    this.ws.close(code, reason);
  }
}

const { url } = parseClientArgs('faye-client', 'node faye-client.mjs --url ws://127.0.0.1:PORT/echo');
runClient(() => runEchoScript(new FayePeer(url)));
