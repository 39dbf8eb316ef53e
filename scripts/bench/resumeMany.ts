/**
 * Many resumable tunnels at once, each run in fresh processes and beside
 * the same run with resume off:
 *
 * - parked: N idle tunnels open, then the way blocked (Cutter.block) and
 *   every connection cut, so that all N wait on the server for a resume:
 *   the RSS of both processes at rest, with N open and with N parked; then
 *   the way opened again: all resume, each echoes a message exactly. With
 *   resume off, the cut ends them and the RSS after is the processes'
 *   without them;
 * - busy: N tunnels each echoing its own pattern, every connection cut once
 *   halfway through: how many came back byte-exact, the resumes, the peak
 *   RSS and the wall time; with resume off, the same without a cut (what it
 *   costs when nothing breaks) and with the cut (what a break costs today).
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { echoPattern } from '../harness/echoServer';
import { delay, waitFor } from '../harness/waitFor';
import { startCutChain, type CutChain } from './cutChains';
import { progress } from './console';
import { FarEnd, MiB } from './farEnd';
import { stopAtExit, withTimeout } from './measurements';
import { openEcho } from './scale';

/** The chain without tunnel limits: the part measures the processes, not the limits. */
const NO_LIMITS = ['--max-tunnels', '0', '--max-tunnels-per-client', '0'];

export interface ParkedRow {
  resume: boolean;
  tunnels: number;
  /** Per process (connect, server): RSS at rest, with the tunnels open, after the cut (parked, or closed with resume off). */
  procs: Array<{ name: string; rest: number; open: number; afterCut: number }>;
  /** Parked on the server after the cut (its /metrics). */
  parked: number;
  /** Resume on: resumed once the way was open again, and how many then echoed exactly; the seconds until all had resumed. */
  resumed: number;
  exact: number;
  resumeSeconds: number;
}

export interface BusyCutRow {
  resume: boolean;
  cut: boolean;
  tunnels: number;
  size: number;
  /** Cutter connections open at the cut. */
  openAtCut: number;
  exact: number;
  failed: number;
  resumes: number;
  reasons: string[];
  seconds: number;
  peaks: Array<{ name: string; peak: number }>;
}

async function withCutChain<T>(resume: boolean, far: FarEnd, dir: string, run: (chain: CutChain) => Promise<T>): Promise<T> {
  const chain = await startCutChain(far.port, dir, { resume, serverArgs: NO_LIMITS });
  stopAtExit.add(chain);
  try {
    return await run(chain);
  } finally {
    stopAtExit.delete(chain);
    await chain.stop();
  }
}

/** Opens `count` tunnels to the echo, 250 at a time. */
async function openMany(chain: CutChain, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  while (sockets.length < count) {
    const n = Math.min(250, count - sockets.length);
    for (const o of await Promise.all(Array.from({ length: n }, () => openEcho(chain)))) sockets.push(o.socket);
  }
  return sockets;
}

/** Writes `data` and resolves true when exactly it came back. */
function echoesExactly(socket: net.Socket, data: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      got.push(chunk);
      bytes += chunk.length;
      if (bytes >= data.length) {
        socket.off('data', onData);
        socket.pause();
        resolve(Buffer.concat(got).equals(data));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(false));
    socket.resume();
    socket.write(data);
  });
}

const rss = (chain: CutChain) => chain.procs.map((p) => p.memory('VmRSS'));

