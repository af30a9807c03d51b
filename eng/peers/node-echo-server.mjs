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

import { parseServerArgs } from './lib/peer-common.mjs';
import { serveWsEcho } from './lib/ws-peer.mjs';

const NAME = 'node-echo-server';
const opts = parseServerArgs(NAME, 'node node-echo-server.mjs [--port 0] [--host 127.0.0.1] [--ignore-stdin]');
serveWsEcho(NAME, opts, false);
