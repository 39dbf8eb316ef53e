/**
 * `npm run soak`: many tunnels at once, each moving --size MiB each way,
 * through the whole production chain with TLS:
 *
 *   client -CONNECT-> `wssh connect --ca` -wss-> nginx (TLS) -ws-> `wssh server` -TCP-> echo
 *
 * The clients and the echo server live in this process; nginx (from a temp
 * prefix dir, with a throwaway CA made by openssl) and the two wssh processes
 * are started here on 127.0.0.1 and stopped by PID at the end, also on an
 * error. Each tunnel sends its own pattern (AES-CTR, seeded by the tunnel's
 * number) and must get back exactly those bytes: the sha256 of what went out
 * and of what came back must match. Afterwards the open file descriptors of
 * both wssh processes must be back at their baseline.
 *
 * Options: --tunnels N (200), --size MiB (8). Exits 1 on any mismatch or leak.
 * Needs nginx and openssl (apt-get install nginx openssl).
 *
 * The processes, certificates, nginx, CONNECT client and echo server are the
 * harness the bench and the tests share (scripts/harness/).
 */
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openTunnel } from './harness/connectClient';
import { echoPattern, startEcho } from './harness/echoServer';
import { startNginx } from './harness/nginx';
import { fdsSettle, openFds, procStatus } from './harness/processes';
import { median, percentile } from './harness/statistics';
import { makeTempDir, removeTempDir } from './harness/tempDirs';
import { makeCertificates } from './harness/tls';
import { delay } from './harness/waitFor';
import { startConnectProcess, startServerProcess } from './harness/wsshProcesses';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const CHUNK = 64 * 1024;
/** Descriptors a wssh process may hold over its baseline at the end. */
const FD_SLACK = 2;

export interface SoakOptions {
  tunnels: number;
  /** Bytes each way per tunnel. */
  size: number;
  /** Progress lines; default: none. */
  log?: (line: string) => void;
}

export interface SoakResult {
  tunnels: number;
  size: number;
  /** Tunnels whose echo came back byte-exact. */
  matched: number;
  failures: string[];
  /** From the first CONNECT to the last tunnel's end. */
  seconds: number;
  /** The most tunnels open (200 received, echo not complete) at one time. */
  maxConcurrent: number;
  /** Per tunnel: CONNECT sent -> 200, and CONNECT sent -> echo complete, in ms. */
  openMs: Stats;
  totalMs: Stats;
  fds: Record<'proxy' | 'server', { before: number; peak: number; after: number }>;
  peakRssMiB: Record<'proxy' | 'server', number>;
}

interface Stats {
  min: number;
  median: number;
  p95: number;
  max: number;
}

function stats(values: number[]): Stats {
  return { min: percentile(values, 0), median: median(values), p95: percentile(values, 95), max: percentile(values, 100) };
}

// --- the far end and the clients -----------------------------------------------------

/** Sends `size` pattern bytes (seeded) through a tunnel to the echo and reads them back; compares the sha256 of both. */
async function echoTransfer(
  proxyPort: number,
  echoPort: number,
  size: number,
  seed: string,
  concurrency = { open: 0, max: 0 },
  /** Called once the CONNECT is answered (or failed); the transfer starts when it resolves. */
  opened: (ok: boolean) => Promise<void> = async () => {},
): Promise<{ openMs: number; totalMs: number; sent: string; got: string; bytes: number }> {
  const started = Date.now();
  let socket: net.Socket;
  try {
    socket = await openTunnel(proxyPort, `${HOST}:${echoPort}`, { timeoutMs: 120_000 });
  } catch (err) {
    void opened(false);
    throw err;
  }
  const openMs = Date.now() - started;
  concurrency.open++;
  concurrency.max = Math.max(concurrency.max, concurrency.open);
  try {
    await opened(true);
    return await transfer(socket, size, seed, started, openMs);
  } finally {
    concurrency.open--;
  }
}

async function transfer(socket: net.Socket, size: number, seed: string, started: number, openMs: number) {
  const r = await echoPattern(socket, size, seed, CHUNK);
  return { openMs, totalMs: Date.now() - started, ...r };
}

function peakRss(pid: number): number {
  return procStatus(pid, 'VmHWM') / MiB;
}

