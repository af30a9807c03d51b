// What the Node interop peers in eng/peers have in common, whatever WebSocket
// library they drive: the command line, the client check script and its
// stdout contract ("OK ..." lines, then "ALL OK" or "FAIL <reason>"), and the
// echo servers' lifecycle ("LISTENING <port>", stdin EOF / SIGTERM / SIGINT,
// "CLOSED ..." lines on stderr). Nothing here imports a WebSocket library: a
// client script hands the checks a Peer subclass (an adapter that connects,
// sends, pings and closes with its library), a server script hands
// runServer() its listening server.

export const STEP_TIMEOUT_MS = 10_000;
export const MAX_PAYLOAD = 64 * 1024 * 1024;
export const TEXT_SIZES = [0, 1, 125, 126, 65535, 65536, 1048576];
export const BINARY_SIZES = [0, 125, 126, 65535, 65536, 1048576];
export const PING_PAYLOAD = 'ping!';
export const CLOSE_CODE = 4000;
export const CLOSE_REASON = 'done';

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

const verbatim = (value) => value;

// A value parser for an integer in [min, max]; undefined marks an invalid value.
export function integerIn(min, max) {
  return (value) => {
    const n = Number(value);
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  };
}

export const CLIENT_OPTIONS = { '--url': { key: 'url', parse: verbatim } };

export const SERVER_OPTIONS = {
  '--port': { key: 'port', parse: integerIn(0, 65535) },
  '--host': { key: 'host', parse: verbatim },
  '--ignore-stdin': { key: 'ignoreStdin' },
};

export function logger(name) {
  return (message) => process.stderr.write(`${name}: ${message}\n`);
}

// Parses argv against `options` ({ '--name': { key, parse } }): an option with
// `parse` takes the next argument as its value (parse returns undefined for an
// invalid one), an option without it is a flag (opts[key] = true). -h/--help
// print the usage (exit 0); anything else wrong is a usage error (exit 2).
// `inline` says which `--name=value` spellings a script accepts: 'none', 'values'
// (options that take a value) or 'any' (every `--` argument is split at its first
// '=' before it is looked up; a flag ignores the value).
export function parseArgs(argv, { name, synopsis, options, defaults = {}, required = [], inline = 'none' }) {
  const usage = (error) => {
    if (error) process.stderr.write(`${name}: ${error}\n`);
    process.stderr.write(`usage: ${synopsis}\n`);
    process.exit(error ? 2 : 0);
  };
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (inline !== 'none' && arg.startsWith('--') && eq > 0 && (inline === 'any' || options[arg.slice(0, eq)]?.parse)) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '-h' || arg === '--help') usage();
    if (!Object.hasOwn(options, arg)) usage(`unknown argument ${arg}`);
    const option = options[arg];
    if (!option.parse) {
      opts[option.key] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) usage(`missing value for ${arg}`);
      value = argv[++i];
    }
    const parsed = option.parse(value);
    if (parsed === undefined) usage(`invalid ${arg}`);
    opts[option.key] = parsed;
  }
  for (const option of required) if (!opts[options[option].key]) usage(`${option} is required`);
  return opts;
}

// --url URL (required), plus the script's own `options`.
export function parseClientArgs(name, synopsis, { options = {}, inline = 'values' } = {}) {
  return parseArgs(process.argv.slice(2), { name, synopsis, options: { ...CLIENT_OPTIONS, ...options }, required: ['--url'], inline });
}

// [--port 0] [--host 127.0.0.1] [--ignore-stdin], plus the script's own `options`.
export function parseServerArgs(name, synopsis, { options = {}, inline = 'any' } = {}) {
  return parseArgs(process.argv.slice(2), {
    name,
    synopsis,
    options: { ...SERVER_OPTIONS, ...options },
    defaults: { port: 0, host: '127.0.0.1', ignoreStdin: false },
    inline,
  });
}

// ---------------------------------------------------------------------------
// Client: verdict lines and payloads
// ---------------------------------------------------------------------------

export function ok(line) {
  process.stdout.write(`OK ${line}\n`);
}

export function fail(reason) {
  process.stdout.write(`FAIL ${reason}\n`);
  process.exit(1);
}

// Runs the async `main`, then prints "ALL OK" (exit 0); an exception is a FAIL line.
export function runClient(main) {
  main().then(
    () => {
      process.stdout.write('ALL OK\n');
      process.exit(0);
    },
    (err) => fail(`unexpected: ${err && err.stack ? err.stack.split('\n')[0] : err}`),
  );
}

// The characters of `pattern`, round and round.
export function* cycle(pattern) {
  const chars = Array.from(pattern);
  for (let k = 0; ; k++) yield chars[k % chars.length];
}

