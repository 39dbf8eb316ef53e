// `npm run demo` as a process: a port in use is the one line `wssh server`
// (or `wssh connect`) prints for it, no stack trace; once it runs, its check
// reads a real sshd's banner through the demo's own proxy, or says that no
// SSH server answers and how to start one. The demo's addresses, policy and
// check target are injected (runDemo's options), so the tests need neither
// port 22 nor the default ports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { runProgram, spawnDaemon, type Daemon } from '../../scripts/harness/processes';
import { freePort } from '../../scripts/harness/ports';
import { requireProgram } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { WSSH_CLI, writeHosts } from '../fixtures/wssh';
import type { DemoOptions } from '../../scripts/demo';

const DEMO = path.join(__dirname, '..', '..', 'scripts', 'demo.js');
const DEMO_HOSTS = path.join(__dirname, '..', '..', '..', 'server', 'hosts.demo.yml');

function demoArgs(options: DemoOptions): string[] {
  return ['-e', `require(${JSON.stringify(DEMO)}).runDemo(${JSON.stringify(options)})`];
}

/** A port held by a plain listener, as another program would hold it. */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

test('a server port in use: the demo prints the line wssh server prints, no stack trace, exit code 1', async () => {
  const held = await holdPort();
  try {
    const listen = `127.0.0.1:${held.port}`;
    const server = await runProgram(process.execPath, [WSSH_CLI, 'server', '--listen', listen, '--hosts', DEMO_HOSTS], { timeoutMs: 15_000 });
    const demo = await runProgram(process.execPath, demoArgs({ serverListen: listen }), { timeoutMs: 15_000 });
    assert.equal(server.code, 1, server.stderr);
    assert.equal(demo.code, 1, demo.stderr);
    assert.equal(lastLine(demo.stderr), lastLine(server.stderr));
    assert.equal(lastLine(demo.stderr), `wssh: ${listen} is already in use: is another wssh server running? (try --listen)`);
    assert.doesNotMatch(demo.stderr, /^\s+at /m, 'no stack trace');
  } finally {
    await held.release();
  }
});

test('a proxy port in use: the line wssh connect prints, and the demo exits', async () => {
  const held = await holdPort();
  try {
    const listen = `127.0.0.1:${held.port}`;
    const connect = await runProgram(process.execPath, [WSSH_CLI, 'connect', 'ws://localhost:1/ssh', '--listen', listen], { timeoutMs: 15_000 });
    const demo = await runProgram(process.execPath, demoArgs({ serverListen: '127.0.0.1:0', proxyListen: listen }), { timeoutMs: 15_000 });
    assert.equal(demo.code, 1, demo.stderr);
    assert.equal(lastLine(demo.stderr), lastLine(connect.stderr));
    assert.match(lastLine(demo.stderr), /^wssh: 127\.0\.0\.1:\d+ is already in use: is another wssh running\? \(try --listen\)$/);
    assert.doesNotMatch(demo.stderr, /^\s+at /m, 'no stack trace');
  } finally {
    await held.release();
  }
});

/** Starts the demo; resolves with it once its check has printed its verdict. */
async function startDemo(options: DemoOptions): Promise<{ demo: Daemon; verdict: string }> {
  const demo = spawnDaemon('demo', process.execPath, demoArgs(options));
  const verdict = await waitFor(
    "the demo's check",
    () => /^Checked: .*(\n.*){0,2}/m.exec(demo.output())?.[0] ?? (demo.exitStatus() ? `exited: ${demo.output()}` : undefined),
    20_000,
    demo.output,
  );
  return { demo, verdict };
}

test("the demo's check reads the SSH banner of a real sshd through its own proxy", async (t) => {
  if (!requireProgram(t, 'sshd')) return;
  const sshd = await startSshd();
  const dir = tempDir(t);
  const hosts = writeHosts(dir, `"127.0.0.1:${sshd.port}": true\n`);
  const { demo, verdict } = await startDemo({ serverListen: '127.0.0.1:0', proxyListen: '127.0.0.1:0', hosts, check: { host: '127.0.0.1', port: sshd.port } });
  try {
    assert.match(verdict, new RegExp(`^Checked: 127\\.0\\.0\\.1:${sshd.port} answers through the demo's own proxy and server: SSH-2\\.0-OpenSSH`), demo.output());
    await demo.stop('SIGTERM', 10_000);
    assert.deepEqual(demo.exitStatus(), { code: 0, signal: null }, demo.output());
  } finally {
    await demo.stop('SIGKILL');
    await sshd.stop();
  }
});

test("the demo's check on a port where nothing listens says so and how to start an SSH server", async (t) => {
  const closed = await freePort();
  const dir = tempDir(t);
  const hosts = writeHosts(dir, `"127.0.0.1:${closed}": true\n`);
  const { demo, verdict } = await startDemo({ serverListen: '127.0.0.1:0', proxyListen: '127.0.0.1:0', hosts, check: { host: '127.0.0.1', port: closed } });
  try {
    assert.match(verdict, new RegExp(`^Checked: no SSH server answers on 127\\.0\\.0\\.1:${closed} through the demo's proxy \\(502 .*connection refused`), demo.output());
    assert.match(verdict, /sudo systemctl start ssh/);
    assert.match(verdict, /sudo apt install openssh-server/);
    // It goes on running: the check is advice, not a failure.
    assert.equal(demo.exitStatus(), undefined, demo.output());
  } finally {
    await demo.stop('SIGTERM', 10_000);
  }
});
