/**
 * `npm run bench`: what the tunnel costs, measured against a plain TCP relay
 * chain with the same number of process hops (scripts/bench/chains.ts).
 *
 *   tunnel: client -> `wssh connect` (CONNECT proxy) -> `wssh server` -> far end
 *   plain:  client -> plainRelay                    -> plainRelay    -> far end
 *
 * The client and the far end (a TCP sink, source and echo behind one port,
 * scripts/bench/farEnd.ts) live in this process; the relaying processes are
 * started here, on 127.0.0.1, and killed at the end, also on an error or
 * Ctrl-C.
 *
 * Three parts, all by default:
 * - single tunnel (scripts/bench/measurements.ts): upload and download
 *   throughput, median of --runs transfers of --size MiB after one warm-up
 *   transfer each way whose sha256 is compared end to end, with the CPU each
 *   process spent per GiB; the round trip of small messages; the peak RSS of
 *   each relaying process during a slowly read download of two sizes;
 * - beside (scripts/bench/busy.ts, with the single part): the same transfers
 *   with --beside N idle tunnels open on the same processes, as on a
 *   gateway, the tunnel as the CLI starts it and with V8's own heap limit;
 * - scale (scripts/bench/scale.ts, alone with --scale): idle tunnels, bursts
 *   of opens, many concurrent transfers;
 * - resume (scripts/bench/resume.ts, alone with --resume): each figure beside
 *   resume off: throughput, the time from a cut to data flowing again on
 *   loopback and through nginx, a transfer cut at random points, tunnels
 *   parked and busy tunnels cut at once, throughput by window over a link
 *   with latency.
 *
 * Options: --size MiB (256), --runs N (3), --rtt N (2000), --rtt-bytes N
 * (1024), --mem-sizes MiB,MiB (64,256), --mem-rate MiB/s (20), --beside N (200;
 * 0 leaves that part out); --scale (only
 * the scale part), --single (only the single-tunnel part), and the scale
 * part's --idle N,N (1000,9000), --bursts N,N (1000,5000), --concurrent N
 * (5000), --concurrent-size MiB (1); the resume part's --cuts N (100),
 * --transfer-cuts N (20), --parked N (1000), --busy-size MiB (1),
 * --link-delay ms (50), --windows KiB,KiB,... (256,1024,4096,16384), with
 * --size and --runs; --tunnel-buffer KiB passes wssh's
 * per-tunnel high-water mark to both wssh processes, to find the one that
 * keeps a tunnel at full speed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WSSH_CLI } from './harness/wsshProcesses';
import { HOST } from './bench/chains';
import { FarEnd } from './bench/farEnd';
import { Corruption, measureSingle, stopAtExit, type SingleOptions } from './bench/measurements';
import { say } from './bench/console';
import { printBusy, printScale, printSingle } from './bench/report';
import { measureBusy } from './bench/busy';
import { measureScale, type ScaleOptions } from './bench/scale';
import { measureResume, type ResumeOptions } from './bench/resume';
import { printResume } from './bench/resumeReport';
import { MAX_RESUME_WINDOW, MIN_RESUME_WINDOW } from '../src/core/tunnel/resumeProtocol';

interface Options {
  single?: SingleOptions;
  scale?: ScaleOptions;
  resume?: ResumeOptions;
}

function parseOptions(): Options {
  const usage =
    'usage: npm run bench -- [--single | --scale | --resume] [--size MiB] [--runs N] [--rtt N] [--rtt-bytes N] [--mem-sizes MiB,MiB] [--mem-rate MiB/s] ' +
    '[--beside N] [--tunnel-buffer KiB]\n' +
    '                        [--idle N,N] [--bursts N,N] [--concurrent N] [--concurrent-size MiB]\n' +
    '                        [--cuts N] [--transfer-cuts N] [--parked N] [--busy-size MiB] [--link-delay ms] [--windows KiB,KiB,...]';
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
        beside: { type: 'string', default: '200' },
        scale: { type: 'boolean', default: false },
        single: { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        cuts: { type: 'string', default: '100' },
        'transfer-cuts': { type: 'string', default: '20' },
        parked: { type: 'string', default: '1000' },
        'busy-size': { type: 'string', default: '1' },
        'link-delay': { type: 'string', default: '50' },
        windows: { type: 'string', default: '256,1024,4096,16384' },
        idle: { type: 'string', default: '1000,9000' },
        bursts: { type: 'string', default: '1000,5000' },
        concurrent: { type: 'string', default: '5000' },
        'concurrent-size': { type: 'string', default: '1' },
        'tunnel-buffer': { type: 'string' },
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
  const list = (name: string, text: string) => text.split(',').map((s) => Math.round(positive(name, s.trim())));
  const memSizesMiB = values['mem-sizes'].split(',').map((s) => positive('mem-sizes', s.trim()));
  if (memSizesMiB.length !== 2) {
    process.stderr.write(`bench: --mem-sizes expects two sizes, e.g. 64,256\n`);
    process.exit(2);
  }
  const only = (['single', 'scale', 'resume'] as const).filter((part) => values[part]);
  if (only.length > 1) {
    process.stderr.write(`bench: --${only.join(' and --')} each run one part only; give none of them for all\n`);
    process.exit(2);
  }
  const windows = list('windows', values.windows).map((k) => k * 1024);
  if (windows.some((w) => w < MIN_RESUME_WINDOW || w > MAX_RESUME_WINDOW)) {
    process.stderr.write(`bench: --windows "${values.windows}": each window must be ${MIN_RESUME_WINDOW / 1024} to ${MAX_RESUME_WINDOW / 1024} KiB\n`);
    process.exit(2);
  }
  const wanted = (part: 'single' | 'scale' | 'resume') => only.length === 0 || only[0] === part;
  return {
    single: !wanted('single')
      ? undefined
      : {
          sizeMiB: positive('size', values.size),
          runs: Math.round(positive('runs', values.runs)),
          rttCount: Math.round(positive('rtt', values.rtt)),
          rttBytes: Math.round(positive('rtt-bytes', values['rtt-bytes'])),
          memSizesMiB: memSizesMiB.sort((a, b) => a - b),
          memRateMiB: positive('mem-rate', values['mem-rate']),
          beside: values.beside === '0' ? 0 : Math.round(positive('beside', values.beside)),
          wsshArgs: values['tunnel-buffer'] ? ['--tunnel-buffer', String(Math.round(positive('tunnel-buffer', values['tunnel-buffer'])))] : [],
        },
    scale: !wanted('scale')
      ? undefined
      : {
          idle: list('idle', values.idle).sort((a, b) => a - b),
          bursts: list('bursts', values.bursts).sort((a, b) => a - b),
          concurrent: Math.round(positive('concurrent', values.concurrent)),
          concurrentMiB: positive('concurrent-size', values['concurrent-size']),
        },
    resume: !wanted('resume')
      ? undefined
      : {
          sizeMiB: positive('size', values.size),
          runs: Math.round(positive('runs', values.runs)),
          cuts: Math.round(positive('cuts', values.cuts)),
          transferCuts: Math.round(positive('transfer-cuts', values['transfer-cuts'])),
          tunnels: Math.round(positive('parked', values.parked)),
          busyMiB: positive('busy-size', values['busy-size']),
          delayMs: positive('link-delay', values['link-delay']),
          windows: windows.sort((a, b) => a - b),
        },
  };
}

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
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-bench-'));
  for (const file of [WSSH_CLI, path.join(__dirname, 'plainRelay.js'), path.join(__dirname, 'bench', 'windowServer.js')]) {
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
  say(
    `  load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other work on the machine makes the figures noisy)`,
  );
  say();

  far = new FarEnd();
  await far.listen();
  if (options.single) {
    const started = performance.now();
    const results = await measureSingle(options.single, far, tmpDir);
    printSingle(options.single, results, (performance.now() - started) / 1000);
    say();
    if (options.single.beside > 0) {
      const busyStarted = performance.now();
      const busy = await measureBusy(far, tmpDir, options.single.beside, options.single.sizeMiB, options.single.runs);
      printBusy(busy, (performance.now() - busyStarted) / 1000);
      say();
    }
  }
  if (options.scale) {
    const started = performance.now();
    const results = await measureScale(options.scale, far, tmpDir);
    printScale(options.scale, results, (performance.now() - started) / 1000);
    say();
  }
  if (options.resume) {
    const started = performance.now();
    const results = await measureResume(options.resume, far, tmpDir);
    printResume(options.resume, results, (performance.now() - started) / 1000);
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
        const state = p.exitStatus() ? `ended: ${JSON.stringify(p.exitStatus())}` : 'running';
        process.stderr.write(`--- ${p.name} (pid ${p.pid}, ${state}) output:\n${p.output().slice(-4000)}\n`);
      }
    }
    await cleanup();
    process.exit(1);
  },
);
