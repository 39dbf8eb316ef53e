// The built `wssh` command as users run it: help and version everywhere, one
// clear line and exit code 2 for anything wrong on the command line, a
// refusal to start on a missing or broken hosts.yml, and a graceful SIGTERM
// that lets open tunnels drain.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { runProgram, type RunResult, waitForOutput } from '../../scripts/harness/processes';
import { canConnect } from '../../scripts/harness/ports';
import { startEcho } from '../fixtures/byteStreams';
import { WSSH_CLI, spawnWsshServer, writeHosts, usageError } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { probe } from '../fixtures/upgradeClient';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };

function wssh(...args: string[]): Promise<RunResult> {
  return runProgram(process.execPath, [WSSH_CLI, ...args], { timeoutMs: 15_000 });
}

test('--help and --version', async (t) => {
  await t.test('wssh --help lists the commands', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await wssh(flag);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      const text = r.stdout.toString();
      assert.match(text, /^Usage: wssh <command>/);
      for (const command of ['server', 'connect', 'client']) assert.match(text, new RegExp(`^  ${command} `, 'm'));
    }
  });

  await t.test('wssh --version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await wssh(flag);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.toString(), `wssh ${pkg.version}\n`);
    }
  });

  for (const command of ['server', 'connect', 'client']) {
    await t.test(`wssh ${command} --help and --version`, async () => {
      const help = await wssh(command, '--help');
      assert.equal(help.code, 0);
      assert.equal(help.stderr, '');
      assert.match(help.stdout.toString(), new RegExp(`^Usage: wssh ${command} `));
      assert.match(help.stdout.toString(), /\n {2}--\w/, 'lists its options');
      // --help wins over a wrong number of arguments.
      const helpAnyway = await wssh(command, 'one', 'two', '-h');
      assert.equal(helpAnyway.code, 0, helpAnyway.stderr);
      assert.equal(helpAnyway.stdout.toString(), help.stdout.toString());

      const version = await wssh(command, '--version');
      assert.equal(version.code, 0);
      assert.equal(version.stdout.toString(), `wssh ${pkg.version}\n`);
    });
  }

  await t.test('wssh alone prints the usage and exits 2', async () => {
    const r = await wssh();
    assert.equal(r.code, 2);
    assert.match(r.stdout.toString() + r.stderr, /Usage: wssh <command>/);
  });
});

