/**
 * The scale part of the bench: thousands of tunnels on one pair of
 * processes, each figure beside the same load through the plain relay chain
 * in the same run, each in fresh processes:
 *
 * - idle cost: the RSS of each process with N idle tunnels open (opened a few
 *   hundred at a time), per 1000 tunnels over the process at rest;
 * - bursts: N tunnels opened at once, the time each took from connect() to
 *   its first byte echoed back, and how many were refused; measured after a
 *   warm-up burst in the same processes (a gateway that sees its clients
 *   come back after a blip has been running: its code is compiled), and for
 *   the first size once more in fresh processes;
 * - concurrent transfers: N tunnels opened at once, each sending its own
 *   pattern (AES-CTR) through the far end's echo and reading it back: how
 *   many came back byte-exact (sha256), refused, failed, the peak RSS of each
 *   process and the wall time.
 *
 * The bench process holds two descriptors a tunnel (its client's and the far
 * end's), as the relaying processes do; the largest idle count is what the
 * descriptor limit allows, said in the report when it is less than asked.
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { echoPattern } from '../harness/echoServer';
import { fdLimits, openFds, raiseFdLimit } from '../harness/processes';
import { percentile } from '../harness/statistics';
import { delay } from '../harness/waitFor';
import type WebSocket from 'ws';
import { HOST, startPlain, startServerAlone, startTunnel, type Chain, type Proc } from './chains';
import { dial } from '../../src/core/dial/dialer';
import { parseEndpoint } from '../../src/shared/endpoint';
import type { Target } from '../../src/shared/target';
import { FarEnd, MiB } from './farEnd';
import { stopAtExit, withTimeout } from './measurements';
import { progress } from './console';

/** The warm-up burst before each measured one: enough opens for V8 to compile the paths they take. */
const WARMUP = 300;

/** Write size of the concurrent transfers: 5000 tunnels at once, small writes. */
const CHUNK = 64 * 1024;

export interface ScaleOptions {
  /** Idle tunnel counts, ascending (1000,9000). */
  idle: number[];
  /** Burst sizes (1000,5000). */
  bursts: number[];
  /** Concurrent transfers (5000). */
  concurrent: number;
  /** MiB each way per concurrent transfer (1). */
  concurrentMiB: number;
}

export type Kind = 'tunnel' | 'plain';

export interface IdleRow {
  kind: Kind;
  tunnels: number;
  /** Per process (the chain's order): RSS at rest, and with the tunnels open. */
  procs: Array<{ name: string; rest: number; rss: number }>;
}

/** A burst through the proxy and server, through the plain relays, or straight at the server. */
export type BurstKind = Kind | 'server';

export interface BurstRow {
  kind: BurstKind;
  tunnels: number;
  /** Tunnels opened (at once, then closed) in the same processes before the measured burst. */
  warmup: number;
  opened: number;
  refused: number;
  /** A few of the refusals' reasons. */
  reasons: string[];
  p50: number;
  p99: number;
  max: number;
  /** Until the last tunnel of the burst was open, s. */
  seconds: number;
  /** CPU each process spent on the burst, ms per tunnel opened: the relaying processes, then this one (client and far end). */
  cpu: Array<{ name: string; msPerOpen: number }>;
}

export interface ConcurrentRow {
  kind: Kind;
  tunnels: number;
  size: number;
  exact: number;
  refused: number;
  failed: number;
  reasons: string[];
  /** Peak RSS (VmHWM) of each process. */
  peaks: Array<{ name: string; peak: number }>;
  seconds: number;
}

export interface ScaleResults {
  idle: IdleRow[];
  bursts: BurstRow[];
  concurrent: ConcurrentRow[];
  /** The soft descriptor limit the bench ran with, and what capped the idle counts. */
  fdLimit: number;
  idleCapped?: string;
}

/** The chain, with no tunnel limits (the scale part measures the processes, not the limits). */
const NO_LIMITS = ['--max-tunnels', '0', '--max-tunnels-per-client', '0'];

function startChain(kind: Kind, far: FarEnd, dir: string): Promise<Chain> {
  return kind === 'tunnel' ? startTunnel(far.port, dir, { serverArgs: NO_LIMITS }) : startPlain(far.port);
}

async function withChain<T>(kind: Kind, far: FarEnd, dir: string, run: (chain: Chain) => Promise<T>): Promise<T> {
  const chain = await startChain(kind, far, dir);
  stopAtExit.add(chain);
  try {
    return await run(chain);
  } finally {
    await chain.stop();
    stopAtExit.delete(chain);
  }
}

let nextId = 0;

class Refused extends Error {}

