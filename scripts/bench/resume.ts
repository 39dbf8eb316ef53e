/**
 * The resume part of the bench (issue #20): what a resumable tunnel costs
 * and how it rides out breaks, each figure beside the same run with resume
 * off (`wssh connect --no-resume`: today's tunnel):
 *
 * - throughput of one tunnel each way, resume on and off, interleaved: the
 *   cost of the acknowledgements and the replay buffer;
 * - the time from a cut (the Cutter resets both connections) to data
 *   flowing again: a probe written right after the cut and echoed back,
 *   over many cuts, on loopback and through nginx (TLS); with resume off, a
 *   new tunnel to its first echoed byte (the SSH session itself is lost);
 * - one large transfer each way cut at random points: byte-exact (sha256),
 *   and the bytes sent again in all;
 * - many tunnels parked on the server at once, and many busy tunnels each
 *   cut once (resumeMany.ts);
 * - throughput over a link with latency for several resume windows
 *   (resumeWindow.ts), which is how the default window was chosen.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { raiseFdLimit } from '../harness/processes';
import { delay, waitFor } from '../harness/waitFor';
import { startTunnel, type Chain } from './chains';
import { nginxMissing, startCutChain, type CutChain, type Way } from './cutChains';
import { progress } from './console';
import { FarEnd, MiB, patternChunker, writeAll } from './farEnd';
import { Corruption, download, newId, stopAtExit, timedTransfer, upload, withTimeout } from './measurements';
import { openEcho } from './scale';
import { measureBusyCuts, measureParked, type BusyCutRow, type ParkedRow } from './resumeMany';
import { measureWindows, type WindowOptions, type WindowRow } from './resumeWindow';

export interface ResumeOptions extends WindowOptions {
  /** MiB per throughput transfer and of the transfer cut at random points. */
  sizeMiB: number;
  /** Timed transfers each way per setting. */
  runs: number;
  /** Cuts timed per way (100). */
  cuts: number;
  /** Cuts of the large transfer, each way (20). */
  transferCuts: number;
  /** Tunnels parked at once, and busy tunnels cut once (1000). */
  tunnels: number;
  /** MiB each busy tunnel echoes (1). */
  busyMiB: number;
}

export type Setting = 'on' | 'off';

export interface ThroughputRow {
  setting: Setting;
  /** Seconds per timed transfer. */
  times: { upload: number[]; download: number[] };
  /** CPU seconds per GiB, per process (connect, server). */
  cpu: { upload: number[]; download: number[] };
}

export interface CutTimes {
  way: Way;
  /** Resume on: ms from each cut to the probe's echo. */
  on: number[];
  /** Resume off: ms from each cut to a new tunnel's first echo. */
  off: number[];
  /** Resumes the server counted, against the cuts made. */
  resumes: number;
}

export interface CutTransfer {
  direction: 'upload' | 'download';
  cuts: number;
  resumes: number;
  seconds: number;
  sha256: string;
  /** Bytes sent again, by each side, from its log. */
  replayedByClient: number;
  replayedByServer: number;
  /** Resume off, cut once at a random point: how far the transfer got. */
  offDelivered: number;
}

export interface ResumeResults {
  size: number;
  throughput: ThroughputRow[];
  cutTimes: CutTimes[];
  /** Why the nginx way was left out. */
  nginxSkipped?: string;
  transfers: CutTransfer[];
  parked: ParkedRow[];
  busy: BusyCutRow[];
  windows: WindowRow[];
}

/** Cuts made before the timed ones: the code paths of a resume compiled, the connections warm. */
const WARMUP_CUTS = 5;

