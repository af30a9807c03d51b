#!/usr/bin/env node
// Ws4Net interop peer: a `ws` client WITH permessage-deflate (threshold 0: every
// message compressed) that runs a fixed script against an echo endpoint.
//
//   node node-deflate-client.mjs --url ws://127.0.0.1:PORT/echo
//        [--client-no-context-takeover] [--server-no-context-takeover]
//        [--client-max-window-bits N] [--server-max-window-bits N]
//
// Steps, each with a 10 s timeout:
//   the server's Sec-WebSocket-Extensions answer must name permessage-deflate
//   text of 0, 1, 125, 126, 65535, 65536, 1048576 UTF-8 bytes, compressible and random
//   binary of the same sizes, compressible and random
//   empty text and binary after non-empty ones (zlib's flush then emits nothing)
//   a message in three fragments whose last fragment is empty, then another message
//   ping "ping!" -> pong; close 4000 "done" -> the server's close carries 4000
// stdout: "OK extensions <answer>", one "OK <what>" line per check, then "ALL OK"
// (exit 0), or "FAIL <reason>" (exit 1). Usage errors exit 2.

import { WebSocket } from 'ws';

const STEP_TIMEOUT_MS = 10_000;
const MAX_PAYLOAD = 64 * 1024 * 1024;
const SIZES = [0, 1, 125, 126, 65535, 65536, 1048576];

function usage(error) {
  if (error) process.stderr.write(`node-deflate-client: ${error}\n`);
  process.stderr.write('usage: node node-deflate-client.mjs --url ws://127.0.0.1:PORT/echo [--client-no-context-takeover] [--server-no-context-takeover] [--client-max-window-bits N] [--server-max-window-bits N]\n');
  process.exit(error ? 2 : 0);
}

