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

// faye-websocket is CommonJS.
const require = createRequire(import.meta.url);
const WebSocket = require('faye-websocket');

const STEP_TIMEOUT_MS = 10_000;
const MAX_LENGTH = 64 * 1024 * 1024;
const TEXT_SIZES = [0, 1, 125, 126, 65535, 65536, 1048576];
const BINARY_SIZES = [0, 125, 126, 65535, 65536, 1048576];
const PING_PAYLOAD = 'ping!';
const CLOSE_CODE = 4000;
const CLOSE_REASON = 'done';

function parseArgs(argv) {
  let url;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--url') {
      if (i + 1 >= argv.length) usage('missing value for --url');
      url = argv[++i];
    } else if (arg.startsWith('--url=')) {
      url = arg.slice('--url='.length);
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  if (!url) usage('--url is required');
  return { url };
}

function usage(error) {
  if (error) process.stderr.write(`faye-client: ${error}\n`);
  process.stderr.write('usage: node faye-client.mjs --url ws://127.0.0.1:PORT/echo\n');
  process.exit(error ? 2 : 0);
}

function ok(line) {
  process.stdout.write(`OK ${line}\n`);
}

function fail(reason) {
  process.stdout.write(`FAIL ${reason}\n`);
  process.exit(1);
}

// A string whose UTF-8 encoding is exactly `byteLength` bytes, cycling through
// a pattern that mixes 1-, 2-, 3- and 4-byte characters; ASCII pads the tail.
function makeText(byteLength) {
  const pattern = Array.from('Ws4Net é€😀 ');
  const parts = [];
  let used = 0;
  let k = 0;
  while (used < byteLength) {
    const ch = pattern[k++ % pattern.length];
    const len = Buffer.byteLength(ch, 'utf8');
    if (used + len <= byteLength) {
      parts.push(ch);
      used += len;
    } else {
      parts.push('.');
      used += 1;
    }
  }
  return parts.join('');
}

// Deterministic pseudo-random bytes (xorshift32), seeded by the length.
function makeBinary(length) {
  const buf = Buffer.alloc(length);
  let x = (0x9e3779b9 ^ length) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

// Turns the socket's events into awaitable queues.
class Peer {
  constructor(url) {
    this.url = url;
    this.opened = false;
    this.messages = [];
    this.pongs = [];
    this.closeInfo = null;
    this.error = null;
    this.waiter = null;
  }

  notify() {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w();
    }
  }

  async connect() {
    // No extensions: faye only negotiates what is passed in `extensions`.
    this.ws = new WebSocket.Client(this.url, [], { extensions: [], maxLength: MAX_LENGTH });
    this.ws.on('open', () => {
      this.opened = true;
      this.notify();
    });
    this.ws.on('message', (event) => {
      this.messages.push(event.data);
      this.notify();
    });
    this.ws.on('close', (event) => {
      this.closeInfo = { code: event.code, reason: String(event.reason ?? '') };
      this.notify();
    });
    this.ws.on('error', (event) => {
      // faye reports errors, then closes; keep the first one for the FAIL line.
      this.error = this.error ?? new Error(event.message);
      this.notify();
    });
    await this.until('connect', () => this.opened, false);
  }

  // Waits until predicate() is truthy; fails on timeout, error or (unless
  // allowClosed) an unexpected close.
  async until(step, predicate, allowClosed) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (this.error) fail(`${step}: error: ${this.error.message}`);
      if (this.closeInfo && !allowClosed) {
        fail(`${step}: connection closed unexpectedly (code ${this.closeInfo.code}, reason "${this.closeInfo.reason}")`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) fail(`${step}: timeout after ${STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  nextMessage(step) {
    // A message may be an empty string, so wrap it to keep it truthy.
    return this.until(step, () => (this.messages.length > 0 ? { data: this.messages.shift() } : null), false);
  }
}

async function main() {
  const { url } = parseArgs(process.argv.slice(2));
  const peer = new Peer(url);
  await peer.connect();
  ok(`connect ${url}`);

  for (const size of TEXT_SIZES) {
    const step = `text ${size}`;
    const text = makeText(size);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length !== size) fail(`${step}: generator produced ${bytes.length} bytes`);
    peer.ws.send(text);
    const { data } = await peer.nextMessage(step);
    if (typeof data !== 'string') fail(`${step}: echo arrived as binary`);
    const got = Buffer.from(data, 'utf8');
    if (!got.equals(bytes)) {
      fail(`${step}: echo differs (got ${got.length} bytes, first difference at byte ${firstDifference(got, bytes)})`);
    }
    ok(step);
  }

  for (const size of BINARY_SIZES) {
    const step = `binary ${size}`;
    const bytes = makeBinary(size);
    peer.ws.send(bytes);
    const { data } = await peer.nextMessage(step);
    if (!Buffer.isBuffer(data)) fail(`${step}: echo arrived as text`);
    if (!data.equals(bytes)) {
      fail(`${step}: echo differs (got ${data.length} bytes, first difference at byte ${firstDifference(data, bytes)})`);
    }
    ok(step);
  }

  {
    const step = `ping ${PING_PAYLOAD}`;
    let ponged = false;
    // faye calls back when a pong with exactly this payload arrives.
    if (!peer.ws.ping(PING_PAYLOAD, () => {
      ponged = true;
      peer.notify();
    })) {
      fail(`${step}: faye refused to send the ping`);
    }
    await peer.until(step, () => ponged, false);
    ok(step);
  }

  {
    const step = `close ${CLOSE_CODE}`;
    peer.ws.close(CLOSE_CODE, CLOSE_REASON);
    const info = await peer.until(step, () => peer.closeInfo, true);
    if (info.code !== CLOSE_CODE) {
      fail(`${step}: server close frame carried code ${info.code} (reason "${info.reason}")`);
    }
    ok(`${step} ${info.reason}`.trimEnd());
  }

  process.stdout.write('ALL OK\n');
  process.exit(0);
}

main().catch((err) => fail(`unexpected: ${err && err.stack ? err.stack.split('\n')[0] : err}`));
