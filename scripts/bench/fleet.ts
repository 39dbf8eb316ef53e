/**
 * The fleet drills (issue #22), for `npm run bench -- --fleet` (600 tunnels)
 * and test/e2e/fleet.test.ts (a few dozen): three `wssh server` replicas
 * behind one nginx with the shipped upstream config (nginx/wssh-upstream.conf:
 * a hash on the session key), N tunnels through one or two `wssh connect`
 * processes, each an echo of its own pattern checked byte for byte as it
 * flows. Then, with the traffic flowing:
 *
 * 1. nginx reloaded (with `worker_shutdown_timeout`, as ingress-nginx runs
 *    it, so the old worker cuts its WebSockets) and restarted: every tunnel
 *    resumes, none is lost, every byte exact;
 * 2. a rolling restart: each replica in turn sent SIGTERM with a short
 *    --drain: /readyz answers 503, new tunnels (opened all along) land only
 *    on the other replicas, half of its tunnels finish within the drain
 *    byte-exact, the rest end when the drain ends; it is started again on
 *    the same port and is ready again;
 * 3. one replica killed with SIGKILL: its tunnels end at once with "the
 *    session is lost", the others carry on.
 *
 * Each replica reaches its own far end (the same echo on three ports), which
 * sends the replica's number as a tunnel's first byte: a tunnel knows where
 * it landed. What does not hold is collected in `problems`, not thrown, so
 * that the bench prints the figures either way.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openTunnel } from '../harness/connectClient';
import { startNginx, type Nginx } from '../harness/nginx';
import { startListening, type ListeningDaemon } from '../harness/processes';
import { percentile } from '../harness/statistics';
import { delay, waitFor } from '../harness/waitFor';
import { SERVER_READY, WSSH_CLI, nodeArgs, startConnectProcess } from '../harness/wsshProcesses';
import { patternChunker, type Chunker } from './farEnd';

export interface FleetOptions {
  /** Tunnels opened at the start (600 in the bench). */
  tunnels: number;
  /** `wssh connect` processes the tunnels are spread over (1 or 2). */
  connects: number;
  /** Each replica's --drain, seconds. */
  drainSec: number;
  /** Bytes each tunnel sends every 200 ms. */
  tickBytes: number;
  /** Scales every deadline (a busy machine). @default 1 */
  slack?: number;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface FleetResults {
  /** Tunnels each replica took at the start. */
  perReplica: number[];
  tunnels: number;
  /** Tunnels opened during the rolling restart, and how many of them landed on the replica that was not ready (must be 0). */
  openedDuringRoll: number;
  landedOnDraining: number;
  /** Bytes echoed back, every one checked. */
  bytes: number;
  /** Lines `resumed after` and `the session is lost` in the connect processes' logs. */
  resumed: number;
  lost: number;
  /** Times to resume from the client's log, s. */
  resumeP50: number;
  resumeP99: number;
  /** Tunnels the reload and the restart of nginx cut (each must resume). */
  cutByNginx: number;
  /** Rolling restart: tunnels finished byte-exact within a drain, and ended by the drain's end. */
  finishedInDrain: number;
  endedByDrain: number;
  /** A client's line for a tunnel ended by the drain. */
  drainMessage: string;
  /** SIGKILL: the replica's tunnels, how many ended (within 90 s x slack), the median and slowest end after the kill (s), a client's line. */
  killed: number;
  killedEnded: number;
  killedEndP50Sec: number;
  killedEndMaxSec: number;
  killMessage: string;
  /** Tunnels that finished byte-exact at the end. */
  finishedAtEnd: number;
  seconds: number;
  problems: string[];
  /** The processes' last lines, when there were problems. */
  detail?: string;
}

const TARGET = 'fleet:7';
const TICK_MS = 200;
/** A tunnel sends no more while this much of it is still to come back. */
const OUTSTANDING = 64 * 1024;

