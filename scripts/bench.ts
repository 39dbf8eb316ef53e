/**
 * `npm run bench`: what the tunnel costs, measured against a plain TCP relay
 * chain with the same number of process hops.
 *
 *   tunnel: client -> `wssh connect` (CONNECT proxy) -> `wssh server` -> far end
 *   plain:  client -> plainRelay                    -> plainRelay    -> far end
 *
 * The client and the far end (a TCP sink, source and echo behind one port)
 * live in this process; the four relaying processes are started here, on
 * 127.0.0.1, and killed at the end, also on an error or Ctrl-C.
 *
 * Measured in one run:
 * - upload and download throughput, median of --runs transfers of --size MiB,
 *   after one warm-up transfer each way whose sha256 is compared end to end;
 * - the round trip of small messages (ping-pong to the echo);
 * - the peak RSS (VmHWM) of each relaying process during a download that the
 *   client reads slowly, for two transfer sizes, in fresh processes, so that a
 *   memory use that grows with the transfer shows.
 *
 * Options: --size MiB (256), --runs N (3), --rtt N (2000), --rtt-bytes N
 * (1024), --mem-sizes MiB,MiB (64,256), --mem-rate MiB/s (20).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DEFAULT_KEEPALIVE_SEC } from '../src/shared/defaults';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const WSSH_CLI = path.join(__dirname, '..', 'src', 'cli', 'wssh.js');
const PLAIN_RELAY = path.join(__dirname, 'plainRelay.js');
/** The aim of the issue: the tunnel at this fraction of the plain relay's throughput, or better. */
const THROUGHPUT_AIM = 0.8;
/** Memory counts as flat when a process's peak grows by less than this from the small to the large transfer. */
const FLAT_TOLERANCE = 8 * MiB;

// ---------------------------------------------------------------- options

interface Options {
  sizeMiB: number;
  runs: number;
  rttCount: number;
  rttBytes: number;
  memSizesMiB: number[];
  memRateMiB: number;
}

function parseOptions(): Options {
  const usage =
    'usage: npm run bench -- [--size MiB] [--runs N] [--rtt N] [--rtt-bytes N] [--mem-sizes MiB,MiB] [--mem-rate MiB/s]';
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        size: { type: 'string', default: '256' },
        runs: { type: 'string', default: '3' },
        rtt: { type: 'string', default: '2000' },
        'rtt-bytes': { type: 'string', default: '1024' },
        'mem-sizes': { type: 'string', default: '64,256' },
        'mem-rate': { type: 'string', default: '20' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) {
      process.stderr.write(`bench: --${name} "${text}": expected a positive number\n${usage}\n`);
      process.exit(2);
    }
    return n;
  };
  const memSizesMiB = values['mem-sizes'].split(',').map((s) => positive('mem-sizes', s.trim()));
  if (memSizesMiB.length !== 2) {
    process.stderr.write(`bench: --mem-sizes expects two sizes, e.g. 64,256\n`);
    process.exit(2);
  }
  return {
    sizeMiB: positive('size', values.size),
    runs: Math.round(positive('runs', values.runs)),
    rttCount: Math.round(positive('rtt', values.rtt)),
    rttBytes: Math.round(positive('rtt-bytes', values['rtt-bytes'])),
    memSizesMiB: memSizesMiB.sort((a, b) => a - b),
    memRateMiB: positive('mem-rate', values['mem-rate']),
  };
}

// ---------------------------------------------------------------- child processes

interface Proc {
  name: string;
  pid: number;
  port: number;
  /** The last 16 KiB of its stdout and stderr. */
  output(): string;
  /** How it ended ("exit code 1", "signal SIGKILL"), or undefined while it runs. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  // Last resort (an exception, process.exit): only synchronous work is possible here.
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `node SCRIPT ARGS`; resolves once its output matches `ready` (group 1: the port). */
function startProc(name: string, script: string, args: string[], ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const collect = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-16 * 1024);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  let exitStatus: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
  });
  child.once('error', (err) => collect(Buffer.from(`spawn: ${err.message}\n`)));
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exit;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      void stop();
      reject(new Error(`${name} did not start within 10 s:\n${out}`));
    }, 10_000);
    const poll = setInterval(() => {
      const match = ready.exec(out);
      if (!match && !exited) return;
      clearInterval(poll);
      clearTimeout(deadline);
      if (!match) return reject(new Error(`${name} exited before it listened:\n${out}`));
      resolve({ name, pid: child.pid!, port: Number(match[1]), output: () => out, exitStatus: () => exitStatus, stop });
    }, 10);
  });
}

