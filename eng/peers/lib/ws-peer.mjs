// The Node `ws` package under the shared peer plumbing: the client adapter of
// node-client.mjs and node-deflate-client.mjs, the echo server of
// node-echo-server.mjs and node-deflate-echo-server.mjs, and the command-line
// flags that set ws's permessage-deflate options.

import { WebSocket, WebSocketServer } from 'ws';
import { MAX_PAYLOAD, Peer, STEP_TIMEOUT_MS, integerIn, logger, runServer } from './peer-common.mjs';

// --{client,server}-no-context-takeover and --{client,server}-max-window-bits N,
// under the names of ws's perMessageDeflate options.
const windowBits = integerIn(8, 15);
export const DEFLATE_OPTIONS = {
  '--client-no-context-takeover': { key: 'clientNoContextTakeover' },
  '--server-no-context-takeover': { key: 'serverNoContextTakeover' },
  '--client-max-window-bits': { key: 'clientMaxWindowBits', parse: windowBits },
  '--server-max-window-bits': { key: 'serverMaxWindowBits', parse: windowBits },
};

// A `ws` client; perMessageDeflate is ws's option (false: no extension offered).
export class WsPeer extends Peer {
  constructor(url, perMessageDeflate) {
    super(url);
    this.perMessageDeflate = perMessageDeflate;
    this.extensions = null; // the server's Sec-WebSocket-Extensions answer
  }

  async connect() {
    this.ws = new WebSocket(this.url, {
      maxPayload: MAX_PAYLOAD,
      perMessageDeflate: this.perMessageDeflate,
      handshakeTimeout: STEP_TIMEOUT_MS,
    });
    this.ws.on('upgrade', (res) => {
      this.extensions = res.headers['sec-websocket-extensions'] ?? '';
    });
    this.ws.on('message', (data, isBinary) => this.received(data, isBinary));
    this.ws.on('pong', (data) => this.ponged(data));
    this.ws.on('close', (code, reason) => this.closed(code, reason.toString('utf8')));
    this.ws.on('error', (err) => this.failed(err));
    this.ws.on('open', () => this.notify());
    await this.until('connect', () => this.ws.readyState === WebSocket.OPEN, false);
  }

  // Resolves once ws has written the frame; `options` may add { fin: false }
  // (ws compresses every message once permessage-deflate is agreed: compress
  // defaults to true).
  send(data, binary, options = {}) {
    return new Promise((resolve) => {
      this.ws.send(data, { binary, ...options }, (err) => {
        if (err) this.error = err;
        resolve();
      });
    });
  }

  ping(step, payload) {
    this.ws.ping(payload);
    return this.until(step, () => this.pongs.shift(), false);
  }

  close(code, reason) {
    this.ws.close(code, reason);
  }
}

// A `ws` echo server on any path: every message goes back with the same type
// (compressed whenever permessage-deflate was agreed); pings and close frames
// are answered by ws itself. Returns the WebSocketServer.
export function serveWsEcho(name, opts, perMessageDeflate) {
  const log = logger(name);
  const wss = new WebSocketServer({
    host: opts.host,
    port: opts.port,
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate,
    clientTracking: true,
  });
  wss.on('connection', (socket, request) => {
    socket.on('message', (data, isBinary) => {
      socket.send(data, { binary: isBinary }, (err) => {
        if (err) log(`send failed: ${err.message}`);
      });
    });
    socket.on('error', (err) => log(`connection error (${request.url}): ${err.message}`));
  });
  runServer(name, wss, opts, () => {
    for (const client of wss.clients) client.terminate();
  });
  return wss;
}
