// Resume drills on the real programs (issue #20): OpenSSH and plink through
// `wssh connect`, OpenSSH through `wssh client`, with the path between the
// client side and the server broken for real: a Cutter (scripts/harness/
// cutter.ts) that resets or silently stalls every connection, nginx
// restarted, the local proxy's process stopped (a sleeping laptop), and two
// servers behind nginx's shipped upstream (the resume must reach the server
// that holds the session).
//
// The interactive check: a remote command prints a numbered line every
// 100 ms; every line must arrive, once, in order, and the command exit 0.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { requirePrograms } from '../../scripts/harness/programs';
import { Cutter, type CutKind } from '../../scripts/harness/cutter';
import { startNginx } from '../../scripts/harness/nginx';
import { killOnExit } from '../../scripts/harness/processes';
import { startSshd, puttyKey, type Sshd } from '../fixtures/sshd';
import { sshArgs } from '../fixtures/ssh';
import { plinkSession } from '../fixtures/plink';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts, type WsshProcess } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';

const LINES = 100;
/** Prints 1..LINES, one every 100 ms. */
const COUNTING = `i=1; while [ $i -le ${LINES} ]; do echo $i; i=$((i+1)); sleep 0.1; done`;

interface Watched {
  /** Lines printed so far. */
  lines(): string[];
  stderr(): string;
  done: Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
  kill(): void;
}

/** Runs `command args`, collecting stdout as it comes (for the test to cut at a given line). */
function watch(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: Buffer): Watched {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  killOnExit(child);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.on('error', () => {});
  if (input) child.stdin.end(input);
  const done = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr })),
  );
  return { lines: () => Buffer.concat(out).toString().split('\n').filter(Boolean), stderr: () => stderr, done, kill: () => child.kill('SIGKILL') };
}

/**
 * Cuts the path three times while the counting command prints, each after the
 * line count moved on; checks every line came. The stall comes last: it takes
 * the client's pings 6-9 s to find, by when the command may have printed the
 * rest, which the server then holds and replays.
 */
async function countThroughCuts(run: Watched, cutter: Cutter, logs: () => string, kinds: CutKind[] = ['destroy', 'destroy', 'stall']): Promise<void> {
  for (const [i, kind] of kinds.entries()) {
    const at = 8 + i * 12;
    await waitFor(
      `line ${at}`,
      () => run.lines().length >= at,
      60_000,
      () => `${run.stderr()}\n${logs()}`,
    );
    cutter.cut(kind);
    // The resume itself, as the server logs it (a new connection may be an attempt): each cut is a break of its own.
    await waitFor(
      `the resume after cut ${i + 1} (${kind})`,
      () => (logs().match(/tunnel \d+ resumed after/g) ?? []).length === i + 1,
      60_000,
      () => `${run.stderr()}\n${logs()}`,
    );
  }
  const result = await run.done;
  assert.equal(result.code, 0, `the command failed: ${result.stderr}\n${logs()}`);
  assert.deepEqual(
    result.stdout.toString().split('\n').filter(Boolean),
    Array.from({ length: LINES }, (_, i) => String(i + 1)),
    'every line once, in order',
  );
}

interface Path {
  sshd: Sshd;
  server: WsshProcess;
  cutter: Cutter;
  dir: string;
  logs(): string;
}

/** sshd behind `wssh server` (host names localhost and localhost:PORT allowed), and a Cutter in front of the server. */
async function startPath(t: TestContext, name: string, serverArgs: string[] = []): Promise<Path> {
  const dir = tempDir(t, `wssh-e2e-resume-${name}-`);
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const hosts = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
  const server = await spawnWsshServer(hosts, serverArgs);
  t.after(() => server.stop());
  const cutter = new Cutter(server.port);
  await cutter.listen();
  t.after(() => cutter.close());
  return { sshd, server, cutter, dir, logs: () => `--- wssh server:\n${server.output()}` };
}

