// Compatibility with the original wssh's wire format (../shared/seed/README):
// one WebSocket per tunnel at `<endpoint>/<host>` (the bare host, port 22),
// SSH bytes as binary frames, and an old server's error as a TEXT frame sent
// after the upgrade, followed by a close.
//
// The "original-style" server (test/fixtures/oldServer.ts) and client (below)
// are as small as the original ones: the server takes `req.url.split('/').pop()` as the host
// and connects to port 22 of it (mapped to test ports), the client pipes
// stdin and stdout through binary frames.

import { test } from 'node:test';
import * as crypto from 'node:crypto';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { requirePrograms } from '../../scripts/harness/programs';
import { puttyKey, startSshd } from '../fixtures/sshd';
import { runSsh, sshArgs } from '../fixtures/ssh';
import { runProgram, killOnExit } from '../../scripts/harness/processes';
import { freePort } from '../../scripts/harness/ports';
import { startEcho } from '../fixtures/byteStreams';
import { WSSH_CLI, spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { BURST, startOldServer } from '../fixtures/oldServer';
import { connectThroughProxy, readExactly, roundTrip, waitFor } from '../fixtures/tunnel';
import { ProxyMethod, plinkAt, plinkSession } from '../fixtures/plink';

/** An original-style client: stdin to binary frames, frames to stdout; exits when the WebSocket closes. */
function oldClientScript(dir: string): string {
  const file = path.join(dir, 'old-client.js');
  fs.writeFileSync(
    file,
    `const WebSocket = require(${JSON.stringify(require.resolve('ws'))});
const ws = new WebSocket(process.argv[2]);
ws.on('open', () => {
  process.stdin.on('data', (chunk) => ws.send(chunk));
  process.stdin.on('end', () => ws.close());
  ws.on('message', (data) => process.stdout.write(data));
});
ws.on('close', () => process.stdout.write('', () => process.exit(0)));
ws.on('error', (err) => { process.stderr.write(String(err) + '\\n'); process.exit(1); });
`,
  );
  return file;
}

test('our clients against an original-style server', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc');
  if (!programs) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const closedPort = await freePort();
  const old = await startOldServer({ localhost: sshd.port }, closedPort);
  t.after(() => old.close());
  const endpoint = `ws://127.0.0.1:${old.port}/ssh`;

  await t.test('wssh client: ssh runs a command; the path is the bare host', async () => {
    const before = old.urls.length;
    const proxyCommand = `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(old.urls.slice(before), ['/ssh/localhost']);
  });

  await t.test('wssh connect: ssh through nc runs a command; CONNECT host:22 becomes the bare host', async (st) => {
    const proxy = await spawnWsshConnect(endpoint);
    st.after(() => proxy.stop());
    const before = old.urls.length;
    // Port 22 for the proxy (%p would be the test sshd's port, which the old server cannot express).
    const proxyCommand = `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h 22`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${proxy.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.deepEqual(old.urls.slice(before), ['/ssh/localhost']);
  });

  await t.test("wssh client: the old server's text frame is an error on stderr, never in the stream", async (st) => {
    // Alone: nothing on stdout, the message on stderr, exit code 1.
    const r = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/unreachable-host`], {
      input: '',
      timeoutMs: 15_000,
    });
    assert.equal(r.stdout.length, 0, `stdout must stay empty, got ${JSON.stringify(r.stdout.toString())}`);
    assert.equal(r.stderr, 'wssh: the server says: Cannot connect to unreachable-host:22: ECONNREFUSED\n');
    assert.equal(r.code, 1);

    // Binary bytes then a text frame: stdout holds exactly the binary bytes.
    const mixed = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/banner-then-error`], {
      input: '',
      timeoutMs: 15_000,
    });
    assert.equal(mixed.stdout.toString('latin1'), 'SSH-2.0-OldServer\r\n');
    assert.equal(mixed.stderr, 'wssh: the server says: the target went away\n');
    assert.equal(mixed.code, 1);

    // Under ssh: the user sees the reason, at once. (ssh's ProxyCommand stdio
    // are pipes: ssh sees the end only when wssh client exits, so an exit
    // that waited for ssh to close stdin first would keep ssh hanging until
    // its ConnectTimeout, and ssh would say it timed out, not that the
    // remote host closed the connection.)
    const proxyCommand = `${process.execPath} ${WSSH_CLI} client ${endpoint}/%h`;
    const started = Date.now();
    const s = await runSsh([...sshArgs(sshd, { host: 'unreachable-host', proxyCommand }), 'echo ok'], { timeoutMs: 30_000 });
    st.diagnostic(`ssh reported the closed tunnel after ${Date.now() - started} ms`);
    assert.equal(s.code, 255);
    assert.match(s.stderr, /^wssh: the server says: Cannot connect to unreachable-host:22: ECONNREFUSED$/m);
    assert.match(s.stderr, /Connection closed by remote host/);
  });

  await t.test("wssh connect: the text frame before any byte is a 502 with the old server's text, not a 200", async (st) => {
    const proxy = await spawnWsshConnect(endpoint);
    st.after(() => proxy.stop());
    // The old server accepts the upgrade before it tries the target; the proxy holds its answer until the text frame.
    const tunnel = await connectThroughProxy(proxy.port, 'unreachable-host:22');
    assert.equal(tunnel.statusLine, 'HTTP/1.1 502 Bad Gateway');
    assert.equal(tunnel.body, 'the server says: Cannot connect to unreachable-host:22: ECONNREFUSED\n');
    await waitFor(
      'the proxy to log the reason',
      () => /refused unreachable-host from 127\.0\.0\.1:\d+: 502 the server says: Cannot connect to unreachable-host:22: ECONNREFUSED/.test(proxy.output()),
      10_000,
      () => proxy.output(),
    );
  });
});

test("an original-style server's refusals reach nc, plink and SOCKS clients with their status and its text", async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh', 'nc', 'plink', 'puttygen');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-compat-refusal-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const echo = await startEcho();
  t.after(() => echo.close());
  const closedPort = await freePort();
  const old = await startOldServer({ localhost: sshd.port, 'echo-host': echo.port }, closedPort);
  t.after(() => old.close());
  const endpoint = `ws://127.0.0.1:${old.port}/ssh`;
  const proxy = await spawnWsshConnect(endpoint);
  t.after(() => proxy.stop());
  const ppk = await puttyKey(sshd);
  plinkSession(dir, 'http', { proxyHost: '127.0.0.1', proxyPort: proxy.port });
  plinkSession(dir, 'socks5', { proxyHost: '127.0.0.1', proxyPort: proxy.port, proxyMethod: ProxyMethod.socks5 });
  const plink = plinkAt({ home: dir, sshd, ppk, plink: programs.plink, timeoutMs: 30_000 });
  const logged = (host: string, status: number, text: string) =>
    waitFor(
      `the proxy's refusal line for ${host}`,
      () => proxy.output().includes(`: ${status} the server says: ${text}`) && proxy.output().includes(`refused ${host}`),
      10_000,
      () => proxy.output(),
    );

  await t.test('a raw CONNECT: 403 for the host it refuses, 502 for one it cannot reach or a bare close, each with the reason', async () => {
    const denied = await connectThroughProxy(proxy.port, 'denied-host:22');
    assert.equal(denied.statusLine, 'HTTP/1.1 403 Forbidden');
    assert.equal(denied.body, 'the server says: Oops:Error: Invalid host\n');
    const unreachable = await connectThroughProxy(proxy.port, 'unreachable-host:22');
    assert.equal(unreachable.statusLine, 'HTTP/1.1 502 Bad Gateway');
    assert.equal(unreachable.body, 'the server says: Cannot connect to unreachable-host:22: ECONNREFUSED\n');
    const silent = await connectThroughProxy(proxy.port, 'silent-host:22');
    assert.equal(silent.statusLine, 'HTTP/1.1 502 Bad Gateway');
    assert.match(
      silent.body,
      /^the server closed the tunnel before the SSH server spoke \(WebSocket 1005\): an original wssh server does this for a host it refuses or cannot reach\n$/,
    );
  });

  await t.test("nc -X connect: exits with the proxy's status instead of hanging; ssh through it fails at once", async () => {
    for (const [host, status] of [
      ['denied-host', 403],
      ['unreachable-host', 502],
    ] as const) {
      const r = await runProgram(programs.nc, ['-X', 'connect', '-x', `127.0.0.1:${proxy.port}`, host, '22'], { input: '', timeoutMs: 20_000 });
      assert.notEqual(r.code, 0, `nc should fail for ${host}`);
      assert.match(r.stderr, new RegExp(`${status}`), `nc's message for ${host}: ${r.stderr}`);
      const s = await runSsh([...sshArgs(sshd, { host, proxyCommand: `${programs.nc} -X connect -x 127.0.0.1:${proxy.port} %h 22` }), 'echo ok']);
      assert.equal(s.code, 255, s.stderr);
      assert.match(s.stderr, new RegExp(`${status}`), s.stderr);
    }
    await logged('denied-host', 403, 'Oops:Error: Invalid host');
    await logged('unreachable-host', 502, 'Cannot connect to unreachable-host:22: ECONNREFUSED');
  });

  await t.test('plink, proxy type HTTP: "Proxy error: HTTP response 403" / "502", and the proxy logs the old server\'s text', async () => {
    const denied = await plink('http', 'denied-host', 'echo ok');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /FATAL ERROR: Proxy error: HTTP response 403 Forbidden/);
    await logged(`denied-host:${sshd.port}`, 403, 'Oops:Error: Invalid host');
    const unreachable = await plink('http', 'unreachable-host', 'echo ok');
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /FATAL ERROR: Proxy error: HTTP response 502 Bad Gateway/);
    await logged(`unreachable-host:${sshd.port}`, 502, 'Cannot connect to unreachable-host:22: ECONNREFUSED');
    // And the tunnel still works for a host the old server can reach (its banner ends the hold).
    const ok = await plink('http', 'localhost', 'echo ok');
    assert.equal(ok.code, 0, `${ok.stderr}\n${proxy.output()}`);
    assert.equal(ok.stdout.toString(), 'ok\n');
  });

  await t.test('SOCKS 5: plink and nc -X 5 get "not allowed by ruleset" / "host unreachable"', async () => {
    const denied = await plink('socks5', 'denied-host', 'echo ok');
    assert.equal(denied.stderr, 'FATAL ERROR: Proxy error: SOCKS proxy failed to connect, error 2 (connection not allowed by ruleset)\n');
    const unreachable = await plink('socks5', 'unreachable-host', 'echo ok');
    assert.match(unreachable.stderr, /FATAL ERROR: Proxy error: SOCKS proxy failed to connect, error 4 \(host unreachable\)/i);
    const nc = await runProgram(programs.nc, ['-X', '5', '-x', `127.0.0.1:${proxy.port}`, 'denied-host', '22'], { input: '', timeoutMs: 20_000 });
    assert.notEqual(nc.code, 0, 'nc -X 5 should fail');
    const ok = await plink('socks5', 'localhost', 'echo ok');
    assert.equal(ok.code, 0, `${ok.stderr}\n${proxy.output()}`);
  });

  await t.test("wssh client: the refusal's text on stderr, exit code 1", async () => {
    const r = await runProgram(process.execPath, [WSSH_CLI, 'client', `${endpoint}/denied-host`], { input: '', timeoutMs: 15_000 });
    assert.equal(r.stdout.length, 0);
    assert.equal(r.stderr, 'wssh: the server says: Oops:Error: Invalid host\n');
    assert.equal(r.code, 1);
  });

  await t.test('the frames that ended the hold reach the client first, byte-exact, then the tunnel carries both ways', async () => {
    const tunnel = await connectThroughProxy(proxy.port, 'burst-host:22');
    assert.equal(tunnel.status, 200, tunnel.body);
    const first = await readExactly(tunnel.socket, BURST.length, 15_000);
    assert.ok(first.equals(BURST), 'the held frames came back changed or out of order');
    const data = crypto.randomBytes(64 * 1024);
    assert.ok((await roundTrip(tunnel.socket, data)).equals(data));
    tunnel.socket.destroy();
  });

  await t.test('a target that does not speak first still opens after the hold (an echo server)', async () => {
    const tunnel = await connectThroughProxy(proxy.port, 'echo-host:22', { timeoutMs: 20_000 });
    assert.equal(tunnel.status, 200, tunnel.body);
    const data = crypto.randomBytes(1000);
    assert.ok((await roundTrip(tunnel.socket, data)).equals(data));
    tunnel.socket.destroy();
  });
});