/** One tunnel each way, resume on and off, interleaved (the order swapped every run), after a verified warm-up transfer each way. */
async function throughput(far: FarEnd, dir: string, size: number, runs: number): Promise<ThroughputRow[]> {
  const chains: Record<Setting, Chain> = {
    on: await startTunnel(far.port, dir),
    off: await startTunnel(far.port, dir, { connectArgs: ['--no-resume'] }),
  };
  try {
    for (const chain of Object.values(chains)) stopAtExit.add(chain);
    await checkResumable(chains.on, true);
    await checkResumable(chains.off, false);
    for (const setting of ['on', 'off'] as const) {
      progress(`resume ${setting}: warm-up transfers with sha256 check`);
      await upload(chains[setting], far, size, true);
      await download(chains[setting], far, size, true);
    }
    const rows: Record<Setting, ThroughputRow> = {
      on: { setting: 'on', times: { upload: [], download: [] }, cpu: { upload: [0, 0], download: [0, 0] } },
      off: { setting: 'off', times: { upload: [], download: [] }, cpu: { upload: [0, 0], download: [0, 0] } },
    };
    for (let run = 0; run < runs; run++) {
      progress(`resume on and off: throughput run ${run + 1}/${runs}`);
      const order: Setting[] = run % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const direction of ['upload', 'download'] as const) {
        for (const setting of order) {
          const t = await timedTransfer(chains[setting], far, size, direction);
          rows[setting].times[direction].push(t.seconds);
          t.cpu.forEach((s, i) => (rows[setting].cpu[direction][i] += s));
        }
      }
    }
    const gib = (size * runs) / (1024 * MiB);
    for (const row of Object.values(rows)) {
      for (const direction of ['upload', 'download'] as const) row.cpu[direction] = row.cpu[direction].map((s) => s / gib);
    }
    return [rows.on, rows.off];
  } finally {
    for (const chain of Object.values(chains)) {
      stopAtExit.delete(chain);
      await chain.stop();
    }
  }
}

/** Checks that a tunnel through `chain` is resumable (or not) on its server, so that on and off differ as they say. */
async function checkResumable(chain: Chain, expected: boolean): Promise<void> {
  const { socket } = await openEcho(chain);
  try {
    const res = await fetch(`http://127.0.0.1:${chain.procs[1].port}/metrics`);
    const held = /^wssh_resumable_sessions (\d+)$/m.exec(await res.text())?.[1];
    if ((held === '1') !== expected)
      throw new Error(`resume ${expected ? 'on' : 'off'}: the server holds ${held ?? '?'} resumable sessions with one tunnel open`);
  } finally {
    socket.destroy();
  }
}

/** Reads what comes back on `socket` (flowing) and resolves once `bytes` have; checks they are `expected`. */
class Echoes {
  private got: Buffer[] = [];
  private gotBytes = 0;
  private waiter: { bytes: number; resolve(): void } | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.got.push(chunk);
      this.gotBytes += chunk.length;
      if (this.waiter && this.gotBytes >= this.waiter.bytes) this.waiter.resolve();
    });
    socket.resume();
  }

  /** Writes `data` and waits for its echo. */
  async roundTrip(data: Buffer, what: string): Promise<void> {
    const back = new Promise<void>((resolve) => (this.waiter = { bytes: data.length, resolve }));
    this.socket.write(data);
    await withTimeout(what, 60_000, back);
    this.waiter = undefined;
    const echoed = Buffer.concat(this.got);
    this.got = [];
    this.gotBytes = 0;
    if (!echoed.equals(data)) throw new Corruption(`${what}: the echo differs (${echoed.length} bytes back for ${data.length})`);
  }
}

/** A pace between cuts, so that they fall at different moments of the tunnel's life (not always right after a resume). */
const pace = () => delay(10 + Math.random() * 40);

/** Resume on: cut the one tunnel `cuts` times; each time, ms from the cut to its probe's echo. */
async function timeResumes(chain: CutChain, cuts: number): Promise<{ times: number[]; resumes: number }> {
  const { socket } = await openEcho(chain);
  const echoes = new Echoes(socket);
  const before = (await chain.metrics()).wssh_resumes_total;
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP_CUTS + cuts; i++) {
      await pace();
      const probe = crypto.randomBytes(64);
      // From before the cutter is told: the figure includes the IPC's fraction of a millisecond.
      const t0 = performance.now();
      await chain.cutter.cut('destroy');
      await echoes.roundTrip(probe, `the probe after cut ${i + 1}`);
      if (i >= WARMUP_CUTS) times.push(performance.now() - t0);
    }
    return { times, resumes: (await chain.metrics()).wssh_resumes_total - before };
  } finally {
    socket.destroy();
  }
}

