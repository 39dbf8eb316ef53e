// `npm run demo` as a process: a port in use is the one line `wssh server`
// (or `wssh connect`) prints for it, no stack trace; once it runs, its check
// says that no SSH server answers and how to start one. (Its check reading a
// real sshd's banner: test/e2e/demo.test.ts.) The demo's addresses, policy and
// check target are injected (test/fixtures/demo.ts), so the tests need
// neither port 22 nor the default ports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { runProgram } from '../../scripts/harness/processes';
import { freePort } from '../../scripts/harness/ports';
import { demoArgs, startDemo } from '../fixtures/demo';
import { tempDir } from '../fixtures/tmp';
import { WSSH_CLI, writeHosts } from '../fixtures/wssh';

const DEMO_HOSTS = path.join(__dirname, '..', '..', '..', 'server', 'hosts.demo.yml');

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

test("the demo's check on a port where nothing listens says so and how to start an SSH server", async (t) => {
  const closed = await freePort();
  const dir = tempDir(t);
  const hosts = writeHosts(dir, `"127.0.0.1:${closed}": true\n`);
  const { demo, verdict } = await startDemo({ serverListen: '127.0.0.1:0', proxyListen: '127.0.0.1:0', hosts, check: { host: '127.0.0.1', port: closed } });
  try {
    assert.match(
      verdict,
      new RegExp(`^Checked: no SSH server answers on 127\\.0\\.0\\.1:${closed} through the demo's proxy \\(502 .*connection refused`),
      demo.output(),
    );
    assert.match(verdict, /sudo systemctl start ssh/);
    assert.match(verdict, /sudo apt install openssh-server/);
    // It goes on running: the check is advice, not a failure.
    assert.equal(demo.exitStatus(), undefined, demo.output());
  } finally {
    await demo.stop('SIGTERM', 10_000);
  }
});
