// "Test" in the endpoint editor, through a real WSSH server to real TCP
// targets: an SSH banner and its timing, or the exact reason it failed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parseEndpoint } from '../../src/shared/endpoint';
import { testEndpoint } from '../../src/main/tunnel/endpointCheck';
import { freePort } from '../../scripts/harness/ports';
import { startBannerServer, startInProcessServer } from '../fixtures/appHarness';

let wssh: Awaited<ReturnType<typeof startInProcessServer>>;
let sshd: Awaited<ReturnType<typeof startBannerServer>>;
before(async () => {
  wssh = await startInProcessServer();
  sshd = await startBannerServer('SSH-2.0-OpenSSH_9.2p1 Debian-2');
});
after(async () => {
  await wssh.server.close();
  await sshd.close();
});

test('a banner that comes back is shown with the time it took', async () => {
  const started = performance.now();
  const result = await testEndpoint(parseEndpoint(wssh.uri), `127.0.0.1:${sshd.port}`);
  const took = performance.now() - started;
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.banner, 'SSH-2.0-OpenSSH_9.2p1 Debian-2');
  assert.ok(result.connectMs >= 0 && result.totalMs >= result.connectMs);
  // The time shown is the time the test took (rounded to the ms), however long that was.
  assert.ok(result.totalMs <= Math.round(took) + 1, `shown ${result.totalMs} ms, took ${took.toFixed(1)} ms`);
});

test('lines before the identification line are allowed (RFC 4253 §4.2)', async (t) => {
  const server = net.createServer((s) => s.end('Welcome\r\nSSH-2.0-Custom_1.0\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const result = await testEndpoint(parseEndpoint(wssh.uri), `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  assert.deepEqual(result.ok && result.banner, 'SSH-2.0-Custom_1.0');
});

test('a target that is not SSH, a denied host, a dead endpoint: each says why', async (t) => {
  const http = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => http.close(() => r())));
  const notSsh = await testEndpoint(parseEndpoint(wssh.uri), `127.0.0.1:${(http.address() as net.AddressInfo).port}`);
  assert.equal(notSsh.ok, false);
  assert.match((notSsh as { reason: string }).reason, /before an SSH banner came; it sent "HTTP\/1\.1 400 Bad Request/);

  const denied = await testEndpoint(parseEndpoint(wssh.uri), 'db1.lan');
  assert.equal(denied.ok, false);
  assert.match((denied as { reason: string }).reason, /^refused by the WSSH server \(403 Forbidden/);

  const closedPort = await freePort();
  const unreachable = await testEndpoint(parseEndpoint(wssh.uri), `127.0.0.1:${closedPort}`);
  assert.match((unreachable as { reason: string }).reason, /connection refused by 127\.0\.0\.1/);

  const dead = await testEndpoint(parseEndpoint(`ws://127.0.0.1:${closedPort}/ssh`), 'db1.lan');
  assert.match((dead as { reason: string }).reason, /connection refused by ws:\/\/127\.0\.0\.1:\d+\/ssh: is the WSSH server running\?/);

  const noTarget = await testEndpoint(parseEndpoint(wssh.uri), ' ');
  assert.deepEqual(noTarget, { ok: false, reason: 'name the SSH host to reach, e.g. db1.lan or db1.lan:2222', totalMs: 0 });
});

test('a silent target times out with a message', async (t) => {
  // Long enough that the dial itself never runs into it on a busy machine: what times out is the wait for the banner.
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    silent.close();
  });
  const result = await testEndpoint(parseEndpoint(wssh.uri), `127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { timeoutMs: 3000 });
  assert.equal(result.ok, false);
  assert.match((result as { reason: string }).reason, /^the tunnel opened in \d+ ms, but no SSH banner came within 3000 ms/);
});
