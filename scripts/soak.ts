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
 * The process runner, CONNECT client and echo server are the harness the
 * bench and the test fixtures share (scripts/harness/).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openTunnel } from './harness/connectClient';
import { echoPattern, startEcho } from './harness/echoServer';
import { openFds, procStatus, spawnDaemon, waitForOutput, type Daemon } from './harness/processes';
import { WSSH_CLI } from './harness/wsshProcesses';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const SHIPPED_LOCATION = path.join(__dirname, '..', '..', 'nginx', 'wssh-location.conf');
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
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN;
  return { min: v[0] ?? NaN, median: at(0.5), p95: at(0.95), max: v[v.length - 1] ?? NaN };
}

// --- child processes (scripts/harness/processes.ts) ------------------------------

type Child = Daemon;

function startChild(name: string, command: string, args: string[]): Child {
  return spawnDaemon(name, command, args);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: Child, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, HOST);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child.exitStatus() || Date.now() > deadline) throw new Error(`${child.name} is not listening on ${port}:\n${child.output()}`);
    await delay(50);
  }
}

// --- TLS and nginx ---------------------------------------------------------------

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=WSSH soak CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  fs.writeFileSync(f('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
    'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', String(Date.now()),
    '-days', '2', '-extfile', f('server.ext'), '-out', f('server.crt')]);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/** nginx with TLS in front of the server, with the location block the project ships. */
async function startNginx(dir: string, upstreamPort: number, tls: { cert: string; key: string }): Promise<{ port: number; child: Child }> {
  const f = (name: string) => path.join(dir, name);
  const location = fs.readFileSync(SHIPPED_LOCATION, 'utf8').replace('proxy_pass http://127.0.0.1:4567;', `proxy_pass http://${HOST}:${upstreamPort};`);
  if (!location.includes(`:${upstreamPort};`)) throw new Error(`${SHIPPED_LOCATION} changed: update scripts/soak.ts`);
  const port = await freePort();
  const conf = `daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
${os.userInfo().uid === 0 ? 'user root;' : ''}
pid ${f('nginx.pid')};
error_log ${f('error.log')} warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${f('client_body_temp')};
  proxy_temp_path ${f('proxy_temp')};
  fastcgi_temp_path ${f('fastcgi_temp')};
  uwsgi_temp_path ${f('uwsgi_temp')};
  scgi_temp_path ${f('scgi_temp')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen ${HOST}:${port} ssl;
    server_name localhost;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
${location}
  }
}
`;
  fs.writeFileSync(f('nginx.conf'), conf);
  const child = startChild('nginx', 'nginx', ['-p', dir, '-c', f('nginx.conf'), '-e', f('error.log')]);
  await waitForPort(port, child);
  return { port, child };
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

async function fdsSettle(pid: number, limit: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = openFds(pid);
    if (n <= limit || Date.now() > deadline) return n;
    await delay(100);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- the soak ----------------------------------------------------------------------------------

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wssh-soak-'));
  const started: Child[] = [];
  const echo = await startEcho();
  try {
    const tls = makeCertificates(dir);
    const hosts = path.join(dir, 'hosts.yml');
    fs.writeFileSync(hosts, `"${HOST}:${echo.port}": true\n`);
    const server = startChild('wssh server', process.execPath, [WSSH_CLI, 'server', '--listen', `${HOST}:0`, '--hosts', hosts,
      '--max-tunnels', '0', '--max-tunnels-per-client', '0']);
    started.push(server);
    const serverPort = Number((await waitForOutput(server, /listening on ws:\/\/[^\s]*:(\d+)\//))[1]);
    const nginx = await startNginx(dir, serverPort, tls);
    started.push(nginx.child);
    const proxy = startChild('wssh connect', process.execPath, [WSSH_CLI, 'connect', `wss://localhost:${nginx.port}/ssh`, '--ca', tls.ca,
      '--listen', `${HOST}:0`, '--no-proxy', '--quiet']);
    started.push(proxy);
    const proxyPort = Number((await waitForOutput(proxy, /CONNECT proxy on [^\s]*:(\d+) /))[1]);
    const pids = { proxy: proxy.pid, server: server.pid };
    log(`chain: CONNECT :${proxyPort} -> wss://localhost:${nginx.port}/ssh (nginx, TLS) -> ws://${HOST}:${serverPort} -> echo :${echo.port}`);

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
    for (const child of started.reverse()) await child.stop();
    await echo.close();
    fs.rmSync(dir, { recursive: true, force: true });
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