// A string whose UTF-8 encoding is exactly `byteLength` bytes, taken from the
// iterator `chars` (by default a pattern that mixes 1-, 2-, 3- and 4-byte
// characters); a '.' stands in for a character that does not fit the tail.
export function makeText(byteLength, chars = cycle('Ws4Net é€😀 ')) {
  const parts = [];
  let used = 0;
  while (used < byteLength) {
    const ch = chars.next().value;
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
export function makeBinary(length) {
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

export function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

// ---------------------------------------------------------------------------
// Client: the socket's events as awaitable queues, and the checks
// ---------------------------------------------------------------------------

// The base of a library adapter. A subclass feeds the socket's events in
// through received() / ponged() / closed() / failed() and implements
//   connect()                  opens this.url; resolves once open (use until())
//   send(data, binary)         sends a string (text) or a Buffer (binary)
//   ping(step, payload)        pings with the Buffer payload; resolves to the pong's payload
//   close(code, reason)        starts the close handshake
export class Peer {
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

  // `data` is a Buffer, also for a text message.
  received(data, isBinary) {
    this.messages.push({ data, isBinary });
    this.notify();
  }

  ponged(data) {
    this.pongs.push(data);
    this.notify();
  }

  closed(code, reason) {
    this.closeInfo = { code, reason };
    this.notify();
  }

  failed(err) {
    this.error = err;
    this.notify();
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
    return this.until(step, () => this.messages.shift(), false);
  }
}

// Sends `payload` (a string is text, a Buffer binary) and checks that the echo
// has the same type and bytes.
export async function echoCheck(peer, step, payload, binary) {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  await peer.send(payload, binary);
  const reply = await peer.nextMessage(step);
  if (reply.isBinary !== binary) fail(`${step}: echo arrived as ${reply.isBinary ? 'binary' : 'text'}`);
  if (!reply.data.equals(bytes)) {
    fail(`${step}: echo differs (got ${reply.data.length} bytes, first difference at byte ${firstDifference(reply.data, bytes)})`);
  }
  ok(step);
}

export async function pingCheck(peer) {
  const step = `ping ${PING_PAYLOAD}`;
  const payload = Buffer.from(PING_PAYLOAD, 'utf8');
  const pong = await peer.ping(step, payload);
  if (!pong.equals(payload)) fail(`${step}: pong payload was "${pong.toString('utf8')}"`);
  ok(step);
}

export async function closeCheck(peer) {
  const step = `close ${CLOSE_CODE}`;
  peer.close(CLOSE_CODE, CLOSE_REASON);
  const info = await peer.until(step, () => peer.closeInfo, true);
  if (info.code !== CLOSE_CODE) {
    fail(`${step}: server close frame carried code ${info.code} (reason "${info.reason}")`);
  }
  ok(`${step} ${info.reason}`.trimEnd());
}

// The conformance script of the plain (uncompressed) clients: connect, text of
// every TEXT_SIZES length, binary of every BINARY_SIZES length, ping, close.
export async function runEchoScript(peer) {
  await peer.connect();
  ok(`connect ${peer.url}`);
  for (const size of TEXT_SIZES) {
    const step = `text ${size}`;
    const message = makeText(size);
    const length = Buffer.byteLength(message, 'utf8');
    if (length !== size) fail(`${step}: generator produced ${length} bytes`);
    await echoCheck(peer, step, message, false);
  }
  for (const size of BINARY_SIZES) await echoCheck(peer, `binary ${size}`, makeBinary(size), true);
  await pingCheck(peer);
  await closeCheck(peer);
}

// ---------------------------------------------------------------------------
// Server lifecycle
// ---------------------------------------------------------------------------

// Prints "LISTENING <port>" once `server` (an http.Server or a ws
// WebSocketServer) listens, exits 1 on a server error, and stops on SIGTERM,
// SIGINT or (unless opts.ignoreStdin) stdin EOF: closeConnections(), then
// exit 0 once the server has closed, or after 2 s at the latest.
export function runServer(name, server, opts, closeConnections) {
  const log = logger(name);
  server.on('error', (err) => {
    log(`server error: ${err.message}`);
    process.exit(1);
  });
  server.on('listening', () => {
    // Writes to pipes and files are synchronous in Node on POSIX, so the line
    // is flushed by the time write() returns.
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });

  let stopping = false;
  const shutdown = (why) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    closeConnections();
    server.close(() => process.exit(0));
    // Never hang on shutdown.
    setTimeout(() => process.exit(0), 2000).unref();
  };

  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (!opts.ignoreStdin) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
}

// The stderr line a reporting server prints when a connection has ended:
// CLOSED id=<tag> clean=<true|false> code=<code or none> reason=<reason on one line>
export function reportClosed(id, clean, code, reason) {
  const oneLine = String(reason ?? '').replace(/\n/g, ' ');
  process.stderr.write(`CLOSED id=${id} clean=${clean} code=${code ?? 'none'} reason=${oneLine}\n`);
}