/** One tunnel: sends its pattern, checks the echo, learns its replica from the first byte. */
class Flow {
  replica = -1;
  sent = 0;
  got = 0;
  bad: string | undefined;
  endedAt: number | undefined;
  sending = true;
  private readonly next: Chunker;
  private readonly expect: Chunker;

  constructor(
    readonly socket: net.Socket,
    readonly seed: string,
    readonly openedAt: number,
  ) {
    this.next = patternChunker(seed);
    this.expect = patternChunker(seed);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.take(chunk));
    // Ended when the far side's FIN comes (as an SSH client sees it), not when the socket is
    // fully closed: the proxy then waits up to 5 s for our own FIN.
    socket.once('end', () => {
      this.endedAt ??= performance.now();
      socket.end();
    });
    socket.once('close', () => (this.endedAt ??= performance.now()));
    socket.resume();
  }

  get open(): boolean {
    return this.endedAt === undefined;
  }

  tick(bytes: number): void {
    if (!this.sending || !this.open || this.replica < 0 || this.sent - this.got > OUTSTANDING) return;
    this.socket.write(this.next(bytes));
    this.sent += bytes;
  }

  /** Stops sending, waits for every byte back, ends the tunnel; true when it came back exactly. */
  async finish(timeoutMs: number): Promise<boolean> {
    this.sending = false;
    await waitFor(`tunnel ${this.seed}: its echo`, () => this.got === this.sent || !this.open, timeoutMs).catch(() => {});
    const whole = this.got === this.sent && !this.bad && this.open;
    this.socket.end();
    await waitFor(`tunnel ${this.seed}: its close`, () => !this.open, timeoutMs).catch(() => this.socket.destroy());
    return whole;
  }

  private take(chunk: Buffer): void {
    if (this.replica < 0) {
      this.replica = chunk[0];
      chunk = chunk.subarray(1);
    }
    if (chunk.length === 0 || this.bad) return;
    if (!this.expect(chunk.length).equals(chunk)) this.bad = `tunnel ${this.seed}: bytes ${this.got}-${this.got + chunk.length} differ`;
    this.got += chunk.length;
  }
}

/** The echo a replica reaches: the replica's number, then every byte back. */
function startFarEnd(index: number): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.write(Buffer.from([index]));
    socket.pipe(socket);
  });
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve(server)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** GET /readyz: the status, or 0 when nothing answers. */
export function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Every line a process writes (its Daemon keeps only the last 64 KiB). */
function lines(daemon: ListeningDaemon, into: string[]): void {
  let rest = '';
  const take = (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts);
  };
  daemon.child.stdout?.on('data', take);
  daemon.child.stderr?.on('data', take);
}

class Replica {
  daemon: ListeningDaemon | undefined;
  constructor(
    readonly index: number,
    readonly port: number,
    private readonly hosts: string,
    private readonly drainSec: number,
  ) {}

  async start(): Promise<void> {
    const args = ['--listen', `127.0.0.1:${this.port}`, '--hosts', this.hosts, '--drain', String(this.drainSec)];
    const limits = ['--max-tunnels', '0', '--max-tunnels-per-client', '0'];
    this.daemon = await startListening(`wssh server ${this.index}`, process.execPath, [...nodeArgs(), WSSH_CLI, 'server', ...args, ...limits], SERVER_READY);
  }

  /** Resolves when the process has exited. */
  exited(timeoutMs: number): Promise<unknown> {
    return waitFor(
      `wssh server ${this.index} to exit`,
      () => this.daemon?.exitStatus(),
      timeoutMs,
      () => this.daemon?.output() ?? '',
    );
  }
}