test('OpenSSH through wssh connect survives three cuts: every line, in order, exit 0', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const p = await startPath(t, 'ssh');
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${p.cutter.port}/ssh`);
  t.after(() => proxy.stop());
  const logs = () => `${p.logs()}\n--- wssh connect:\n${proxy.output()}`;
  const run = watch(programs.ssh, [
    ...sshArgs(p.sshd, { host: 'localhost', proxyCommand: `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p` }),
    COUNTING,
  ]);
  await countThroughCuts(run, p.cutter, logs);
  // The user's log says what happened, with the time and what was replayed.
  assert.match(proxy.output(), /tunnel \d+ to localhost:\d+: connection lost \(.*\); resuming/);
  assert.match(proxy.output(), /tunnel \d+ to localhost:\d+: resumed after \d+\.\d s, .* replayed/);
  assert.match(p.server.output(), /tunnel \d+ resumed after \d+\.\ds: \d+ bytes replayed \(resume 3\)/);
});

test('plink through wssh connect survives three cuts', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'plink', 'puttygen');
  if (!programs) return;
  const p = await startPath(t, 'plink');
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${p.cutter.port}/ssh`);
  t.after(() => proxy.stop());
  const ppk = await puttyKey(p.sshd);
  const home = path.join(p.dir, 'home');
  plinkSession(home, 'wssh', { proxyHost: '127.0.0.1', proxyPort: proxy.port });
  const args = ['-batch', '-load', 'wssh', '-P', String(p.sshd.port), '-i', ppk, '-hostkey', p.sshd.hostKeyFingerprint, `${p.sshd.user}@localhost`, COUNTING];
  const run = watch(programs.plink, args, { ...process.env, HOME: home });
  await countThroughCuts(run, p.cutter, () => `${p.logs()}\n--- wssh connect:\n${proxy.output()}`);
});

test('OpenSSH through wssh client (ProxyCommand) survives three cuts', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh');
  if (!programs) return;
  const p = await startPath(t, 'client');
  const run = watch(programs.ssh, [
    ...sshArgs(p.sshd, { host: 'localhost', proxyCommand: `${process.execPath} ${WSSH_CLI} client ws://127.0.0.1:${p.cutter.port}/ssh/%h` }),
    COUNTING,
  ]);
  await countThroughCuts(run, p.cutter, p.logs);
  assert.match(run.stderr(), /wssh: resumed after \d+\.\d s/, 'wssh client says it on stderr, which ssh shows');
});

test('64 MiB each way through ssh, cut at five random points: byte-exact', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const p = await startPath(t, 'bulk');
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${p.cutter.port}/ssh`);
  t.after(() => proxy.stop());
  const size = 64 * 1024 * 1024;
  const data = crypto.randomBytes(size);
  // Both directions pass the cutter: 128 MiB and the SSH overhead. Five cuts somewhere in the first 120 MiB.
  const points = Array.from({ length: 5 }, () => Math.floor(Math.random() * 120 * 1024 * 1024)).sort((a, b) => a - b);
  t.diagnostic(`cuts at ${points.map((n) => `${(n / 1024 / 1024).toFixed(1)} MiB`).join(', ')}`);
  p.cutter.cutAt(points.map((at, i) => ({ at, kind: i % 2 === 0 ? 'destroy' : 'stall' })));
  const proxyCommand = `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p`;
  const result = await watch(programs.ssh, [...sshArgs(p.sshd, { host: 'localhost', proxyCommand }), 'cat'], process.env, data).done;
  assert.equal(result.code, 0, `ssh failed: ${result.stderr}\n${p.logs()}\n${proxy.output()}`);
  assert.equal(result.stdout.length, size, 'as many bytes back as sent');
  assert.ok(result.stdout.equals(data), 'the bytes back are the bytes sent');
  assert.equal(p.cutter.cuts, 5);
  assert.equal((proxy.output().match(/resumed after/g) ?? []).length, 5, proxy.output());
});

test('nginx restarted between the client and the server mid-transfer: the transfer completes', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc', 'nginx');
  if (!programs) return;
  const p = await startPath(t, 'nginx');
  const nginx = await startNginx({ upstreamPort: p.server.port, readTimeoutSeconds: 75 });
  t.after(() => nginx.stop());
  const proxy = await spawnWsshConnect(nginx.url);
  t.after(() => proxy.stop());
  const logs = () => `${p.logs()}\n--- wssh connect:\n${proxy.output()}\n--- nginx:\n${nginx.log()}`;
  const run = watch(programs.ssh, [
    ...sshArgs(p.sshd, { host: 'localhost', proxyCommand: `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p` }),
    COUNTING,
  ]);
  await waitFor('line 10', () => run.lines().length >= 10, 60_000, logs);
  await nginx.restart();
  await waitFor('the resume through the new nginx', () => /resumed after/.test(proxy.output()), 60_000, logs);
  const result = await run.done;
  assert.equal(result.code, 0, `ssh failed: ${result.stderr}\n${logs()}`);
  assert.deepEqual(
    result.stdout.toString().split('\n').filter(Boolean),
    Array.from({ length: LINES }, (_, i) => String(i + 1)),
  );
});

test("the local proxy's process stopped longer than the server's ping timeout (a sleeping laptop): resumed after it wakes", async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  // The server drops a peer after two missed pings: 1 s pings make that 2-3 s.
  const p = await startPath(t, 'sleep', ['--keepalive', '1']);
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${p.cutter.port}/ssh`);
  t.after(() => proxy.stop());
  const logs = () => `${p.logs()}\n--- wssh connect:\n${proxy.output()}`;
  const run = watch(programs.ssh, [
    ...sshArgs(p.sshd, { host: 'localhost', proxyCommand: `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p` }),
    COUNTING,
  ]);
  await waitFor('line 10', () => run.lines().length >= 10, 60_000, logs);
  process.kill(proxy.pid, 'SIGSTOP');
  try {
    await waitFor('the server to park the session', () => /tunnel \d+ parked: ping timeout/.test(p.server.output()), 30_000, logs);
  } finally {
    process.kill(proxy.pid, 'SIGCONT');
  }
  const result = await run.done;
  assert.equal(result.code, 0, `ssh failed: ${result.stderr}\n${logs()}`);
  assert.deepEqual(
    result.stdout.toString().split('\n').filter(Boolean),
    Array.from({ length: LINES }, (_, i) => String(i + 1)),
  );
  assert.match(proxy.output(), /resumed after/);
});