test('an original-style client against our wssh server', async (t) => {
  const programs = requirePrograms(t, 'sshd', 'ssh');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-e2e-compat-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const echo = await startEcho();
  t.after(() => echo.close());
  // Old clients only know port 22: the policy maps bare names to the test ports.
  const hostsFile = writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\necho-host: "127.0.0.1:${echo.port}"\n`);
  const server = await spawnWsshServer(hostsFile);
  t.after(() => server.stop());
  const oldClient = oldClientScript(dir);

  await t.test('ssh with the old client as ProxyCommand runs a command', async () => {
    const proxyCommand = `${process.execPath} ${oldClient} ws://127.0.0.1:${server.port}/ssh/%h`;
    const r = await runSsh([...sshArgs(sshd, { host: 'localhost', proxyCommand }), 'echo ok']);
    assert.equal(r.code, 0, `ssh failed: ${r.stderr}\n${server.output()}`);
    assert.equal(r.stdout.toString(), 'ok\n');
  });

  await t.test('bytes through the old client come back exactly from an echo target', async (st) => {
    const child = spawn(process.execPath, [oldClient, `ws://127.0.0.1:${server.port}/ssh/echo-host`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    killOnExit(child);
    st.after(() => child.kill());
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const data = crypto.randomBytes(4 * 1024 * 1024);
    const echoed = readExactly(child.stdout as unknown as net.Socket, data.length, 30_000);
    child.stdin.write(data);
    const back = await echoed.catch((err: Error) => {
      throw new Error(`${err.message}\nold client stderr: ${stderr}\n${server.output()}`);
    });
    assert.equal(crypto.createHash('sha256').update(back).digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
    // Closing stdin closes the WebSocket; the server logs the bytes both ways.
    child.stdin.end();
    await waitFor(
      'the old client to exit',
      () => child.exitCode !== null,
      10_000,
      () => stderr,
    );
    assert.equal(child.exitCode, 0);
    await waitFor(
      "the server's close line",
      () =>
        new RegExp(`tunnel \\d+ closed client=127\\.0\\.0\\.1 target=echo-host via=127\\.0\\.0\\.1:${echo.port} up=${data.length} down=${data.length} `).test(
          server.output(),
        ),
      10_000,
      () => server.output(),
    );
  });
});