/** A field of /proc/PID/status in bytes (VmHWM: peak resident set; VmRSS: current). */
function procStatus(proc: Proc, field: 'VmHWM' | 'VmRSS'): number {
  const gone = proc.exitStatus();
  if (gone) throw new Error(`${proc.name} (pid ${proc.pid}) ended unexpectedly: ${gone}`);
  const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${proc.pid}/status`);
  return Number(match[1]) * 1024;
}

/** User plus system CPU seconds the process has used so far, from /proc/PID/stat. */
function cpuSeconds(proc: Proc): number {
  const gone = proc.exitStatus();
  if (gone) throw new Error(`${proc.name} (pid ${proc.pid}) ended unexpectedly: ${gone}`);
  const stat = fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
  // The fields after "(comm)": state is the first, utime the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Chain {
  kind: 'tunnel' | 'plain';
  /** The two relaying processes, the client's side first. */
  procs: [Proc, Proc];
  /** Opens a connection to the far end through the chain; resolves with a paused socket. */
  open(): Promise<net.Socket>;
  stop(): Promise<void>;
}

async function startTunnel(farPort: number, dir: string): Promise<Chain> {
  const hosts = path.join(dir, 'hosts.yml');
  fs.writeFileSync(hosts, `# written by scripts/bench.ts\n"${HOST}:${farPort}": true\n`);
  const server = await startProc(
    'wssh server',
    WSSH_CLI,
    ['server', '--listen', `${HOST}:0`, '--hosts', hosts, '--keepalive', String(DEFAULT_KEEPALIVE_SEC)],
    /listening on ws:\/\/[^\s]*:(\d+)\//,
  );
  let proxy: Proc;
  try {
    proxy = await startProc(
      'wssh connect',
      WSSH_CLI,
      ['connect', `ws://${HOST}:${server.port}/ssh`, '--listen', `${HOST}:0`, '--quiet'],
      /CONNECT proxy on [^\s]*:(\d+) /,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    kind: 'tunnel',
    procs: [proxy, server],
    open: () => openThroughProxy(proxy.port, farPort),
    stop: async () => {
      await proxy.stop();
      await server.stop();
    },
  };
}

async function startPlain(farPort: number): Promise<Chain> {
  const ready = /plain relay listening on [^\s]*:(\d+) /;
  const second = await startProc('plain relay 2', PLAIN_RELAY, ['0', String(farPort)], ready);
  let first: Proc;
  try {
    first = await startProc('plain relay 1', PLAIN_RELAY, ['0', String(second.port)], ready);
  } catch (err) {
    await second.stop();
    throw err;
  }
  return {
    kind: 'plain',
    procs: [first, second],
    open: async () => {
      const socket = await connect(first.port);
      socket.pause();
      return socket;
    },
    stop: async () => {
      await first.stop();
      await second.stop();
    },
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** CONNECT through the proxy; resolves with the socket, paused, once the tunnel is open. */
async function openThroughProxy(proxyPort: number, farPort: number): Promise<net.Socket> {
  const socket = await connect(proxyPort);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(new Error(`CONNECT through the proxy: ${err.message}`));
    const onEnd = () => fail(new Error(`the proxy closed before answering CONNECT: ${JSON.stringify(head.toString())}`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) fail(new Error('the proxy sent an endless response header'));
        return;
      }
      socket.pause();
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.[01] 200 /.test(status)) {
        return fail(new Error(`the proxy refused the tunnel: ${head.toString().trim()}`));
      }
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.write(`CONNECT ${HOST}:${farPort} HTTP/1.1\r\nHost: ${HOST}:${farPort}\r\n\r\n`);
  });
}

// ---------------------------------------------------------------- data

const CHUNK = 256 * 1024;
/** Timed transfers send slices of this buffer: no generator cost in the measurement. */
const FIXED = crypto.randomBytes(8 * MiB);

/** Produces the next `n` bytes of a stream. */
type Chunker = (n: number) => Buffer;