test('two servers behind nginx (the shipped upstream): each resume reaches its server; one that does not hold it refuses, the client says so', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc', 'nginx');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-resume-two-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const hosts = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n"localhost:${sshd.port}": "127.0.0.1:${sshd.port}"\n`);
  const a = await spawnWsshServer(hosts, ['--drain', '0']);
  t.after(() => a.stop());
  const b = await spawnWsshServer(hosts, ['--drain', '0']);
  t.after(() => b.stop());
  const nginx = await startNginx({ upstreams: [{ port: a.port }, { port: b.port }] });
  t.after(() => nginx.stop());
  const cutter = new Cutter(nginx.port);
  await cutter.listen();
  t.after(() => cutter.close());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${cutter.port}/ssh`);
  t.after(() => proxy.stop());
  const logs = () => `--- a:\n${a.output()}\n--- b:\n${b.output()}\n--- wssh connect:\n${proxy.output()}\n--- nginx:\n${nginx.log()}`;
  const proxyCommand = `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h %p`;
  // Long-running sessions: sleep, then say done. Enough of them that both servers hold some.
  const runs = Array.from({ length: 6 }, () =>
    watch(programs.ssh, [...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo started; read line; echo "got $line"']),
  );
  t.after(() => runs.forEach((r) => r.kill()));
  await waitFor('six sessions started', () => runs.every((r) => r.lines().length >= 1), 60_000, logs);
  const opens = (d: WsshProcess) => (d.output().match(/tunnel \d+ open /g) ?? []).length;
  assert.ok(opens(a) >= 1 && opens(b) >= 1, `the session keys spread the tunnels: a ${opens(a)}, b ${opens(b)}\n${logs()}`);
  const before = cutter.connections;
  cutter.cut('destroy');
  await waitFor('six resumes', () => (proxy.output().match(/resumed after/g) ?? []).length === 6, 60_000, logs);
  assert.equal((a.output().match(/resumed after/g) ?? []).length, opens(a), "each of a's sessions resumed on a");
  assert.equal((b.output().match(/resumed after/g) ?? []).length, opens(b), "each of b's sessions resumed on b");
  assert.ok(cutter.connections >= before + 6);
  // a goes away: its sessions' resumes reach b, which does not hold them.
  const onA = opens(a);
  await a.stop('SIGKILL');
  cutter.cut('destroy');
  await waitFor(
    `${onA} sessions lost`,
    () =>
      (proxy.output().match(/the session is lost: the session could not be resumed: the WSSH server at .* does not hold the session/g) ?? []).length === onA,
    60_000,
    logs,
  );
  assert.match(b.output(), /tunnel refused client=127\.0\.0\.1 target=localhost:\d+ status=410 reason="resume of session /);
});