async function parkedRun(resume: boolean, far: FarEnd, dir: string, tunnels: number): Promise<ParkedRow> {
  return withCutChain(resume, far, dir, async (chain) => {
    progress(`parked, resume ${resume ? 'on' : 'off'}: ${tunnels} tunnels open, then cut`);
    // What opens lazily opens now, so that "at rest" is the process ready.
    for (const s of await openMany(chain, 20)) s.destroy();
    await waitFor('the warm-up tunnels closed', async () => (await chain.metrics()).wssh_tunnels_open === 0, 30_000);
    await delay(1000);
    const rest = rss(chain);
    const sockets = await openMany(chain, tunnels);
    // Settled: the buffers of the opening freed, a collection likely (a pace, as the scale part's).
    await delay(3000);
    const open = rss(chain);
    await chain.cutter.block();
    await chain.cutter.cut('destroy');
    const metric = resume ? 'wssh_parked_sessions' : 'wssh_tunnels_open';
    const want = resume ? tunnels : 0;
    await waitFor(
      `${metric} ${want} after the cut`,
      async () => (await chain.metrics())[metric] === want,
      60_000,
      () => chain.server.output().slice(-2000),
    );
    await delay(3000);
    const afterCut = rss(chain);
    const parked = (await chain.metrics()).wssh_parked_sessions;
    let resumed = 0;
    let exact = 0;
    let resumeSeconds = 0;
    if (resume) {
      const t0 = performance.now();
      await chain.cutter.block(false);
      // The clients redial with a backoff of up to 10 s: all are back within a few of them.
      await waitFor('every parked tunnel resumed', async () => (await chain.metrics()).wssh_parked_sessions === 0, 120_000);
      resumeSeconds = (performance.now() - t0) / 1000;
      resumed = (await chain.metrics()).wssh_resumes_total;
      const checks = await Promise.all(sockets.map((s) => withTimeout('an echo after the resume', 60_000, echoesExactly(s, crypto.randomBytes(1024)))));
      exact = checks.filter(Boolean).length;
    }
    for (const s of sockets) s.destroy();
    return {
      resume,
      tunnels,
      procs: chain.procs.map((p, i) => ({ name: p.name, rest: rest[i], open: open[i], afterCut: afterCut[i] })),
      parked,
      resumed,
      exact,
      resumeSeconds,
    };
  });
}

export async function measureParked(far: FarEnd, dir: string, tunnels: number): Promise<ParkedRow[]> {
  return [await parkedRun(true, far, dir, tunnels), await parkedRun(false, far, dir, tunnels)];
}

async function busyRun(resume: boolean, cut: boolean, far: FarEnd, dir: string, tunnels: number, size: number): Promise<BusyCutRow> {
  return withCutChain(resume, far, dir, async (chain) => {
    progress(`busy, resume ${resume ? 'on' : 'off'}: ${tunnels} tunnels x ${size / MiB} MiB each way${cut ? ', each cut once' : ''}`);
    const sockets = await openMany(chain, tunnels);
    const reasons = new Map<string, number>();
    let exact = 0;
    let failed = 0;
    // Halfway: the Cutter carries each tunnel's bytes both ways, 2 × N × size in all.
    const { forwarded } = await chain.cutter.stats();
    if (cut) await chain.cutter.cutAt([{ at: forwarded + tunnels * size, kind: 'destroy' }]);
    const t0 = performance.now();
    const all = Promise.all(
      sockets.map(async (socket, i) => {
        try {
          const r = await withTimeout('an echo transfer', 600_000, echoPattern(socket, size, `busy-${i}`));
          if (r.bytes === size && r.sent === r.got) return exact++;
          failed++;
          const reason = r.bytes < size ? 'ended early' : 'the echo differs';
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        } catch (err) {
          failed++;
          const reason = (err as Error).message.slice(0, 160);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }),
    );
    await all;
    const seconds = (performance.now() - t0) / 1000;
    const after = await chain.cutter.stats();
    if (cut && after.cuts !== 1) throw new Error(`busy: the transfers ended before the cut halfway (${after.forwarded - forwarded} bytes forwarded)`);
    const metrics = await chain.metrics();
    return {
      resume,
      cut,
      tunnels,
      size,
      openAtCut: after.lastCut,
      exact,
      failed,
      resumes: metrics.wssh_resumes_total ?? 0,
      reasons: [...reasons].slice(0, 3).map(([r, n]) => `${n}x ${r}`),
      seconds,
      peaks: chain.procs.map((p) => ({ name: p.name, peak: p.memory('VmHWM') })),
    };
  });
}

export async function measureBusyCuts(far: FarEnd, dir: string, tunnels: number, size: number): Promise<BusyCutRow[]> {
  return [
    await busyRun(true, true, far, dir, tunnels, size),
    await busyRun(false, false, far, dir, tunnels, size),
    await busyRun(false, true, far, dir, tunnels, size),
  ];
}