function fixedChunker(): Chunker {
  let offset = 0;
  return (n) => {
    if (offset + n > FIXED.length) offset = 0;
    const chunk = FIXED.subarray(offset, offset + n);
    offset += n;
    return chunk;
  };
}

/** AES-CTR over zeros: never repeats, so a lost, doubled or reordered chunk changes the sha256. */
function patternChunker(seed: string): Chunker {
  const key = crypto.createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  return (n) => cipher.update(zeros.subarray(0, n));
}

/** Writes `size` bytes from `next` with backpressure; feeds `hash` with what it wrote. */
function writeAll(socket: net.Socket, size: number, next: Chunker, hash?: crypto.Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = size;
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    const pump = () => {
      while (left > 0) {
        const chunk = next(Math.min(CHUNK, left));
        left -= chunk.length;
        hash?.update(chunk);
        if (!socket.write(chunk) && left > 0) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.off('error', onError);
      resolve();
    };
    pump();
  });
}

// ---------------------------------------------------------------- the far end

interface FarResult {
  /** Bytes received (UP) or sent (DOWN). */
  bytes: number;
  sha256?: string;
  /** performance.now() when the expected last byte arrived (UP). */
  lastByteAt?: number;
}

/**
 * One TCP port for sink, source and echo. A connection starts with a line
 * "MODE SIZE HASH ID\n": UP (count, and hash if HASH is 1, what follows until
 * FIN), DOWN (send SIZE bytes, then FIN), ECHO (send back what arrives).
 * The result of a connection is reported under its ID.
 */
class FarEnd {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly results = new Map<string, { resolve(r: FarResult): void; reject(e: Error): void }>();
  port = 0;

