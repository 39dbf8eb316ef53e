// Faults along the chain, with the real processes:
//
//   raw TCP client -CONNECT-> wssh connect -ws-> [nginx] -ws-> wssh server -TCP-> sshd / echo / source
//
// - the server killed (SIGKILL) in the middle of a download: the client's
//   connection ends, the proxy lives on, refuses with 502 while no server
//   is there, and serves new tunnels once a server is back on the same port;
// - sshd down: 502 with the server's reason (connection refused);
// - nginx down between proxy and server: 502 naming the endpoint; nginx up
//   but no server behind it: 502 with nginx's answer;
// - an endpoint host that does not resolve: 502 "cannot resolve";
// - a peer that stops answering pings is dropped after the timeout, on the
//   proxy's side (a WebSocket server that never pongs) and on the server's
//   side (a WebSocket client that never pongs).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { requirePrograms } from '../../scripts/harness/programs';
import { startSshd } from '../fixtures/sshd';
import { startNginx } from '../../scripts/harness/nginx';
import { startEcho, startSource } from '../fixtures/byteStreams';
import { freePort } from '../../scripts/harness/ports';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, endedWithin, readExactly, roundTrip, waitFor } from '../fixtures/tunnel';
import { waitForOutput } from '../../scripts/harness/processes';

const MiB = 1024 * 1024;
/**
 * For an answer that is a refusal: the proxy sends it and closes, and
 * connectThroughProxy waits for 'close', which a half-open socket (its
 * default) never sees after the proxy's FIN.
 */
const REFUSAL = { allowHalfOpen: false };

/** An echo round trip through a new tunnel; fails the test unless it is byte-exact. */
async function echoThrough(proxyPort: number, echoPort: number): Promise<void> {
  const tunnel = await connectThroughProxy(proxyPort, `127.0.0.1:${echoPort}`);
  assert.equal(tunnel.status, 200, tunnel.body);
  try {
    const data = crypto.randomBytes(64 * 1024);
    assert.ok((await roundTrip(tunnel.socket, data)).equals(data), 'echo differs');
  } finally {
    tunnel.socket.destroy();
  }
}

test('the wssh server killed mid-transfer, then restarted on the same port', async (t) => {
  const dir = tempDir(t, 'wssh-faults-kill-');
  const echo = await startEcho();
  t.after(() => echo.close());
  // Far more than can move before the kill: the transfer is surely in the middle.
  const source = await startSource(4096 * MiB, 'kill');
  t.after(() => source.close());
  const hosts = writeHosts(dir, `"127.0.0.1:${echo.port}": true\n"127.0.0.1:${source.port}": true\n`);
  const port = await freePort();
  const listen = ['--listen', `127.0.0.1:${port}`];
  let server = await spawnWsshServer(hosts, listen);
  t.after(() => server.stop());
  assert.equal(server.port, port);
  // Today's tunnel: a resumable one would wait for the server (test/e2e/resume.test.ts, docs/resume.md).
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${port}/ssh`, ['--no-proxy', '--no-resume']);
  t.after(() => proxy.stop());
  const logs = () => `--- proxy:\n${proxy.output()}\n--- server:\n${server.output()}`;

  await t.test('SIGKILL during a download: the client sees its connection end', async () => {
    const tunnel = await connectThroughProxy(proxy.port, `127.0.0.1:${source.port}`);
    assert.equal(tunnel.status, 200, tunnel.body);
    await readExactly(tunnel.socket, 4 * MiB);
    await server.stop('SIGKILL');
    assert.equal(server.exitStatus()?.signal, 'SIGKILL');
    const started = Date.now();
    assert.ok(await endedWithin(tunnel.socket, 5000), `the tunnel did not end after the server died\n${logs()}`);
    tunnel.socket.destroy();
    t.diagnostic(`the client saw the end ${Date.now() - started} ms after the kill`);
    await waitFor(
      'the proxy to log the tunnel closed',
      () => new RegExp(`tunnel \\d+ closed 127\\.0\\.0\\.1:${source.port} `).test(proxy.output()),
      5000,
      logs,
    );
  });

  await t.test('with no server: the proxy is alive and answers 502 "connection refused"', async () => {
    assert.equal(proxy.exitStatus(), undefined, 'the proxy exited');
    const reply = await connectThroughProxy(proxy.port, `127.0.0.1:${echo.port}`, REFUSAL);
    assert.equal(reply.status, 502, reply.head);
    assert.match(reply.body, new RegExp(`connection refused by ws://127\\.0\\.0\\.1:${port}/ssh: is the WSSH server running\\?`));
  });

  await t.test('a server back on the same port: new tunnels work', async () => {
    server = await spawnWsshServer(hosts, listen);
    assert.equal(server.port, port);
    for (let i = 0; i < 3; i++) await echoThrough(proxy.port, echo.port);
    assert.equal(proxy.exitStatus(), undefined, 'the proxy exited');
  });

  await t.test('a graceful restart (SIGTERM, start again): new tunnels work', async () => {
    await server.stop('SIGTERM');
    assert.equal(server.exitStatus()?.code, 0, server.output());
    server = await spawnWsshServer(hosts, listen);
    await echoThrough(proxy.port, echo.port);
  });
});

