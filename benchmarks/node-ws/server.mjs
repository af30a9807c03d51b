// Reference server for the Ws4Net load benchmarks (eng/bench.sh): Node `ws` with `bufferutil`
// (native masking), no compression.
//   /echo       sends every message back with the same type
//   /broadcast  relays every message received to every connected /broadcast client
// Usage: node server.mjs [--port N] [--host 127.0.0.1]. Prints "node-ws ready on ws://HOST:PORT" when listening.
import http from 'node:http';
import { WebSocketServer } from 'ws';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number.parseInt(option('--port', '9003'), 10);
const host = option('--host', '127.0.0.1');

// A slow broadcast receiver is dropped beyond this much unsent data (bytes), so it cannot grow
// memory without bound; the same role as the bounded queues in the other servers.
const MAX_BUFFERED = 64 * 1024 * 1024;

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
const broadcast = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, clientTracking: true });

echo.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {});
});

broadcast.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const member of broadcast.clients) {
      if (member.readyState !== 1) continue;
      if (member.bufferedAmount > MAX_BUFFERED) {
        member.terminate();
        continue;
      }
      member.send(data, { binary: isBinary });
    }
  });
  socket.on('error', () => {});
});

server.on('upgrade', (req, socket, head) => {
  const path = (req.url || '').split('?')[0];
  const target = path === '/echo' ? echo : path === '/broadcast' ? broadcast : null;
  if (target === null) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(`node-ws ready on ws://${host}:${address.port}`);
});

function stop() {
  for (const s of [...echo.clients, ...broadcast.clients]) s.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
