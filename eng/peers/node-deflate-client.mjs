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

import {
  closeCheck, cycle, echoCheck, fail, makeBinary, makeText, ok, parseClientArgs, pingCheck, runClient,
} from './lib/peer-common.mjs';
import { DEFLATE_OPTIONS, WsPeer } from './lib/ws-peer.mjs';

const SIZES = [0, 1, 125, 126, 65535, 65536, 1048576];

// Characters of `pattern` picked by xorshift32 from `seed`: text that compresses badly.
function* scrambled(pattern, seed) {
  const chars = Array.from(pattern);
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    yield chars[x % chars.length];
  }
}

const text = (byteLength, compressible) => makeText(byteLength, compressible
  ? cycle('permessage-deflate é€😀 ')
  : scrambled('Ws4Net é€😀 zqjxkvbwy0123456789', 0x2545f491 ^ byteLength));

function binary(length, compressible) {
  if (!compressible) return makeBinary(length);
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 7) % 61;
  return buf;
}

const { url, ...deflate } = parseClientArgs(
  'node-deflate-client',
  'node node-deflate-client.mjs --url ws://127.0.0.1:PORT/echo [--client-no-context-takeover] [--server-no-context-takeover] [--client-max-window-bits N] [--server-max-window-bits N]',
  { options: DEFLATE_OPTIONS, inline: 'none' },
);

runClient(async () => {
  // threshold 0: every message is compressed.
  const peer = new WsPeer(url, { threshold: 0, ...deflate });
  await peer.connect();
  ok(`connect ${url}`);
  if (!/^\s*permessage-deflate\b/i.test(peer.extensions ?? '')) fail(`extensions: the server did not accept permessage-deflate (answer: "${peer.extensions}")`);
  ok(`extensions ${peer.extensions}`);

  for (const compressible of [true, false]) {
    const kind = compressible ? 'compressible' : 'random';
    for (const size of SIZES) {
      const message = text(size, compressible);
      if (Buffer.byteLength(message, 'utf8') !== size) fail(`text ${kind} ${size}: generator produced a wrong length`);
      await echoCheck(peer, `text ${kind} ${size}`, message, false);
    }
    for (const size of SIZES) await echoCheck(peer, `binary ${kind} ${size}`, binary(size, compressible), true);
  }

  await echoCheck(peer, 'text empty after text', '', false);
  await echoCheck(peer, 'binary empty after binary', Buffer.alloc(0), true);
  await echoCheck(peer, 'text after empty', text(3000, true), false);

  {
    const step = 'fragments ending with an empty fragment';
    const whole = binary(30000, true);
    await peer.send(whole.subarray(0, 10000), true, { fin: false });
    await peer.send(whole.subarray(10000), true, { fin: false });
    await peer.send(Buffer.alloc(0), true, { fin: true });
    const reply = await peer.nextMessage(step);
    if (!reply.isBinary || !reply.data.equals(whole)) fail(`${step}: echo differs (got ${reply.data.length} bytes)`);
    ok(step);
    await echoCheck(peer, 'message after the empty fragment', text(5000, true), false);
  }

  await pingCheck(peer);
  await closeCheck(peer);
});