test('sshd down: the CONNECT gets 502 with the reason', async (t) => {
  const programs = requirePrograms(t, 'sshd');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-faults-sshd-');
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const server = await spawnWsshServer(writeHosts(dir, `localhost: "127.0.0.1:${sshd.port}"\n`));
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`, ['--no-proxy']);
  t.after(() => proxy.stop());

  // Up: the tunnel opens and sshd's banner comes through.
  const up = await connectThroughProxy(proxy.port, 'localhost:22');
  assert.equal(up.status, 200, up.body);
  assert.match((await readExactly(up.socket, 8)).toString('latin1'), /^SSH-2\.0-/);
  up.socket.destroy();

  await sshd.stop();
  const down = await connectThroughProxy(proxy.port, 'localhost:22', REFUSAL);
  assert.equal(down.status, 502, down.head);
  assert.match(down.body, new RegExp(`connection refused by .*127\\.0\\.0\\.1:${sshd.port}`));
  await waitForOutput(proxy, /refused localhost from 127\.0\.0\.1:\d+: 502 the WSSH server cannot reach the target \(502 Bad Gateway: connection refused by /);
  await waitForOutput(server, /tunnel refused client=127\.0\.0\.1 target=localhost status=502 /);
});

test('nginx down between the proxy and the server: 502 naming the endpoint', async (t) => {
  const programs = requirePrograms(t, 'nginx');
  if (!programs) return;
  const dir = tempDir(t, 'wssh-faults-nginx-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`));
  t.after(() => server.stop());
  const nginx = await startNginx({ upstreamPort: server.port });
  t.after(() => nginx.stop());
  // Today's tunnel: a resumable one waits for nginx to come back (test/e2e/resume.test.ts).
  const proxy = await spawnWsshConnect(nginx.url, ['--no-proxy', '--no-resume']);
  t.after(() => proxy.stop());

  await echoThrough(proxy.port, echo.port);
  // A tunnel open while nginx stops ends too.
  const open = await connectThroughProxy(proxy.port, `127.0.0.1:${echo.port}`);
  assert.equal(open.status, 200, open.body);
  await nginx.stop();
  assert.ok(await endedWithin(open.socket, 5000), 'the open tunnel did not end when nginx stopped');
  open.socket.destroy();

  const reply = await connectThroughProxy(proxy.port, `127.0.0.1:${echo.port}`, REFUSAL);
  assert.equal(reply.status, 502, reply.head);
  assert.match(reply.body, new RegExp(`connection refused by ws://localhost:${nginx.port}/ssh: is the WSSH server running\\?`));
  assert.equal(proxy.exitStatus(), undefined, 'the proxy exited');
});