function parseArgs(argv) {
  const opts = { url: undefined, deflate: { threshold: 0 } };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => { if (i + 1 >= argv.length) usage(`missing value for ${arg}`); return argv[++i]; };
    const bits = () => { const n = Number(value()); if (!Number.isInteger(n) || n < 8 || n > 15) usage(`invalid ${arg}`); return n; };
    switch (arg) {
      case '--url': opts.url = value(); break;
      case '--client-no-context-takeover': opts.deflate.clientNoContextTakeover = true; break;
      case '--server-no-context-takeover': opts.deflate.serverNoContextTakeover = true; break;
      case '--client-max-window-bits': opts.deflate.clientMaxWindowBits = bits(); break;
      case '--server-max-window-bits': opts.deflate.serverMaxWindowBits = bits(); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${arg}`);
    }
  }
  if (!opts.url) usage('--url is required');
  return opts;
}

const ok = (line) => process.stdout.write(`OK ${line}\n`);
function fail(reason) {
  process.stdout.write(`FAIL ${reason}\n`);
  process.exit(1);
}

function makeText(byteLength, compressible) {
  const pattern = Array.from(compressible ? 'permessage-deflate é€😀 ' : 'Ws4Net é€😀 zqjxkvbwy0123456789');
  const parts = [];
  let used = 0;
  let x = (0x2545f491 ^ byteLength) >>> 0 || 1;
  let k = 0;
  while (used < byteLength) {
    let ch;
    if (compressible) {
      ch = pattern[k++ % pattern.length];
    } else {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      ch = pattern[x % pattern.length];
    }
    const len = Buffer.byteLength(ch, 'utf8');
    if (used + len <= byteLength) { parts.push(ch); used += len; } else { parts.push('.'); used += 1; }
  }
  return parts.join('');
}

function makeBinary(length, compressible) {
  const buf = Buffer.alloc(length);
  let x = (0x9e3779b9 ^ length) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    if (compressible) { buf[i] = (i * 7) % 61; continue; }
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

class Peer {
  constructor(url, deflate) {
    this.url = url;
    this.deflate = deflate;
    this.messages = [];
    this.pongs = [];
    this.closeInfo = null;
    this.error = null;
    this.waiter = null;
    this.extensions = null;
  }

  notify() { const w = this.waiter; if (w) { this.waiter = null; w(); } }

  async connect() {
    this.ws = new WebSocket(this.url, { maxPayload: MAX_PAYLOAD, perMessageDeflate: this.deflate, handshakeTimeout: STEP_TIMEOUT_MS });
    this.ws.on('upgrade', (res) => { this.extensions = res.headers['sec-websocket-extensions'] ?? ''; });
    this.ws.on('message', (data, isBinary) => { this.messages.push({ data, isBinary }); this.notify(); });
    this.ws.on('pong', (data) => { this.pongs.push(data); this.notify(); });
    this.ws.on('close', (code, reason) => { this.closeInfo = { code, reason: reason.toString('utf8') }; this.notify(); });
    this.ws.on('error', (err) => { this.error = err; this.notify(); });
    this.ws.on('open', () => this.notify());
    await this.until('connect', () => this.ws.readyState === WebSocket.OPEN, false);
  }

  async until(step, predicate, allowClosed) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (this.error) fail(`${step}: error: ${this.error.message}`);
      if (this.closeInfo && !allowClosed) fail(`${step}: connection closed unexpectedly (code ${this.closeInfo.code}, reason "${this.closeInfo.reason}")`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) fail(`${step}: timeout after ${STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  send(data, options) {
    return new Promise((resolve) => {
      this.ws.send(data, { compress: true, ...options }, (err) => { if (err) this.error = err; resolve(); });
    });
  }

  nextMessage(step) { return this.until(step, () => this.messages.shift(), false); }

  async echo(step, payload, binary) {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    await this.send(payload, { binary });
    const reply = await this.nextMessage(step);
    if (reply.isBinary !== binary) fail(`${step}: echo arrived as ${reply.isBinary ? 'binary' : 'text'}`);
    if (!reply.data.equals(bytes)) fail(`${step}: echo differs (got ${reply.data.length} bytes, first difference at byte ${firstDifference(reply.data, bytes)})`);
    ok(step);
  }
}

async function main() {
  const { url, deflate } = parseArgs(process.argv.slice(2));
  const peer = new Peer(url, deflate);
  await peer.connect();
  ok(`connect ${url}`);
  if (!/^\s*permessage-deflate\b/i.test(peer.extensions ?? '')) fail(`extensions: the server did not accept permessage-deflate (answer: "${peer.extensions}")`);
  ok(`extensions ${peer.extensions}`);

  for (const compressible of [true, false]) {
    const kind = compressible ? 'compressible' : 'random';
    for (const size of SIZES) {
      const text = makeText(size, compressible);
      if (Buffer.byteLength(text, 'utf8') !== size) fail(`text ${kind} ${size}: generator produced a wrong length`);
      await peer.echo(`text ${kind} ${size}`, text, false);
    }
    for (const size of SIZES) await peer.echo(`binary ${kind} ${size}`, makeBinary(size, compressible), true);
  }

  await peer.echo('text empty after text', '', false);
  await peer.echo('binary empty after binary', Buffer.alloc(0), true);
  await peer.echo('text after empty', makeText(3000, true), false);

  {
    const step = 'fragments ending with an empty fragment';
    const whole = makeBinary(30000, true);
    await peer.send(whole.subarray(0, 10000), { binary: true, fin: false });
    await peer.send(whole.subarray(10000), { binary: true, fin: false });
    await peer.send(Buffer.alloc(0), { binary: true, fin: true });
    const reply = await peer.nextMessage(step);
    if (!reply.isBinary || !reply.data.equals(whole)) fail(`${step}: echo differs (got ${reply.data.length} bytes)`);
    ok(step);
    await peer.echo('message after the empty fragment', makeText(5000, true), false);
  }

  {
    const step = 'ping ping!';
    const payload = Buffer.from('ping!', 'utf8');
    peer.ws.ping(payload);
    const pong = await peer.until(step, () => peer.pongs.shift(), false);
    if (!pong.equals(payload)) fail(`${step}: pong payload was "${pong.toString('utf8')}"`);
    ok(step);
  }

  {
    const step = 'close 4000';
    peer.ws.close(4000, 'done');
    const info = await peer.until(step, () => peer.closeInfo, true);
    if (info.code !== 4000) fail(`${step}: server close frame carried code ${info.code} (reason "${info.reason}")`);
    ok(`${step} ${info.reason}`.trimEnd());
  }

  process.stdout.write('ALL OK\n');
  process.exit(0);
}

main().catch((err) => fail(`unexpected: ${err && err.stack ? err.stack.split('\n')[0] : err}`));