// --- the soak ----------------------------------------------------------------------------------

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const dir = makeTempDir('wssh-soak-');
  const stops: Array<() => Promise<void>> = [];
  const echo = await startEcho();
  try {
    const certs = await makeCertificates(dir);
    const hosts = path.join(dir, 'hosts.yml');
    fs.writeFileSync(hosts, `"${HOST}:${echo.port}": true\n`);
    const server = await startServerProcess(hosts, ['--max-tunnels', '0', '--max-tunnels-per-client', '0']);
    stops.push(() => server.stop());
    // As many tunnels as the soak opens, each a connection on both of nginx's sides.
    const nginx = await startNginx({
      upstreamPort: server.port,
      tls: { cert: certs.serverCert, key: certs.serverKey },
      dir: path.join(dir, 'nginx'),
      workerConnections: 8192,
      accessLog: false,
    });
    stops.push(() => nginx.stop());
    const proxy = await startConnectProcess(nginx.url, ['--ca', certs.caCert, '--no-proxy', '--quiet']);
    stops.push(() => proxy.stop());
    const proxyPort = proxy.port;
    const pids = { proxy: proxy.pid, server: server.pid };
    log(`chain: CONNECT :${proxyPort} -> ${nginx.url} (nginx, TLS) -> ws://${HOST}:${server.port} -> echo :${echo.port}`);

    // A warm-up tunnel opens whatever is opened lazily; then the baseline.
    const warm = await echoTransfer(proxyPort, echo.port, 64 * 1024, 'warm-up');
    if (warm.sent !== warm.got) throw new Error('the warm-up echo differs');
    await delay(500);
    const before = { proxy: openFds(pids.proxy), server: openFds(pids.server) };
    const peak = { ...before };
    const sample = () => {
      for (const side of ['proxy', 'server'] as const) {
        try {
          peak[side] = Math.max(peak[side], openFds(pids[side]));
        } catch {
          // exited: reported below
        }
      }
    };
    const sampler = setInterval(sample, 100);

    log(`${options.tunnels} tunnels x ${(options.size / MiB).toFixed(1)} MiB each way ...`);
    const t0 = Date.now();
    const failures: string[] = [];
    const openMs: number[] = [];
    const totalMs: number[] = [];
    let matched = 0;
    const concurrency = { open: 0, max: 0 };
    // Every tunnel waits until all have their answer: then all of them are
    // open at once, and the transfers run side by side.
    let answered = 0;
    let allAnswered!: () => void;
    const barrier = new Promise<void>((resolve) => (allAnswered = resolve));
    const opened = (): Promise<void> => {
      if (++answered === options.tunnels) {
        // Every tunnel is open now: the peak is read here, not left to the
        // sampler, whose next tick may come after the transfers have ended.
        sample();
        allAnswered();
      }
      return barrier;
    };
    await Promise.all(
      Array.from({ length: options.tunnels }, async (_, i) => {
        try {
          const r = await echoTransfer(proxyPort, echo.port, options.size, `soak-${i}`, concurrency, opened);
          openMs.push(r.openMs);
          totalMs.push(r.totalMs);
          if (r.bytes !== options.size) failures.push(`tunnel ${i}: ${r.bytes} of ${options.size} bytes came back`);
          else if (r.sent !== r.got) failures.push(`tunnel ${i}: sha256 differs (sent ${r.sent}, got ${r.got})`);
          else matched++;
        } catch (err) {
          failures.push(`tunnel ${i}: ${(err as Error).message}`);
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    for (const child of [proxy, server]) {
      if (child.exitStatus()) failures.push(`${child.name} exited:\n${child.output()}`);
    }
    const after = { proxy: await fdsSettle(pids.proxy, before.proxy + FD_SLACK), server: await fdsSettle(pids.server, before.server + FD_SLACK) };
    for (const side of ['proxy', 'server'] as const) {
      if (after[side] > before[side] + FD_SLACK) failures.push(`${side}: ${after[side]} descriptors open, baseline ${before[side]}`);
    }
    return {
      tunnels: options.tunnels,
      size: options.size,
      matched,
      failures,
      seconds,
      maxConcurrent: concurrency.max,
      openMs: stats(openMs),
      totalMs: stats(totalMs),
      fds: {
        proxy: { before: before.proxy, peak: peak.proxy, after: after.proxy },
        server: { before: before.server, peak: peak.server, after: after.server },
      },
      peakRssMiB: { proxy: peakRss(pids.proxy), server: peakRss(pids.server) },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await echo.close();
    removeTempDir(dir);
  }
}

/** The result as lines for a person. */
export function formatSoak(r: SoakResult): string {
  const ms = (s: Stats) => `min ${s.min} / median ${s.median} / p95 ${s.p95} / max ${s.max} ms`;
  const total = (2 * r.tunnels * r.size) / MiB;
  return [
    `${r.matched}/${r.tunnels} tunnels byte-exact (sha256), ${(r.size / MiB).toFixed(1)} MiB each way`,
    `${total.toFixed(0)} MiB moved in ${r.seconds.toFixed(1)} s: ${(total / r.seconds).toFixed(1)} MiB/s overall (both directions)`,
    `at most ${r.maxConcurrent} tunnels open at once`,
    `CONNECT -> 200: ${ms(r.openMs)}`,
    `CONNECT -> echo complete: ${ms(r.totalMs)}`,
    `descriptors: proxy ${r.fds.proxy.before} before, ${r.fds.proxy.peak} peak, ${r.fds.proxy.after} after; ` +
      `server ${r.fds.server.before} before, ${r.fds.server.peak} peak, ${r.fds.server.after} after`,
    `peak RSS: proxy ${r.peakRssMiB.proxy.toFixed(1)} MiB, server ${r.peakRssMiB.server.toFixed(1)} MiB`,
    ...r.failures.map((f) => `FAIL ${f}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tunnels: { type: 'string', default: '200' },
      size: { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run soak -- [--tunnels N (200)] [--size MiB (8)]\n');
    return 0;
  }
  const tunnels = Number(values.tunnels);
  const size = Math.round(Number(values.size) * MiB);
  if (!Number.isInteger(tunnels) || tunnels < 1 || !(size > 0)) {
    process.stderr.write('soak: --tunnels must be a whole number > 0, --size a number of MiB > 0\n');
    return 2;
  }
  const result = await runSoak({ tunnels, size, log: (line) => process.stdout.write(line + '\n') });
  process.stdout.write(formatSoak(result) + '\n');
  const ok = result.failures.length === 0 && result.matched === tunnels;
  process.stdout.write(ok ? 'soak: OK\n' : 'soak: FAILED\n');
  return ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`soak: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
