#!/usr/bin/env node
// Ws4Net interop peer: a WebSocket client built on the `ws` package that runs
// a fixed conformance script against an echo endpoint.
//
//   node node-client.mjs --url ws://127.0.0.1:PORT/echo
//
// Steps, in order, each with a 10 s timeout:
//   text messages of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes
//     (repeating pattern with multi-byte characters "é€😀")
//   binary messages of 0, 125, 126, 65535, 65536, 1048576 pseudo-random bytes
//   ping with payload "ping!" -> expects a pong with the same payload
//   close 4000 "done"        -> expects the server's close frame to carry 4000
// stdout: one "OK <what> <detail>" line per check, then "ALL OK" (exit 0),
// or "FAIL <reason>" (exit 1). Usage errors exit 2.

import { WebSocket } from 'ws';

const STEP_TIMEOUT_MS = 10_000;
const MAX_PAYLOAD = 64 * 1024 * 1024;
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
  if (error) process.stderr.write(`node-client: ${error}\n`);
  process.stderr.write('usage: node node-client.mjs --url ws://127.0.0.1:PORT/echo\n');
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
    this.ws = new WebSocket(this.url, {
      maxPayload: MAX_PAYLOAD,
      perMessageDeflate: false,
      handshakeTimeout: STEP_TIMEOUT_MS,
    });
    this.ws.on('message', (data, isBinary) => {
      this.messages.push({ data, isBinary });
      this.notify();
    });
    this.ws.on('pong', (data) => {
      this.pongs.push(data);
      this.notify();
    });
    this.ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    this.ws.on('error', (err) => {
      this.error = err;
      this.notify();
    });
    this.ws.on('open', () => this.notify());
    await this.until('connect', () => this.ws.readyState === WebSocket.OPEN, false);
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

  send(data, binary) {
    return new Promise((resolve) => {
      this.ws.send(data, { binary }, (err) => {
        if (err) this.error = err;
        resolve();
      });
    });
  }

  nextMessage(step) {
    return this.until(step, () => this.messages.shift(), false);
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
    await peer.send(text, false);
    const reply = await peer.nextMessage(step);
    if (reply.isBinary) fail(`${step}: echo arrived as binary`);
    if (!reply.data.equals(bytes)) {
      fail(`${step}: echo differs (got ${reply.data.length} bytes, first difference at byte ${firstDifference(reply.data, bytes)})`);
    }
    ok(step);
  }

  for (const size of BINARY_SIZES) {
    const step = `binary ${size}`;
    const bytes = makeBinary(size);
    await peer.send(bytes, true);
    const reply = await peer.nextMessage(step);
    if (!reply.isBinary) fail(`${step}: echo arrived as text`);
    if (!reply.data.equals(bytes)) {
      fail(`${step}: echo differs (got ${reply.data.length} bytes, first difference at byte ${firstDifference(reply.data, bytes)})`);
    }
    ok(step);
  }

  {
    const step = `ping ${PING_PAYLOAD}`;
    const payload = Buffer.from(PING_PAYLOAD, 'utf8');
    peer.ws.ping(payload);
    const pong = await peer.until(step, () => peer.pongs.shift(), false);
    if (!pong.equals(payload)) fail(`${step}: pong payload was "${pong.toString('utf8')}"`);
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