test("nginx up but no wssh server behind it: 502 with nginx's answer", async (t) => {
  const programs = requirePrograms(t, 'nginx');
  if (!programs) return;
  const deadPort = await freePort();
  const nginx = await startNginx({ upstreamPort: deadPort });
  t.after(() => nginx.stop());
  const proxy = await spawnWsshConnect(nginx.url, ['--no-proxy']);
  t.after(() => proxy.stop());
  const reply = await connectThroughProxy(proxy.port, 'localhost:22', REFUSAL);
  assert.equal(reply.status, 502, reply.head);
  assert.match(reply.body, /the WSSH server failed \(502 Bad Gateway/);
});

test('an endpoint host that does not resolve: 502 "cannot resolve"', async (t) => {
  const proxy = await spawnWsshConnect('ws://nonexistent.invalid:4567/ssh', ['--no-proxy']);
  t.after(() => proxy.stop());
  const reply = await connectThroughProxy(proxy.port, 'localhost:22', { ...REFUSAL, timeoutMs: 20_000 });
  assert.equal(reply.status, 502, reply.head);
  assert.match(reply.body, /cannot resolve the host of ws:\/\/nonexistent\.invalid:4567\/ssh \((ENOTFOUND|EAI_AGAIN)\)/);
  // And again: one failure leaves nothing stuck.
  const again = await connectThroughProxy(proxy.port, 'localhost:22', { ...REFUSAL, timeoutMs: 20_000 });
  assert.equal(again.status, 502, again.head);
});

test('a peer that stops answering pings is dropped after the timeout', async (t) => {
  await t.test('wssh connect --keepalive 1 against a server that never pongs', async (st) => {
    // Accepts the upgrade, then says nothing at all: no pong, no data.
    const mute = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    const peers: WebSocket[] = [];
    mute.on('connection', (ws) => peers.push(ws));
    await new Promise<void>((resolve) => mute.once('listening', () => resolve()));
    st.after(() => {
      for (const p of peers) p.terminate();
      return new Promise<void>((resolve) => mute.close(() => resolve()));
    });
    const port = (mute.address() as AddressInfo).port;
    const proxy = await spawnWsshConnect(`ws://127.0.0.1:${port}/ssh`, ['--no-proxy', '--keepalive', '1']);
    st.after(() => proxy.stop());

    // Timed from before the tunnel exists, so its pings start after `started` however late the 200 comes.
    const started = Date.now();
    const tunnel = await connectThroughProxy(proxy.port, 'localhost:22');
    assert.equal(tunnel.status, 200, tunnel.body);
    assert.ok(await endedWithin(tunnel.socket, 30_000), `the tunnel was not dropped\n${proxy.output()}`);
    const ms = Date.now() - started;
    tunnel.socket.destroy();
    st.diagnostic(`dropped after ${ms} ms (ping every 1 s, two missed allowed)`);
    // Two pings went unanswered first: at least two intervals.
    assert.ok(ms >= 1500, `dropped too early (${ms} ms)`);
    await waitFor(
      'the ping timeout in the proxy log',
      () => /tunnel \d+ closed localhost up=0 down=0 \(ping timeout/.test(proxy.output()),
      10_000,
      () => proxy.output(),
    );
  });

  await t.test('wssh server --keepalive 1 against a client that never pongs', async (st) => {
    const dir = tempDir(st, 'wssh-faults-ping-');
    const echo = await startEcho();
    st.after(() => echo.close());
    const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`), ['--keepalive', '1']);
    st.after(() => server.stop());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ssh/127.0.0.1%3A${echo.port}`, { autoPong: false, perMessageDeflate: false });
    const opened = Date.now();
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let pings = 0;
    ws.on('ping', () => pings++);
    ws.on('error', () => {});
    const closed = await new Promise<{ code: number; ms: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not dropped within 30 s\n${server.output()}`)), 30_000);
      ws.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, ms: Date.now() - opened });
      });
    });
    st.diagnostic(`terminated after ${closed.ms} ms, ${pings} pings unanswered, code ${closed.code}`);
    assert.ok(pings >= 2, `only ${pings} pings`);
    assert.equal(closed.code, 1006, 'terminated, not closed politely');
    await waitFor(
      'the ping timeout in the server log',
      () => new RegExp(`tunnel \\d+ closed client=127\\.0\\.0\\.1 target=127\\.0\\.0\\.1:${echo.port} .*reason="ping timeout`).test(server.output()),
      10_000,
      () => server.output(),
    );
  });
});