/** Everything the drills start, and the state they share. */
class Fleet {
  readonly flows: Flow[] = [];
  readonly logs: string[] = [];
  readonly problems: string[] = [];
  replicas: Replica[] = [];
  farEnds: net.Server[] = [];
  connects: ListeningDaemon[] = [];
  nginx: Nginx | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    readonly o: FleetOptions,
    readonly dir: string,
  ) {}

  get slack(): number {
    return this.o.slack ?? 1;
  }

  say(line: string): void {
    this.o.progress?.(line);
  }

  check(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  count(pattern: RegExp): number {
    return this.logs.filter((l) => pattern.test(l)).length;
  }

  detail = (): string =>
    [
      ...this.replicas.map((r) => `--- wssh server ${r.index}:\n${r.daemon?.output().slice(-3000)}`),
      `--- wssh connect:\n${this.logs.slice(-40).join('\n')}`,
      `--- nginx:\n${this.nginx?.log().slice(-3000)}`,
    ].join('\n');

  async start(): Promise<void> {
    this.farEnds = await Promise.all([0, 1, 2].map(startFarEnd));
    for (const [i, far] of this.farEnds.entries()) {
      const hosts = path.join(this.dir, `hosts-${i}.yml`);
      fs.writeFileSync(hosts, `# replica ${i}: its own far end\n"${TARGET}": "127.0.0.1:${(far.address() as net.AddressInfo).port}"\n`);
      this.replicas.push(new Replica(i, await freePort(), hosts, this.o.drainSec));
    }
    await Promise.all(this.replicas.map((r) => r.start()));
    this.nginx = await startNginx({
      upstreams: this.replicas.map((r) => ({ port: r.port })),
      readTimeoutSeconds: 75,
      workerConnections: Math.max(1024, 6 * this.o.tunnels + 512),
      accessLog: false,
      // As ingress-nginx runs it: an old worker gives its WebSockets this long after a reload.
      main: 'worker_shutdown_timeout 1s;',
    });
    for (let i = 0; i < this.o.connects; i++) {
      const c = await startConnectProcess(this.nginx.url, [], `wssh connect ${i}`);
      lines(c, this.logs);
      this.connects.push(c);
    }
    this.ticker = setInterval(() => this.flows.forEach((f) => f.tick(this.o.tickBytes)), TICK_MS);
  }

  /** Opens a tunnel and waits for its first byte (its replica). */
  async open(): Promise<Flow> {
    const n = this.seq++;
    const at = performance.now();
    const socket = await openTunnel(this.connects[n % this.connects.length].port, TARGET, { timeoutMs: 60_000 * this.slack });
    const flow = new Flow(socket, `fleet-${n}`, at);
    await waitFor(`tunnel ${n}'s first byte`, () => flow.replica >= 0 || !flow.open, 60_000 * this.slack);
    if (flow.replica < 0) throw new Error(`tunnel ${n} closed before its first byte`);
    this.flows.push(flow);
    return flow;
  }

  live(): Flow[] {
    return this.flows.filter((f) => f.open && f.sending);
  }

  /** Waits until every live tunnel (or those given) has more bytes back than now. */
  async progressed(what: string, flows = this.live()): Promise<void> {
    const before = new Map(flows.map((f) => [f, f.got]));
    await waitFor(
      `${what}: every tunnel's traffic to move on`,
      () => flows.every((f) => !f.open || f.got > (before.get(f) ?? 0)),
      60_000 * this.slack,
      () => {
        const stuck = flows.filter((f) => f.open && f.got <= (before.get(f) ?? 0));
        return `${stuck.length} stuck (e.g. ${stuck[0]?.seed} on replica ${stuck[0]?.replica})\n${this.detail()}`;
      },
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    for (const f of this.flows) f.socket.destroy();
    await Promise.all(this.connects.map((c) => c.stop()));
    await this.nginx?.stop();
    await Promise.all(this.replicas.map((r) => r.daemon?.stop('SIGKILL')));
    for (const far of this.farEnds) far.close();
  }
}

/** Opens `count` tunnels, 50 at a time. */
async function openMany(fleet: Fleet, count: number): Promise<void> {
  for (let done = 0; done < count;) {
    const n = Math.min(50, count - done);
    await Promise.all(Array.from({ length: n }, () => fleet.open()));
    done += n;
    fleet.say(`fleet: ${done} of ${count} tunnels open`);
  }
}

/** nginx reloaded, then restarted: every live tunnel resumes, none is lost. */
async function nginxDrills(fleet: Fleet): Promise<number> {
  let cut = 0;
  for (const drill of ['reload', 'restart'] as const) {
    const live = fleet.live();
    const resumedBefore = fleet.count(/: resumed after /);
    const lostBefore = fleet.count(/the session is lost/);
    fleet.say(`fleet: nginx ${drill} with ${live.length} tunnels flowing`);
    if (drill === 'reload') fleet.nginx!.reload();
    else await fleet.nginx!.restart();
    await waitFor(
      `${live.length} resumes after the nginx ${drill}`,
      () => fleet.count(/: resumed after /) - resumedBefore >= live.length,
      120_000 * fleet.slack,
      () => `${fleet.count(/: resumed after /) - resumedBefore} resumed\n${fleet.detail()}`,
    );
    cut += live.length;
    await fleet.progressed(`after the nginx ${drill}`, live);
    fleet.check(fleet.count(/the session is lost/) === lostBefore, `nginx ${drill}: ${fleet.count(/the session is lost/) - lostBefore} sessions lost`);
    fleet.check(
      live.every((f) => f.open),
      `nginx ${drill}: ${live.filter((f) => !f.open).length} tunnels ended`,
    );
  }
  return cut;
}

interface RollFigures {
  opened: number;
  landedOnDraining: number;
  finished: number;
  ended: number;
  message: string;
}

/** Opens a tunnel every 200 ms until stopped; notes which replica each landed on while `notReady` was set. */
function keepOpening(fleet: Fleet, state: { notReady: number; stop: boolean; opened: number; wrong: number }): Promise<void> {
  return (async () => {
    while (!state.stop) {
      const during = state.notReady;
      try {
        const flow = await fleet.open();
        state.opened++;
        if (during >= 0 && flow.replica === during && state.notReady === during) {
          state.wrong++;
          fleet.problems.push(`tunnel ${flow.seed} landed on replica ${during}, which was not ready`);
        }
      } catch (err) {
        fleet.problems.push(`a new tunnel during the rolling restart failed: ${(err as Error).message}`);
      }
      await delay(TICK_MS);
    }
  })();
}

/** One replica: SIGTERM, not ready, half its tunnels finish, the rest end with the drain; started again. */
async function rollOne(fleet: Fleet, r: Replica, state: { notReady: number }, figures: RollFigures): Promise<void> {
  const mine = fleet.live().filter((f) => f.replica === r.index);
  fleet.say(`fleet: replica ${r.index} drains (${mine.length} tunnels)`);
  const logsAt = fleet.logs.length;
  r.daemon!.child.kill('SIGTERM');
  await waitFor(`replica ${r.index}'s /readyz 503`, async () => (await readyz(r.port)) === 503, 10_000 * fleet.slack, fleet.detail);
  state.notReady = r.index;
  const half = mine.slice(0, Math.floor(mine.length / 2));
  const whole = await Promise.all(half.map((f) => f.finish(fleet.o.drainSec * 1000)));
  figures.finished += whole.filter(Boolean).length;
  fleet.check(
    whole.every(Boolean),
    `replica ${r.index}: ${whole.filter((w) => !w).length} of ${half.length} tunnels did not finish byte-exact within the drain`,
  );
  await r.exited((fleet.o.drainSec + 30) * 1000 * fleet.slack);
  const rest = mine.slice(half.length);
  await waitFor(`replica ${r.index}'s ${rest.length} other tunnels to end`, () => rest.every((f) => !f.open), 30_000 * fleet.slack, fleet.detail);
  figures.ended += rest.length;
  figures.message ||= fleet.logs.slice(logsAt).find((l) => /the session is lost|closed .*\((?!stream ended)/.test(l)) ?? '';
  const restartedAt = performance.now();
  await r.start();
  state.notReady = -1;
  await waitFor(`replica ${r.index}'s /readyz 200`, async () => (await readyz(r.port)) === 200, 10_000 * fleet.slack, fleet.detail);
  // Back in nginx's rotation before the next one drains (with max_fails above 0 nginx would
  // leave it out for fail_timeout, and a fast rolling restart would leave it none: 502).
  await waitFor(
    `replica ${r.index} to take new tunnels again`,
    () => fleet.flows.some((f) => f.replica === r.index && f.openedAt > restartedAt),
    60_000 * fleet.slack,
    fleet.detail,
  );
}

async function rollingRestart(fleet: Fleet): Promise<RollFigures> {
  const figures: RollFigures = { opened: 0, landedOnDraining: 0, finished: 0, ended: 0, message: '' };
  const state = { notReady: -1, stop: false, opened: 0, wrong: 0 };
  const opener = keepOpening(fleet, state);
  try {
    for (const r of fleet.replicas) await rollOne(fleet, r, state, figures);
  } finally {
    state.stop = true;
    await opener;
  }
  figures.opened = state.opened;
  figures.landedOnDraining = state.wrong;
  return figures;
}

/** The replica with the most tunnels killed: its tunnels end at once, the others go on. */
async function killOne(fleet: Fleet): Promise<{ killed: number; ended: number; p50Sec: number; maxSec: number; message: string }> {
  const counts = fleet.replicas.map((r) => fleet.live().filter((f) => f.replica === r.index).length);
  const victim = fleet.replicas[counts.indexOf(Math.max(...counts))];
  const mine = fleet.live().filter((f) => f.replica === victim.index);
  const others = fleet.live().filter((f) => f.replica !== victim.index);
  const lostBefore = fleet.count(/the session is lost/);
  const logsAt = fleet.logs.length;
  fleet.say(`fleet: replica ${victim.index} killed (${mine.length} tunnels)`);
  const at = performance.now();
  await victim.daemon!.stop('SIGKILL');
  // Said, not thrown: how long the last of them took is the figure.
  const deadline = 90_000 * fleet.slack;
  await waitFor(`the killed replica's ${mine.length} tunnels to end`, () => mine.every((f) => !f.open), deadline).catch(() => {
    const open = mine.filter((f) => f.open).length;
    fleet.problems.push(`kill: ${open} of ${mine.length} tunnels of the killed replica still open after ${deadline / 1000} s`);
  });
  const ended = mine.filter((f) => !f.open);
  const times = ended.map((f) => (f.endedAt! - at) / 1000);
  const maxSec = Math.max(0, ...times);
  const lost = fleet.count(/the session is lost/) - lostBefore;
  fleet.check(lost >= ended.length, `kill: ${ended.length} tunnels ended, ${lost} "session is lost" lines`);
  await fleet.progressed('after the kill', others);
  fleet.check(
    others.every((f) => f.open),
    `kill: ${others.filter((f) => !f.open).length} tunnels on the other replicas ended`,
  );
  const message = fleet.logs.slice(logsAt).find((l) => /the session is lost/.test(l)) ?? '';
  return { killed: mine.length, ended: ended.length, p50Sec: percentile(times, 50), maxSec, message };
}

export async function runFleet(o: FleetOptions, dir: string): Promise<FleetResults> {
  const t0 = performance.now();
  const fleet = new Fleet(o, dir);
  try {
    await fleet.start();
    await openMany(fleet, o.tunnels);
    const perReplica = [0, 1, 2].map((i) => fleet.flows.filter((f) => f.replica === i).length);
    await fleet.progressed('at the start');
    const cutByNginx = await nginxDrills(fleet);
    const roll = await rollingRestart(fleet);
    await fleet.progressed('after the rolling restart');
    // The drains ended the first tunnels: as many flowing again as at the start, spread over the new processes.
    await openMany(fleet, Math.max(0, o.tunnels - fleet.live().length));
    const kill = await killOne(fleet);
    fleet.say(`fleet: every live tunnel finishes`);
    const live = fleet.live();
    const whole = await Promise.all(live.map((f) => f.finish(60_000 * fleet.slack)));
    const short = live.filter((_, i) => !whole[i]);
    const e = short[0];
    const example = e ? ` (e.g. ${e.seed}: sent ${e.sent}, got ${e.got}, ${e.open ? 'open' : 'closed'})` : '';
    fleet.check(short.length === 0, `at the end: ${short.length} of ${live.length} tunnels did not come back byte-exact${example}`);
    for (const f of fleet.flows) if (f.bad) fleet.problems.push(f.bad);
    const times = fleet.logs
      .map((l) => / resumed after (\d+\.\d) s/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    return {
      perReplica,
      tunnels: fleet.flows.length,
      openedDuringRoll: roll.opened,
      landedOnDraining: roll.landedOnDraining,
      bytes: fleet.flows.reduce((s, f) => s + f.got, 0),
      resumed: times.length,
      lost: fleet.count(/the session is lost/),
      resumeP50: percentile(times, 50),
      resumeP99: percentile(times, 99),
      cutByNginx,
      finishedInDrain: roll.finished,
      endedByDrain: roll.ended,
      drainMessage: roll.message,
      killed: kill.killed,
      killedEnded: kill.ended,
      killedEndP50Sec: kill.p50Sec,
      killedEndMaxSec: kill.maxSec,
      killMessage: kill.message,
      finishedAtEnd: whole.filter(Boolean).length,
      seconds: (performance.now() - t0) / 1000,
      problems: fleet.problems,
      detail: fleet.problems.length > 0 ? fleet.detail() : undefined,
    };
  } catch (err) {
    (err as Error).message += `\n${fleet.detail()}`;
    throw err;
  } finally {
    await fleet.stop();
  }
}

/** The fleet part's report. */
export function printFleet(o: FleetOptions, r: FleetResults, seconds: number): void {
  const say = (line = '') => process.stdout.write(line + '\n');
  const s = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} s` : '-');
  say(`Fleet: 3 wssh server replicas behind nginx (nginx/wssh-upstream.conf), ${o.tunnels} tunnels through ${o.connects} wssh connect, --drain ${o.drainSec}`);
  say(`  each tunnel an echo of its own pattern, ${o.tickBytes} bytes every ${TICK_MS} ms, every byte checked`);
  say(`  tunnels per replica at the start:  ${r.perReplica.join(' / ')}`);
  say(`  nginx reload and restart:          ${r.cutByNginx} tunnels cut, all resumed, none lost`);
  say(
    `  rolling restart:                   ${r.openedDuringRoll} new tunnels opened meanwhile, ${r.landedOnDraining} on a replica that was not ready; ` +
      `${r.finishedInDrain} finished byte-exact within a drain, ${r.endedByDrain} ended by the drain's end`,
  );
  say(`    a tunnel ended by a drain:       ${r.drainMessage.replace(/^\S+ /, '')}`);
  say(
    `  replica killed (SIGKILL):          ${r.killedEnded} of its ${r.killed} tunnels ended, p50 ${s(r.killedEndP50Sec)}, ` +
      `the last ${s(r.killedEndMaxSec)} after the kill; the others carried on`,
  );
  say(`    the client's line:               ${r.killMessage.replace(/^\S+ /, '')}`);
  say(`  tunnels in all:                    ${r.tunnels}; ${r.finishedAtEnd} finished byte-exact at the end`);
  say(`  bytes echoed and checked:          ${(r.bytes / 1024 / 1024).toFixed(1)} MiB`);
  say(`  sessions resumed / lost:           ${r.resumed} / ${r.lost}`);
  say(`  time to resume (client's log):     p50 ${s(r.resumeP50)}, p99 ${s(r.resumeP99)}`);
  say(`  ${r.problems.length === 0 ? 'every drill held' : `PROBLEMS (${r.problems.length}):`}`);
  for (const p of r.problems.slice(0, 20)) say(`    ${p}`);
  say(`  (${seconds.toFixed(0)} s)`);
}