/** Resume off: each cut ends the tunnel; ms from the cut to a new tunnel's first echoed byte. */
async function timeReopens(chain: CutChain, cuts: number): Promise<number[]> {
  let { socket } = await openEcho(chain);
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP_CUTS + cuts; i++) {
      await pace();
      const t0 = performance.now();
      await chain.cutter.cut('destroy');
      const gone = socket;
      socket = (await openEcho(chain)).socket;
      if (i >= WARMUP_CUTS) times.push(performance.now() - t0);
      await withTimeout('the old tunnel to end after a cut with resume off', 10_000, ended(gone));
      gone.destroy();
    }
    return times;
  } finally {
    socket.destroy();
  }
}

async function cutTimes(far: FarEnd, dir: string, way: Way, cuts: number): Promise<CutTimes> {
  const result: CutTimes = { way, on: [], off: [], resumes: 0 };
  for (const resume of [true, false]) {
    progress(`${way}, resume ${resume ? 'on' : 'off'}: ${cuts} cuts after ${WARMUP_CUTS} warm-up`);
    const chain = await startCutChain(far.port, dir, { resume, way });
    stopAtExit.add(chain);
    try {
      if (resume) ({ times: result.on, resumes: result.resumes } = await timeResumes(chain, cuts));
      else result.off = await timeReopens(chain, cuts);
    } finally {
      stopAtExit.delete(chain);
      await chain.stop();
    }
  }
  if (result.resumes !== WARMUP_CUTS + cuts) throw new Error(`${way}: the server counted ${result.resumes} resumes for ${WARMUP_CUTS + cuts} cuts`);
  return result;
}

/** `n` offsets in [from, from + span), sorted: where the cuts fall. */
function randomOffsets(n: number, from: number, span: number): number[] {
  return Array.from({ length: n }, () => from + Math.floor(span * (0.02 + 0.96 * Math.random()))).sort((a, b) => a - b);
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB };

/** Bytes sent again as each side logs them (the server exactly; `wssh connect` as "1.2 MiB"), in log lines `from` on. */
function replayedInLogs(
  chain: CutChain,
  from: { proxy: number; server: number },
): { client: number; server: number; lines: { client: number; server: number } } {
  const lines = { client: 0, server: 0 };
  let client = 0;
  for (const m of chain.proxy
    .output()
    .slice(from.proxy)
    .matchAll(/: resumed after [\d.]+ s, ([\d.]+) (B|KiB|MiB|GiB) replayed/g)) {
    client += Number(m[1]) * UNITS[m[2]];
    lines.client++;
  }
  let server = 0;
  for (const m of chain.server
    .output()
    .slice(from.server)
    .matchAll(/ resumed after [\d.]+s: (\d+) bytes replayed/g)) {
    server += Number(m[1]);
    lines.server++;
  }
  return { client: Math.round(client), server, lines };
}