test('a wrong command line: one line on stderr, exit code 2', async (t) => {
  await t.test('an unknown command', () =>
    usageError(['serve'], /^wssh: unknown command "serve" \(expected server, connect, client, doctor or profile; see wssh --help\)$/m),
  );
  await t.test('an unknown option', () => usageError(['connect', 'ws://gw/ssh', '--bogus'], /Unknown option '--bogus'.*\(see wssh connect --help\)$/m));
  await t.test('an option without its value', () =>
    usageError(['server', '--hosts'], /Option '--hosts <value>' argument missing \(see wssh server --help\)$/m),
  );
  await t.test('a missing argument', () => usageError(['client'], /^wssh: wssh client takes one argument, got 0 \(see wssh client --help\)$/m));
  await t.test('an extra argument', () => usageError(['connect', 'ws://gw/ssh', 'more'], /^wssh: wssh connect takes one argument, got 2 /m));
  await t.test('an argument to server', () => usageError(['server', 'now'], /^wssh: wssh server takes no arguments, got 1 /m));
  await t.test('http:// instead of ws://', () =>
    usageError(['client', 'http://x'], /^wssh: "http:\/\/x": use ws:\/\/ instead of http:\/\/ \(WSSH speaks WebSocket\)$/m),
  );
  await t.test('https:// instead of wss://', () => usageError(['connect', 'https://gw/ssh'], /use wss:\/\/ instead of https:\/\//));
  await t.test('an endpoint without a host', () =>
    usageError(['connect', 'wss://'], /^wssh: endpoint "wss:\/\/": the endpoint has no host \(e\.g\. wss:\/\/gw\.example\.com\/ssh\)$/m),
  );
  await t.test('a client URI without a host', () => usageError(['client', 'wss://'], /^wssh: "wss:\/\/": the endpoint has no host/m));
  await t.test('a client URI without a target', () => usageError(['client', 'wss://gw'], /names no target host/));
  await t.test('a bad port in the endpoint', () => usageError(['connect', 'ws://gw:99999/ssh'], /port "99999" is not a number from 1 to 65535/));
  await t.test('the secret is never echoed', async () => {
    const r = await wssh('client', 'http://alice:hunter2@gw/ssh/h');
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });
  await t.test('a bad --listen (server)', () =>
    usageError(['server', '--listen', 'nope'], /^wssh: --listen "nope": expected PORT, HOST:PORT or \[IPv6\]:PORT$/m),
  );
  await t.test('a bad --listen port (connect)', () =>
    usageError(['connect', 'ws://gw/ssh', '--listen', '127.0.0.1:70000'], /^wssh: --listen "127\.0\.0\.1:70000": expected PORT/m),
  );
  await t.test('a --listen host that is not an address', () =>
    usageError(['connect', 'ws://gw/ssh', '--listen', 'gw.example.com:3122'], /"gw\.example\.com" is not an IP address/),
  );
  // Checked before anything is dialled: gw does not resolve, and that must not be the error.
  await t.test('a bad --keepalive (client)', () =>
    usageError(['client', 'ws://gw/ssh/h', '--keepalive', 'soon'], /^wssh: --keepalive "soon": expected a number of seconds$/m),
  );
  await t.test('a bad --keepalive (connect)', () =>
    usageError(['connect', 'ws://gw/ssh', '--keepalive', '1s'], /^wssh: --keepalive "1s": expected a number of seconds$/m),
  );
  await t.test('a bad --drain', () => usageError(['server', '--drain=-1'], /^wssh: --drain "-1": expected a number of seconds$/m));
  await t.test('a bad --trust-proxy', () =>
    usageError(['server', '--trust-proxy', 'maybe'], /^wssh: --trust-proxy "maybe": expected loopback, always, never$/m),
  );
  await t.test('a --ca file that does not exist', () =>
    usageError(['client', 'wss://gw/ssh/h', '--ca', '/nonexistent/ca.pem'], /^wssh: --ca "\/nonexistent\/ca\.pem": ENOENT$/m),
  );
});

test('wssh server refuses to start without a usable hosts.yml', async (t) => {
  const dir = tempDir(t, 'wssh-cli-hosts-');

  await t.test('a missing file: the message names it', async () => {
    const file = path.join(dir, 'missing.yml');
    const r = await wssh('server', '--listen', '127.0.0.1:0', '--hosts', file);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `wssh: ${file}: file not found\n`);
  });

  await t.test('a broken file: the message names the file and the line', async () => {
    const file = path.join(dir, 'broken.yml');
    fs.writeFileSync(file, ['# hosts', 'localhost: true', 'db1.lan true', 'db2.lan: true', ''].join('\n'));
    const r = await wssh('server', '--listen', '127.0.0.1:0', '--hosts', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^wssh: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: .+\\n$`));
  });

  await t.test('a file with a bad rule: the line of the rule', async () => {
    const file = path.join(dir, 'bad-rule.yml');
    fs.writeFileSync(file, ['localhost: true', '/[unclosed/: true', ''].join('\n'));
    const r = await wssh('server', '--listen', '127.0.0.1:0', '--hosts', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-rule\.yml:2:1: invalid regex \/\[unclosed\/: /);
  });

  await t.test('the port already in use: one clear line, for server and connect', async (st) => {
    const good = writeHosts(dir, 'localhost: true\n');
    const first = await spawnWsshServer(good);
    st.after(() => first.stop());
    const server = await wssh('server', '--listen', `127.0.0.1:${first.port}`, '--hosts', good);
    assert.equal(server.code, 1);
    assert.match(server.stderr, new RegExp(`^wssh: 127\\.0\\.0\\.1:${first.port} is already in use: .*\\(try --listen\\)\\n$`, 'm'));
    const connect = await wssh('connect', 'ws://127.0.0.1:1/ssh', '--listen', `127.0.0.1:${first.port}`);
    assert.equal(connect.code, 1);
    assert.equal(connect.stderr, `wssh: 127.0.0.1:${first.port} is already in use: is another wssh running? (try --listen)\n`);
  });
});

test('wssh server on SIGTERM is not ready at once, refuses new tunnels and lets an open tunnel drain', async (t) => {
  const dir = tempDir(t, 'wssh-cli-drain-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const hostsFile = writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`);
  const tunnelUrl = (port: number) => `ws://127.0.0.1:${port}/ssh/127.0.0.1%3A${echo.port}`;

  /** Opens a tunnel with a plain WebSocket client and returns a round-trip function. */
  async function openTunnel(port: number) {
    const ws = new WebSocket(tunnelUrl(port));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const echoOnce = (data: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let got = 0;
        const onMessage = (m: Buffer) => {
          chunks.push(m);
          got += m.length;
          if (got >= data.length) {
            ws.off('message', onMessage);
            resolve(Buffer.concat(chunks));
          }
        };
        ws.on('message', onMessage);
        ws.once('close', () => reject(new Error(`closed after ${got} of ${data.length} bytes`)));
        ws.send(data);
      });
    return { ws, closed, echoOnce };
  }

  await t.test('the open tunnel goes on; new ones are refused; exit 0 when it closes', async (st) => {
    // A drain far longer than the test: only the tunnel's close can end the wait.
    const DRAIN_S = 120;
    const server = await spawnWsshServer(hostsFile, ['--drain', String(DRAIN_S)]);
    st.after(() => server.stop('SIGKILL'));
    const tunnel = await openTunnel(server.port);
    const hello = crypto.randomBytes(1000);
    assert.deepEqual(await tunnel.echoOnce(hello), hello);

    server.child.kill('SIGTERM');
    await waitFor(
      'the drain message',
      () => new RegExp(`SIGTERM: not ready, not accepting new tunnels; 1 open, waiting up to ${DRAIN_S}s`).test(server.output()),
      10_000,
      () => server.output(),
    );
    // Not ready, and no new tunnels; it still listens, so the probes are answered and a client is told why.
    assert.deepEqual(await probe(server.port, '/readyz'), { status: 503, body: { status: 'not ready', reasons: ['draining'] } });
    const late = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(tunnelUrl(server.port));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(undefined));
    });
    assert.equal(late, 503, 'a new tunnel is refused while draining');
    // The open tunnel still carries bytes.
    const later = crypto.randomBytes(64 * 1024);
    assert.deepEqual(await tunnel.echoOnce(later), later);
    assert.equal(server.exitStatus(), undefined, 'the server waits for the open tunnel');

    const closedAt = Date.now();
    tunnel.ws.close();
    await tunnel.closed;
    // Well before the drain ran out: the exit came from the tunnel's close.
    await waitFor(
      'the server to exit',
      () => server.exitStatus(),
      30_000,
      () => server.output(),
    );
    const exitMs = Date.now() - closedAt;
    assert.deepEqual(server.exitStatus(), { code: 0, signal: null });
    assert.ok(exitMs < DRAIN_S * 1000, `exited ${exitMs} ms after the last tunnel closed`);
    await waitForOutput(server, /tunnel \d+ closed client=127\.0\.0\.1 .* up=66536 down=66536 /);
    await waitForOutput(server, /wssh server stopped\n$/);
    assert.equal(await canConnect(server.port), false, 'no longer listening');
    st.diagnostic(`exited ${exitMs} ms after the last tunnel closed`);
  });

  await t.test('a tunnel still open when --drain runs out is cut, and the server exits 0', async (st) => {
    const server = await spawnWsshServer(hostsFile, ['--drain', '1']);
    st.after(() => server.stop('SIGKILL'));
    const tunnel = await openTunnel(server.port);
    const started = Date.now();
    server.child.kill('SIGTERM');
    const code = await tunnel.closed;
    const cutMs = Date.now() - started;
    await waitFor(
      'the server to exit',
      () => server.exitStatus(),
      30_000,
      () => server.output(),
    );
    assert.deepEqual(server.exitStatus(), { code: 0, signal: null });
    // Not before the drain ran out (its clock starts at the signal, after `started`), and cut for the shutdown.
    assert.ok(cutMs >= 900, `the tunnel was cut after ${cutMs} ms; --drain 1`);
    await waitForOutput(server, /reason="server shutting down"/);
    st.diagnostic(`cut after ${cutMs} ms (close code ${code})`);
  });
});
