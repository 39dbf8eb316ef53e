/**
 * What the bench measures on a chain: timed uploads and downloads (sha256
 * compared when asked), round trips of small messages, and the peak RSS of
 * each relaying process during a slowly read download.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { delay } from '../harness/waitFor';
import { startPlain, startTunnel, type Chain } from './chains';
import { progress } from './console';
import { FarEnd, MiB, fixedChunker, patternChunker, writeAll } from './farEnd';

let nextId = 0;
export const newId = () => `t${++nextId}`;

export class Corruption extends Error {}

export function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
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
export const transferTimeout = (size: number, rateMiB = 10) => 30_000 + (size / (rateMiB * MiB)) * 1000;

export function closed(socket: net.Socket): Promise<void> {
  return socket.closed || socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

export interface Transfer {
  seconds: number;
  sha256?: string;
}

/** Sends `size` bytes to the sink; timed from the first byte written to the last byte received. */
export async function upload(chain: Chain, far: FarEnd, size: number, verify: boolean): Promise<Transfer> {
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
export async function download(chain: Chain, far: FarEnd, size: number, verify: boolean, rateMiB?: number): Promise<Transfer> {
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
export async function roundTrips(chain: Chain, far: FarEnd, count: number, bytes: number, warmup: number): Promise<number[]> {
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

export interface MemoryRow {
  kind: string;
  proc: string;
  sizeMiB: number;
  idle: number;
  peak: number;
  /** How fast the client actually read, MiB/s. */
  readMiBs: number;
}

/** Fresh processes, a slow download of `sizeMiB`, the peak RSS of each relaying process. */
export async function memoryRun(kind: 'tunnel' | 'plain', far: FarEnd, dir: string, sizeMiB: number, rateMiB: number): Promise<MemoryRow[]> {
  const chain = kind === 'tunnel' ? await startTunnel(far.port, dir) : await startPlain(far.port);
  stopAtExit.add(chain);
  try {
    // Let start-up settle so that "idle" is the process at rest.
    await delay(300);
    const idle = chain.procs.map((p) => p.memory('VmRSS'));
    const { seconds } = await download(chain, far, Math.round(sizeMiB * MiB), false, rateMiB);
    const peak = chain.procs.map((p) => p.memory('VmHWM'));
    const readMiBs = sizeMiB / seconds;
    return chain.procs.map((p, i) => ({ kind, proc: p.name, sizeMiB, idle: idle[i], peak: peak[i], readMiBs }));
  } finally {
    await chain.stop();
    stopAtExit.delete(chain);
  }
}

/** One unverified transfer: its seconds, and the CPU seconds each of the chain's processes spent on it. */
export async function timedTransfer(chain: Chain, far: FarEnd, size: number, direction: 'upload' | 'download'): Promise<{ seconds: number; cpu: number[] }> {
  const before = chain.procs.map((p) => p.cpu());
  const t = direction === 'upload' ? await upload(chain, far, size, false) : await download(chain, far, size, false);
  return { seconds: t.seconds, cpu: chain.procs.map((p, i) => p.cpu() - before[i]) };
}

/** Options of the single-tunnel part. */
export interface SingleOptions {
  sizeMiB: number;
  runs: number;
  rttCount: number;
  rttBytes: number;
  memSizesMiB: number[];
  memRateMiB: number;
  /** Idle tunnels kept open beside the transfers of the busy part (busy.ts); 0 leaves it out. */
  beside: number;
  /** More arguments for both wssh processes (--tunnel-buffer). */
  wsshArgs: string[];
}

export interface SingleResults {
  size: number;
  integrity: string[][];
  /** Seconds per timed transfer, by "KIND DIRECTION". */
  times: Record<string, number[]>;
  /** CPU seconds per "DIRECTION PROCESS", over the timed runs. */
  cpu: Record<string, number>;
  /** The relaying processes' names, the tunnel's first. */
  names: string[];
  /** Round trips in ms, by kind. */
  rtt: Record<string, number[]>;
  memory: MemoryRow[];
}

/**
 * The single-tunnel figures: integrity and warm-up, throughput each way
 * interleaved with CPU per process, round trips, memory under a slow reader.
 */
export async function measureSingle(options: SingleOptions, far: FarEnd, dir: string): Promise<SingleResults> {
  const size = Math.round(options.sizeMiB * MiB);
  const tunnel = await startTunnel(far.port, dir, { serverArgs: options.wsshArgs, connectArgs: options.wsshArgs });
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
    const t = await timedTransfer(chain, far, size, direction);
    chain.procs.forEach((p, i) => {
      const key = `${direction} ${p.name}`;
      cpu[key] = (cpu[key] ?? 0) + t.cpu[i];
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
      memory.push(...(await memoryRun(kind, far, dir, sizeMiB, options.memRateMiB)));
    }
  }

  return { size, integrity, times, cpu, names: chains.flatMap((c) => c.procs.map((p) => p.name)), rtt, memory };
}

/** Chains running now: stopped on an error or Ctrl-C, and their output shown when the bench fails. */
export const stopAtExit = new Set<Chain>();