/** One transfer each way through a fresh chain, cut `cuts` times at random points: sha256 compared, replays counted. */
async function cutTransfers(far: FarEnd, dir: string, size: number, cuts: number): Promise<CutTransfer[]> {
  const results: CutTransfer[] = [];
  const chain = await startCutChain(far.port, dir, { resume: true });
  stopAtExit.add(chain);
  try {
    for (const direction of ['upload', 'download'] as const) {
      progress(`a ${size / MiB} MiB ${direction} cut ${cuts} times at random points`);
      const logs = { proxy: chain.proxy.output().length, server: chain.server.output().length };
      const before = await chain.cutter.stats();
      const resumesBefore = (await chain.metrics()).wssh_resumes_total;
      // The Cutter counts bytes both ways, WebSocket frames and acks with them: the transfer is most of them.
      await chain.cutter.cutAt(randomOffsets(cuts, before.forwarded, size).map((at) => ({ at, kind: 'destroy' as const })));
      const t = direction === 'upload' ? await upload(chain, far, size, true) : await download(chain, far, size, true);
      const made = (await chain.cutter.stats()).cuts - before.cuts;
      if (made !== cuts) throw new Error(`the ${direction} ended after ${made} of its ${cuts} cuts`);
      // Each side logs a resume as it attaches: wait for every line (a cut in a resume's handshake makes one resume of two cuts).
      const resumes = (await chain.metrics()).wssh_resumes_total - resumesBefore;
      const replayed = await waitFor(
        `${resumes} resumes in both logs`,
        () => {
          const r = replayedInLogs(chain, logs);
          return r.lines.client === resumes && r.lines.server === resumes && r;
        },
        10_000,
        () => chain.proxy.output() + chain.server.output(),
      );
      results.push({
        direction,
        cuts: made,
        resumes,
        seconds: t.seconds,
        sha256: t.sha256!,
        replayedByClient: replayed.client,
        replayedByServer: replayed.server,
        offDelivered: 0,
      });
    }
  } finally {
    stopAtExit.delete(chain);
    await chain.stop();
  }
  for (const r of results) r.offDelivered = await cutOnceWithoutResume(far, dir, size, r.direction);
  return results;
}

/** Resume off: the same transfer, cut once at a random point; how many bytes reached the other end. */
async function cutOnceWithoutResume(far: FarEnd, dir: string, size: number, direction: 'upload' | 'download'): Promise<number> {
  progress(`resume off: a ${size / MiB} MiB ${direction} cut once`);
  const chain = await startCutChain(far.port, dir, { resume: false });
  stopAtExit.add(chain);
  let socket: net.Socket | undefined;
  try {
    const id = newId();
    const result = far.expect(id);
    result.catch(() => {});
    socket = await chain.open();
    socket.on('error', () => {});
    const { forwarded } = await chain.cutter.stats();
    await chain.cutter.cutAt(randomOffsets(1, forwarded, size).map((at) => ({ at, kind: 'destroy' as const })));
    if (direction === 'upload') {
      socket.resume();
      socket.write(`UP ${size} 0 ${id}\n`);
      // It stops when the proxy closes the connection: the sink has its count by then.
      writeAll(socket, size, patternChunker(id)).catch(() => {});
      return (await withTimeout('the sink after a cut', transferTimeoutFor(size), result)).bytes;
    }
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.write(`DOWN ${size} 0 ${id}\n`);
    socket.resume();
    await withTimeout('the download to end after a cut', transferTimeoutFor(size), ended(socket));
    return bytes;
  } finally {
    socket?.destroy();
    stopAtExit.delete(chain);
    await chain.stop();
  }
}

/** Resolves when the peer has ended `socket` (its FIN: the proxy ended the tunnel) or it closed. */
function ended(socket: net.Socket): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
    socket.resume();
  });
}

const transferTimeoutFor = (size: number) => 30_000 + (size / (10 * MiB)) * 1000;

export async function measureResume(options: ResumeOptions, far: FarEnd, dir: string): Promise<ResumeResults> {
  const size = Math.round(options.sizeMiB * MiB);
  // Four descriptors a tunnel here (the client's, the far end's, the Cutter's two), and some to spare.
  raiseFdLimit(4 * options.tunnels + 2000);
  const results: ResumeResults = {
    size,
    throughput: await throughput(far, dir, size, options.runs),
    cutTimes: [await cutTimes(far, dir, 'loopback', options.cuts)],
    transfers: [],
    parked: [],
    busy: [],
    windows: [],
  };
  results.nginxSkipped = nginxMissing();
  if (results.nginxSkipped) progress(`nginx left out: ${results.nginxSkipped}`);
  else results.cutTimes.push(await cutTimes(far, dir, 'nginx', options.cuts));
  results.transfers = await cutTransfers(far, dir, size, options.transferCuts);
  results.parked = await measureParked(far, dir, options.tunnels);
  results.busy = await measureBusyCuts(far, dir, options.tunnels, Math.round(options.busyMiB * MiB));
  results.windows = await measureWindows(options, far, dir);
  return results;
}