/**
 * Opens a tunnel to the far end's echo and waits for one byte to come back:
 * then every hop of it exists. Resolves with the socket (flowing, no data
 * listener) and the ms from connect() to the echoed byte.
 */
export async function openEcho(chain: Chain): Promise<{ socket: net.Socket; ms: number }> {
  const t0 = performance.now();
  let socket: net.Socket;
  try {
    socket = await chain.open();
  } catch (err) {
    throw new Refused((err as Error).message);
  }
  socket.on('error', () => {});
  const back = new Promise<void>((resolve, reject) => {
    const onData = () => {
      cleanup();
      resolve();
    };
    const onGone = () => {
      cleanup();
      reject(new Refused('closed before the first echo'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
    };
    socket.once('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
  });
  socket.write(`ECHO 0 0 s${++nextId}\nx`);
  socket.resume();
  await withTimeout('the first echo', 300_000, back);
  socket.pause();
  return { socket, ms: performance.now() - t0 };
}

async function closeAll(sockets: net.Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  // Let the relays see the closes before the next figure.
  await delay(1000);
}

/** Idle tunnels, opened `step` at a time; the RSS of each process at each count. */
async function idle(kind: Kind, chain: Chain, counts: number[]): Promise<IdleRow[]> {
  const sockets: net.Socket[] = [];
  // Warm-up: what opens lazily opens now, so that "at rest" is the process ready.
  for (let i = 0; i < 20; i++) sockets.push((await openEcho(chain)).socket);
  await closeAll(sockets);
  await delay(1000);
  const rest = chain.procs.map((p) => p.memory('VmRSS'));
  const rows: IdleRow[] = [];
  const step = 250;
  for (const count of counts) {
    progress(`scale, ${kind}: ${count} idle tunnels`);
    while (sockets.length < count) {
      const n = Math.min(step, count - sockets.length);
      const opened = await Promise.all(Array.from({ length: n }, () => openEcho(chain)));
      for (const o of opened) sockets.push(o.socket);
    }
    // Settled: buffers of the opening freed, a garbage collection likely.
    await delay(3000);
    rows.push({
      kind,
      tunnels: count,
      procs: chain.procs.map((p, i) => ({ name: p.name, rest: rest[i], rss: p.memory('VmRSS') })),
    });
  }
  await closeAll(sockets);
  return rows;
}

/** CPU seconds (user + system) this process has used. */
function ownCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** One opened tunnel of a burst: how long it took, and how to close it. */
interface Opened {
  ms: number;
  close(): void;
}

/**
 * Opens a WebSocket straight to the server, as `wssh client` or many clients
 * behind nginx do, and waits for one byte echoed back by the far end.
 */
async function openDirect(url: string, target: Target): Promise<Opened> {
  const t0 = performance.now();
  let ws: WebSocket;
  try {
    ws = await dial(parseEndpoint(url), target, { handshakeTimeoutMs: 300_000, log: () => {} });
  } catch (err) {
    throw new Refused((err as Error).message);
  }
  ws.on('error', () => {});
  const back = new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('close', () => reject(new Refused('closed before the first echo')));
  });
  ws.resume();
  ws.send(Buffer.from(`ECHO 0 0 s${++nextId}\nx`));
  await withTimeout('the first echo', 300_000, back);
  return { ms: performance.now() - t0, close: () => ws.terminate() };
}

/**
 * `count` tunnels opened in the same instant by `open`, after `warmup` opened
 * the same way and closed; the CPU of `procs` and of this process.
 */
async function burst(kind: BurstKind, procs: Proc[], count: number, warmup: number, open: () => Promise<Opened>): Promise<BurstRow> {
  if (warmup > 0) {
    progress(`scale, ${kind}: a warm-up burst of ${warmup} opens`);
    for (const r of await Promise.allSettled(Array.from({ length: warmup }, open))) if (r.status === 'fulfilled') r.value.close();
    await delay(1000);
  }
  progress(`scale, ${kind}: a burst of ${count} opens`);
  const cpuBefore = [...procs.map((p) => p.cpu()), ownCpu()];
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, open));
  const seconds = (performance.now() - t0) / 1000;
  const cpuAfter = [...procs.map((p) => p.cpu()), ownCpu()];
  const times: number[] = [];
  const reasons = new Map<string, number>();
  for (const r of results) {
    if (r.status === 'fulfilled') {
      times.push(r.value.ms);
      r.value.close();
    } else {
      const reason = (r.reason as Error).message.slice(0, 160);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  // Let the relays see the closes before the next figure.
  await delay(1000);
  times.sort((a, b) => a - b);
  return {
    kind,
    tunnels: count,
    warmup,
    opened: times.length,
    refused: count - times.length,
    reasons: [...reasons].slice(0, 3).map(([r, n]) => `${n}x ${r}`),
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
    seconds,
    cpu: [...procs.map((p) => p.name), 'bench'].map((name, i) => ({
      name,
      msPerOpen: ((cpuAfter[i] - cpuBefore[i]) * 1000) / Math.max(1, times.length),
    })),
  };
}

/** A burst through a chain: each tunnel opened through its first process. */
function chainBurst(kind: Kind, chain: Chain, count: number, warmup = WARMUP): Promise<BurstRow> {
  return burst(kind, chain.procs, count, warmup, async () => {
    const { socket, ms } = await openEcho(chain);
    return { ms, close: () => socket.destroy() };
  });
}

/** A burst of WebSockets straight at a `wssh server` alone. */
async function serverBurst(far: FarEnd, dir: string, count: number): Promise<BurstRow> {
  const server = await startServerAlone(far.port, dir, { serverArgs: NO_LIMITS });
  try {
    return await burst('server', [server.proc], count, WARMUP, () => openDirect(server.url, { host: HOST, port: far.port }));
  } finally {
    await server.stop();
  }
}

/** Sends `size` pattern bytes through the echo and reads them back; true when they came back exactly. */
async function echoTransfer(socket: net.Socket, size: number, seed: string): Promise<boolean> {
  const r = await withTimeout('an echo transfer', 600_000, echoPattern(socket, size, seed, CHUNK));
  if (r.bytes < size) throw new Error(`closed after ${r.bytes} of ${size} bytes`);
  return r.bytes === size && r.sent === r.got;
}

/** `count` tunnels opened at once, each moving `size` bytes each way. */
async function concurrent(kind: Kind, chain: Chain, count: number, size: number): Promise<ConcurrentRow> {
  progress(`scale, ${kind}: ${count} concurrent tunnels x ${size / MiB} MiB each way`);
  const t0 = performance.now();
  const reasons = new Map<string, number>();
  const note = (err: unknown) => {
    const reason = (err as Error).message.slice(0, 160);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  let exact = 0;
  let refused = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      let socket: net.Socket;
      try {
        socket = (await openEcho(chain)).socket;
      } catch (err) {
        refused++;
        note(err);
        return;
      }
      try {
        // The first echoed byte is already read; the pattern follows it.
        if (await echoTransfer(socket, size, `scale-${i}`)) exact++;
        else {
          failed++;
          note(new Error('the echo differs'));
        }
      } catch (err) {
        failed++;
        note(err);
        socket.destroy();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    kind,
    tunnels: count,
    size,
    exact,
    refused,
    failed,
    reasons: [...reasons].slice(0, 3).map(([r, n]) => `${n}x ${r}`),
    peaks: chain.procs.map((p) => ({ name: p.name, peak: p.memory('VmHWM') })),
    seconds,
  };
}

export async function measureScale(options: ScaleOptions, far: FarEnd, dir: string): Promise<ScaleResults> {
  // Two descriptors a tunnel here too, and some to spare.
  const most = Math.max(...options.idle, ...options.bursts, options.concurrent);
  const fdLimit = raiseFdLimit(2 * most + 1000);
  const room = Math.floor((fdLimit - openFds(process.pid) - 500) / 2);
  let idleCapped: string | undefined;
  let idleCounts = options.idle;
  if (room < options.idle[options.idle.length - 1]) {
    idleCounts = options.idle.map((n) => Math.min(n, room));
    idleCapped = `the bench's descriptor limit (${fdLimit}, hard ${fdLimits().hard}) allows ${room} tunnels, not ${options.idle[options.idle.length - 1]}`;
  }
  const results: ScaleResults = { idle: [], bursts: [], concurrent: [], fdLimit, idleCapped };
  for (const kind of ['tunnel', 'plain'] as const) {
    results.idle.push(...(await withChain(kind, far, dir, (chain) => idle(kind, chain, idleCounts))));
  }
  for (const [i, count] of options.bursts.entries()) {
    results.bursts.push(await serverBurst(far, dir, Math.min(count, room)));
    for (const kind of ['tunnel', 'plain'] as const) {
      results.bursts.push(await withChain(kind, far, dir, (chain) => chainBurst(kind, chain, Math.min(count, room))));
    }
    // What a process just started meets: the same burst before V8 has compiled anything.
    if (i === 0) results.bursts.push(await withChain('tunnel', far, dir, (chain) => chainBurst('tunnel', chain, Math.min(count, room), 0)));
  }
  const size = Math.round(options.concurrentMiB * MiB);
  for (const kind of ['tunnel', 'plain'] as const) {
    results.concurrent.push(await withChain(kind, far, dir, (chain) => concurrent(kind, chain, Math.min(options.concurrent, room), size)));
  }
  return results;
}