  constructor() {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => {
      this.server.listen(0, HOST, () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** The result of the connection that announces `id`. */
  expect(id: string): Promise<FarResult> {
    return new Promise((resolve, reject) => this.results.set(id, { resolve, reject }));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 256) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const [mode, sizeText, hashText, id] = head.subarray(0, nl).toString().split(' ');
      const rest = head.subarray(nl + 1);
      const waiter = this.results.get(id);
      this.results.delete(id);
      const report = waiter ?? { resolve: () => {}, reject: () => {} };
      socket.once('error', (err) => report.reject(new Error(`far end (${mode}): ${err.message}`)));
      const size = Number(sizeText);
      const hash = hashText === '1' ? crypto.createHash('sha256') : undefined;
      if (mode === 'UP') this.sink(socket, size, rest, hash, report.resolve);
      else if (mode === 'DOWN') this.source(socket, size, id, hash, report.resolve, report.reject);
      else if (mode === 'ECHO') this.echo(socket, rest);
      else socket.destroy();
    };
    socket.on('data', onData);
  }

  private sink(socket: net.Socket, size: number, first: Buffer, hash: crypto.Hash | undefined, done: (r: FarResult) => void): void {
    let bytes = 0;
    let lastByteAt: number | undefined;
    const take = (chunk: Buffer) => {
      bytes += chunk.length;
      hash?.update(chunk);
      if (lastByteAt === undefined && bytes >= size) lastByteAt = performance.now();
    };
    if (first.length > 0) take(first);
    socket.on('data', take);
    socket.once('end', () => {
      socket.end();
      done({ bytes, sha256: hash?.digest('hex'), lastByteAt });
    });
  }

  private source(
    socket: net.Socket,
    size: number,
    seed: string,
    hash: crypto.Hash | undefined,
    done: (r: FarResult) => void,
    fail: (e: Error) => void,
  ): void {
    socket.resume(); // the client sends nothing more but its FIN
    writeAll(socket, size, hash ? patternChunker(seed) : fixedChunker(), hash).then(
      () => {
        socket.end();
        done({ bytes: size, sha256: hash?.digest('hex') });
      },
      (err: Error) => fail(err),
    );
  }

  private echo(socket: net.Socket, first: Buffer): void {
    if (first.length > 0) socket.write(first);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.once('end', () => socket.end());
  }
}

// ---------------------------------------------------------------- measurements

let nextId = 0;
const newId = () => `t${++nextId}`;

class Corruption extends Error {}

function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no result within ${(ms / 1000).toFixed(0)} s`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Generous: a hung transfer fails the bench instead of stalling it. */
const transferTimeout = (size: number, rateMiB = 10) => 30_000 + (size / (rateMiB * MiB)) * 1000;

function closed(socket: net.Socket): Promise<void> {
  return socket.closed || socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

interface Transfer {
  seconds: number;
  sha256?: string;
}

/** Sends `size` bytes to the sink; timed from the first byte written to the last byte received. */
async function upload(chain: Chain, far: FarEnd, size: number, verify: boolean): Promise<Transfer> {
  const what = `${chain.kind} upload of ${size} bytes`;
  const id = newId();
  const result = far.expect(id);
  result.catch(() => {}); // awaited below; an early failure must not count as unhandled
  const socket = await chain.open();
  socket.on('error', () => {});
  socket.resume();
  const hash = verify ? crypto.createHash('sha256') : undefined;
  const t0 = performance.now();
  socket.write(`UP ${size} ${verify ? 1 : 0} ${id}\n`);
  await withTimeout(what, transferTimeout(size), writeAll(socket, size, verify ? patternChunker(id) : fixedChunker(), hash));
  socket.end();
  const got = await withTimeout(what, transferTimeout(size), result);
  await withTimeout(`${what}: close`, 10_000, closed(socket));
  if (got.bytes !== size) throw new Corruption(`${what}: the sink received ${got.bytes} bytes`);
  const sent = hash?.digest('hex');
  if (verify && got.sha256 !== sent) throw new Corruption(`${what}: sha256 sent ${sent}, received ${got.sha256}`);
  return { seconds: (got.lastByteAt! - t0) / 1000, sha256: sent };
}

/**
 * Receives `size` bytes from the source; timed from the request to the last
 * byte. With `rateMiB`, the client reads no faster than that (pause/resume).
 */
async function download(
  chain: Chain,
  far: FarEnd,
  size: number,
  verify: boolean,
  rateMiB?: number,
): Promise<Transfer> {
  const what = `${chain.kind} ${rateMiB ? 'slow ' : ''}download of ${size} bytes`;
  const id = newId();
  const result = far.expect(id);
  result.catch(() => {}); // awaited below; an early failure must not count as unhandled
  const socket = await chain.open();
  const hash = verify ? crypto.createHash('sha256') : undefined;
  let bytes = 0;
  let lastByteAt = 0;
  let t0 = 0;
  const bytesPerMs = rateMiB ? (rateMiB * MiB) / 1000 : 0;
  const received = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash?.update(chunk);
      if (bytes >= size && !lastByteAt) lastByteAt = performance.now();
      if (bytesPerMs) {
        const ahead = t0 + bytes / bytesPerMs - performance.now();
        if (ahead > 1) {
          socket.pause();
          setTimeout(() => socket.resume(), ahead);
        }
      }
    });
    socket.once('end', () => resolve());
    socket.once('error', (err) => reject(new Error(`${what}: ${err.message}`)));
  });
  t0 = performance.now();
  socket.write(`DOWN ${size} ${verify ? 1 : 0} ${id}\n`);
  socket.resume();
  await withTimeout(what, transferTimeout(size, rateMiB ? rateMiB / 2 : 10), received);
  socket.end();
  const sent = await withTimeout(what, 10_000, result);
  await withTimeout(`${what}: close`, 10_000, closed(socket));
  if (bytes !== size) throw new Corruption(`${what}: the client received ${bytes} bytes`);
  const got = hash?.digest('hex');
  if (verify && got !== sent.sha256) throw new Corruption(`${what}: sha256 sent ${sent.sha256}, received ${got}`);
  return { seconds: (lastByteAt - t0) / 1000, sha256: got };
}

/** Ping-pong of `bytes`-byte messages to the echo; returns each round trip in ms. */
async function roundTrips(chain: Chain, far: FarEnd, count: number, bytes: number, warmup: number): Promise<number[]> {
  const socket = await chain.open();
  const what = `${chain.kind} round trips`;
  socket.once('error', () => {});
  socket.write(`ECHO 0 0 ${newId()}\n`);
  const message = crypto.randomBytes(bytes);
  let got: Buffer[] = [];
  let gotBytes = 0;
  let waiter: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    got.push(chunk);
    gotBytes += chunk.length;
    if (gotBytes >= bytes) waiter?.();
  });
  socket.resume();
  const times: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const back = new Promise<void>((resolve) => (waiter = resolve));
    const t0 = performance.now();
    socket.write(message);
    await withTimeout(what, 10_000, back);
    const t1 = performance.now();
    const echoed = Buffer.concat(got);
    if (!echoed.equals(message)) throw new Corruption(`${what}: round trip ${i} came back different (${echoed.length} bytes)`);
    got = [];
    gotBytes = 0;
    if (i >= warmup) times.push(t1 - t0);
  }
  socket.end();
  await withTimeout(`${what}: close`, 10_000, closed(socket));
  return times;
}

interface MemoryRow {
  kind: string;
  proc: string;
  sizeMiB: number;
  idle: number;
  peak: number;
  /** How fast the client actually read, MiB/s. */
  readMiBs: number;
}

/** Fresh processes, a slow download of `sizeMiB`, the peak RSS of each relaying process. */
async function memoryRun(
  kind: 'tunnel' | 'plain',
  far: FarEnd,
  dir: string,
  sizeMiB: number,
  rateMiB: number,
): Promise<MemoryRow[]> {
  const chain = kind === 'tunnel' ? await startTunnel(far.port, dir) : await startPlain(far.port);
  stopAtExit.add(chain);
  try {
    // Let start-up settle so that "idle" is the process at rest.
    await sleep(300);
    const idle = chain.procs.map((p) => procStatus(p, 'VmRSS'));
    const { seconds } = await download(chain, far, Math.round(sizeMiB * MiB), false, rateMiB);
    const peak = chain.procs.map((p) => procStatus(p, 'VmHWM'));
    const readMiBs = sizeMiB / seconds;
    return chain.procs.map((p, i) => ({ kind, proc: p.name, sizeMiB, idle: idle[i], peak: peak[i], readMiBs }));
  } finally {
    await chain.stop();
    stopAtExit.delete(chain);
  }
}

// ---------------------------------------------------------------- statistics and printing

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const mbps = (size: number, seconds: number) => size / seconds / 1e6;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const signedMib = (bytes: number) => `${bytes >= 0 ? '+' : '-'}${(Math.abs(bytes) / MiB).toFixed(1)} MiB`;

function table(rows: string[][], align: Array<'l' | 'r'>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => '  ' + r.map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('   ').trimEnd())
    .join('\n');
}

const say = (line = '') => process.stdout.write(line + '\n');
/** Progress goes to stderr, the report to stdout. */
const progress = (line: string) => process.stderr.write(`  … ${line}\n`);

// ---------------------------------------------------------------- main

const stopAtExit = new Set<Chain>();
let tmpDir: string | undefined;
let far: FarEnd | undefined;

async function cleanup(): Promise<void> {
  await Promise.all([...stopAtExit].map((c) => c.stop().catch(() => {})));
  stopAtExit.clear();
  if (far) await far.close().catch(() => {});
  far = undefined;
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = performance.now();
  const size = Math.round(options.sizeMiB * MiB);
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-bench-'));
  for (const file of [WSSH_CLI, PLAIN_RELAY]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  }

  const wsVersion = (() => {
    try {
      return (JSON.parse(fs.readFileSync(require.resolve('ws/package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  })();
  const cpus = os.cpus();
  say(`WSSH benchmark: node ${process.version}, ws ${wsVersion}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? '?'})`);
  say(`  tunnel: client -> wssh connect -> wssh server -> TCP far end`);
  say(`  plain:  client -> plainRelay   -> plainRelay  -> TCP far end`);
  say(`  all on ${HOST}; client and far end (sink, source, echo) run in the bench process`);
  say();

  far = new FarEnd();
  await far.listen();
  const tunnel = await startTunnel(far.port, tmpDir);
  stopAtExit.add(tunnel);
  const plain = await startPlain(far.port);
  stopAtExit.add(plain);
  const chains = [tunnel, plain];

  // Integrity, and warm-up: one transfer each way through each chain, sha256 compared.
  const integrity: string[][] = [['path', 'direction', 'bytes', 'sha256 (sent = received)']];
  for (const chain of chains) {
    progress(`${chain.kind}: warm-up transfers with sha256 check`);
    const up = await upload(chain, far, size, true);
    integrity.push([chain.kind, 'upload', String(size), up.sha256!.slice(0, 16) + '…  ok']);
    const down = await download(chain, far, size, true);
    integrity.push([chain.kind, 'download', String(size), down.sha256!.slice(0, 16) + '…  ok']);
  }

  // Throughput, interleaved so that drift in the machine's load hits both alike.
  // The CPU time each relaying process spends is recorded too: it shows where a gap comes from.
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number> = {};
  const timed = async (chain: Chain, direction: 'upload' | 'download') => {
    const before = chain.procs.map((p) => cpuSeconds(p));
    const t = direction === 'upload' ? await upload(chain, far!, size, false) : await download(chain, far!, size, false);
    chain.procs.forEach((p, i) => {
      const key = `${direction} ${p.name}`;
      cpu[key] = (cpu[key] ?? 0) + cpuSeconds(p) - before[i];
    });
    (times[`${chain.kind} ${direction}`] ??= []).push(t.seconds);
  };
  for (let run = 1; run <= options.runs; run++) {
    progress(`throughput run ${run}/${options.runs}`);
    for (const chain of chains) await timed(chain, 'upload');
    for (const chain of chains) await timed(chain, 'download');
  }

  // Round trips.
  progress(`round trips: ${options.rttCount} x ${options.rttBytes} bytes each way`);
  const rtt: Record<string, number[]> = {};
  for (const chain of chains) rtt[chain.kind] = await roundTrips(chain, far, options.rttCount, options.rttBytes, 200);

  stopAtExit.delete(tunnel);
  stopAtExit.delete(plain);
  await tunnel.stop();
  await plain.stop();

  // Memory under a slow reader, fresh processes per size.
  const memory: MemoryRow[] = [];
  for (const kind of ['tunnel', 'plain'] as const) {
    for (const sizeMiB of options.memSizesMiB) {
      progress(`memory: ${kind}, slow download of ${sizeMiB} MiB at ${options.memRateMiB} MiB/s`);
      memory.push(...(await memoryRun(kind, far, tmpDir, sizeMiB, options.memRateMiB)));
    }
  }
  const elapsed = (performance.now() - started) / 1000;

  // ------------------------------------------------------------ report
  say(`Integrity: one ${options.sizeMiB} MiB transfer each way per path (also the warm-up), AES-CTR data`);
  say(table(integrity, ['l', 'l', 'r', 'l']));
  say();

  say(`Throughput: ${options.sizeMiB} MiB per transfer, median of ${options.runs} (MB/s, 1 MB = 10^6 bytes; runs in brackets)`);
  const rate = (key: string) => mbps(size, median(times[key]));
  const runs = (key: string) => times[key].map((s) => mbps(size, s).toFixed(0)).join(' ');
  const ratios: Record<string, number> = {};
  const tput: string[][] = [['direction', 'tunnel MB/s', '', 'plain MB/s', '', 'tunnel/plain']];
  for (const dir of ['upload', 'download']) {
    const t = rate(`tunnel ${dir}`);
    const p = rate(`plain ${dir}`);
    ratios[dir] = t / p;
    tput.push([dir, t.toFixed(0), `(${runs(`tunnel ${dir}`)})`, p.toFixed(0), `(${runs(`plain ${dir}`)})`, (t / p).toFixed(2)]);
  }
  say(table(tput, ['l', 'r', 'l', 'r', 'l', 'r']));
  say();
  say(`CPU seconds (user + system) each relaying process spent per GiB moved, over the timed runs`);
  const names = chains.flatMap((c) => c.procs.map((p) => p.name));
  const gib = (size * options.runs) / (1024 * MiB);
  const cpuRows: string[][] = [['direction', ...names]];
  for (const dir of ['upload', 'download']) cpuRows.push([dir, ...names.map((n) => (cpu[`${dir} ${n}`] / gib).toFixed(2))]);
  say(table(cpuRows, ['l', ...names.map(() => 'r' as const)]));
  say();

  say(`Round trip: ${options.rttBytes}-byte ping-pong to a TCP echo, ${options.rttCount} times after 200 warm-up (ms)`);
  const stat = (kind: string, f: (v: number[]) => number) => f(rtt[kind]);
  const rttRows: string[][] = [['statistic', 'tunnel ms', 'plain ms', 'tunnel/plain']];
  const stats: Array<[string, (v: number[]) => number]> = [
    ['mean', mean],
    ['p50', (v) => percentile(v, 50)],
    ['p99', (v) => percentile(v, 99)],
    ['max', (v) => Math.max(...v)],
  ];
  for (const [name, f] of stats) {
    const t = stat('tunnel', f);
    const p = stat('plain', f);
    rttRows.push([name, t.toFixed(3), p.toFixed(3), (t / p).toFixed(2)]);
  }
  say(table(rttRows, ['l', 'r', 'r', 'r']));
  say();

  say(
    `Memory: peak RSS (VmHWM) during a download read at ${options.memRateMiB} MiB/s by the client, fresh processes per size`,
  );
  const memRows: string[][] = [['path', 'process', 'transfer', 'read at', 'idle RSS', 'peak RSS', 'peak - idle']];
  for (const r of memory) {
    memRows.push([
      r.kind,
      r.proc,
      `${r.sizeMiB} MiB`,
      `${r.readMiBs.toFixed(1)} MiB/s`,
      mib(r.idle),
      mib(r.peak),
      signedMib(r.peak - r.idle),
    ]);
  }
  say(table(memRows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']));
  say();

  // Summary.
  const verdict = (ok: boolean) => (ok ? 'MEETS the aim' : 'MISSES the aim');
  say(`Summary (bench took ${elapsed.toFixed(0)} s)`);
  for (const dir of ['upload', 'download']) {
    const r = ratios[dir];
    say(
      `  ${dir.padEnd(8)} throughput: tunnel ${rate(`tunnel ${dir}`).toFixed(0)} MB/s, plain ${rate(`plain ${dir}`).toFixed(0)} MB/s, ` +
        `ratio ${r.toFixed(2)} (aim >= ${THROUGHPUT_AIM.toFixed(2)}): ${verdict(r >= THROUGHPUT_AIM)}`,
    );
  }
  const tMean = mean(rtt.tunnel);
  const pMean = mean(rtt.plain);
  const tP99 = percentile(rtt.tunnel, 99);
  const pP99 = percentile(rtt.plain, 99);
  say(
    `  round trip:          tunnel mean ${tMean.toFixed(3)} ms / p99 ${tP99.toFixed(3)} ms, plain mean ${pMean.toFixed(3)} ms / p99 ${pP99.toFixed(3)} ms, ` +
      `ratio ${(tMean / pMean).toFixed(2)} (mean) ${(tP99 / pP99).toFixed(2)} (p99): no aim set, for information`,
  );
  const [small, large] = options.memSizesMiB;
  for (const kind of ['tunnel', 'plain']) {
    const parts: string[] = [];
    let flat = true;
    for (const name of [...new Set(memory.filter((r) => r.kind === kind).map((r) => r.proc))]) {
      const at = (s: number) => memory.find((r) => r.kind === kind && r.proc === name && r.sizeMiB === s)!;
      const growth = at(large).peak - at(small).peak;
      flat &&= growth < FLAT_TOLERANCE;
      parts.push(`${name} ${mib(at(small).peak)} -> ${mib(at(large).peak)} (${signedMib(growth)})`);
    }
    const aim = `peak grows < ${mib(FLAT_TOLERANCE)} from ${small} to ${large} MiB`;
    say(
      `  memory (${kind}):${' '.repeat(Math.max(1, 8 - kind.length))}${parts.join(', ')}; ` +
        (kind === 'tunnel' ? `flat = ${aim}: ${verdict(flat)}` : `flat: ${flat ? 'yes' : 'no'} (baseline)`),
    );
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\nbench: ${signal}, stopping the processes it started\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (err: Error) => {
    if (interrupted) return;
    // Bytes missing because a relaying process died are not corruption.
    const died = [...stopAtExit].some((c) => c.procs.some((p) => p.exitStatus()));
    const label = err instanceof Corruption && !died ? 'DATA CORRUPTION: ' : '';
    process.stderr.write(`\nbench failed: ${label}${err.stack ?? err.message}\n`);
    for (const chain of stopAtExit) {
      for (const p of chain.procs) {
        const state = p.exitStatus() ? `ended: ${p.exitStatus()}` : 'running';
        process.stderr.write(`--- ${p.name} (pid ${p.pid}, ${state}) output:\n${p.output().slice(-4000)}\n`);
      }
    }
    await cleanup();
    process.exit(1);
  },
);
