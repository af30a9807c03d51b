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

import { parseClientArgs, runClient, runEchoScript } from './lib/peer-common.mjs';
import { WsPeer } from './lib/ws-peer.mjs';

const { url } = parseClientArgs('node-client', 'node node-client.mjs --url ws://127.0.0.1:PORT/echo');
// No extension offered (perMessageDeflate: false); messages up to 64 MiB accepted.
runClient(() => runEchoScript(new WsPeer(url, false)));
