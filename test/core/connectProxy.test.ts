// The local CONNECT proxy on real sockets: what it answers to good and bad
// requests, and that it goes on serving after each bad one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../src/shared/endpoint';
import { startStandInServer, type StandInServer } from '../fixtures/standInServer';

/** Sends `request` raw and reads until the proxy answers with a full head (or closes). */
function rawRequest(port: number, request: string | Buffer, opts: { keepOpen?: boolean } = {}): Promise<{ head: string; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0 && opts.keepOpen) {
        socket.removeAllListeners('data');
        resolve({ head: data.subarray(0, end).toString(), body: data.subarray(end + 4).toString(), socket });
      }
    });
    socket.on('close', () => {
      const text = data.toString();
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: end >= 0 ? text.slice(0, end) : text, body: end >= 0 ? text.slice(end + 4) : '', socket });
    });
    socket.write(request);
  });
}

let server: StandInServer;
let proxy: ConnectProxy;
let port: number;
before(async () => {
  server = await startStandInServer();
  // The default header timeout: a busy machine must not turn a whole request into a 408.
  proxy = new ConnectProxy({
    endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`),
    keepaliveMs: 0,
  });
  port = (await proxy.listen(0)).port;
});
after(async () => {
  await proxy.close();
  await server.close();
});

async function assertStillServes(on = port): Promise<void> {
  const { head, socket } = await rawRequest(on, 'CONNECT still.alive:22 HTTP/1.1\r\nHost: still.alive:22\r\n\r\n', { keepOpen: true });
  assert.match(head, /^HTTP\/1\.1 200 /);
  socket.destroy();
}

test('listens on loopback by default', () => {
  const p = new ConnectProxy({ endpoint: parseEndpoint('ws://127.0.0.1:1/ssh') });
  return p.listen(0).then(async (address) => {
    assert.equal(address.address, '127.0.0.1');
    await p.close();
  });
});

test('CONNECT as PuTTY sends it: 200, then bytes echo through the tunnel', async () => {
  const { head, socket } = await rawRequest(port, 'CONNECT db1.lan:22 HTTP/1.1\r\nHost: db1.lan:22\r\n\r\n', { keepOpen: true });
  assert.equal(head, 'HTTP/1.1 200 Connection established');
  assert.equal(server.paths.at(-1), '/ssh/db1.lan');
  socket.write('SSH-2.0-test\r\n');
  const echoed = await new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
  assert.equal(echoed, 'SSH-2.0-test\r\n');
  socket.destroy();
});

test('CONNECT as nc -X connect sends it: HTTP/1.0, no Host header; other ports and IPv6 in the path', async () => {
  const { head, socket } = await rawRequest(port, 'CONNECT [::1]:2222 HTTP/1.0\r\n\r\n', { keepOpen: true });
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.equal(server.paths.at(-1), '/ssh/%5B%3A%3A1%5D%3A2222');
  socket.destroy();
});

test('bytes sent right after the headers are forwarded first', async () => {
  const { head, body, socket } = await rawRequest(port, 'CONNECT db1.lan:22 HTTP/1.1\r\n\r\nSSH-2.0-eager\r\n', { keepOpen: true });
  assert.match(head, /^HTTP\/1\.1 200 /);
  const echoed = body || (await new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString()))));
  assert.equal(echoed, 'SSH-2.0-eager\r\n');
  socket.destroy();
});

test('a refusal by the server becomes 403 with the reason', async () => {
  const { head, body } = await rawRequest(port, 'CONNECT denied.example:22 HTTP/1.1\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 403 Forbidden/);
  assert.match(body, /no rule allows denied\.example/);
  await assertStillServes();
});

test('an unreachable endpoint becomes 502 with the reason', async () => {
  const dead = new ConnectProxy({ endpoint: parseEndpoint('ws://127.0.0.1:1/ssh') });
  const address = await dead.listen(0);
  const { head, body } = await rawRequest(address.port, 'CONNECT db1.lan:22 HTTP/1.1\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 502 Bad Gateway/);
  assert.match(body, /connection refused by ws:\/\/127\.0\.0\.1:1\/ssh/);
  await dead.close();
});

test('a malformed request line gets 400', async () => {
  const { head } = await rawRequest(port, 'HELLO\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
  await assertStillServes();
});

test('CONNECT without a port gets 400 naming what is wrong', async () => {
  const { head, body } = await rawRequest(port, 'CONNECT db1.lan HTTP/1.1\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
  assert.match(body, /host:port/);
  await assertStillServes();
});

test('a bad host in CONNECT gets 400', async () => {
  const { head } = await rawRequest(port, 'CONNECT bad%20host:22 HTTP/1.1\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
});

test('a method other than CONNECT gets 405 with Allow: CONNECT', async () => {
  const { head, body } = await rawRequest(port, 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 405 Method Not Allowed/);
  assert.match(head, /\r\nAllow: CONNECT/i);
  assert.match(body, /only tunnels CONNECT/);
  await assertStillServes();
});

test('headers over 8 KiB get 431', async () => {
  const big = 'X-Filler: ' + 'a'.repeat(9000) + '\r\n';
  const { head } = await rawRequest(port, `CONNECT db1.lan:22 HTTP/1.1\r\n${big}\r\n`);
  assert.match(head, /^HTTP\/1\.1 431 /);
  await assertStillServes();
});

test('a client that never finishes its headers is cut at the timeout with 408, and others are served meanwhile', async (t) => {
  // A proxy of its own with a short header timeout (a whole request is in long before it).
  const HEADERS_MS = 1000;
  const strict = new ConnectProxy({ endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`), headersTimeoutMs: HEADERS_MS, keepaliveMs: 0 });
  const strictPort = (await strict.listen(0)).port;
  t.after(() => strict.close());
  const started = Date.now();
  let cutAfter: number | undefined;
  const slow = rawRequest(strictPort, 'CONNECT db1.lan:22 HTTP/1.1\r\nX-Slow: 1\r\n').then((r) => {
    cutAfter = Date.now() - started;
    return r;
  });
  await assertStillServes(strictPort);
  const { head } = await slow;
  // 408 is the header timeout's answer; and not before it (its clock starts once the proxy has the connection).
  assert.match(head, /^HTTP\/1\.1 408 /);
  assert.ok(cutAfter! >= HEADERS_MS - 50, `cut after ${cutAfter} ms, before the ${HEADERS_MS} ms header timeout`);
  await assertStillServes(strictPort);
});

test("an old server's text frame before any byte is the refusal: 502 with its text, nothing opened", async () => {
  const refused = new Promise<{ status: number; reason: string }>((resolve) => proxy.tracker.once('refused', resolve));
  const { head, body } = await rawRequest(port, 'CONNECT old-server-error:22 HTTP/1.1\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 502 /);
  assert.equal(body, 'the server says: ssh: connect ECONNREFUSED\n');
  const r = await refused;
  assert.equal(r.status, 502);
  assert.equal(r.reason, 'the server says: ssh: connect ECONNREFUSED');
});

test('tunnel events: open, then close with bytes and reason', async () => {
  const events: string[] = [];
  const onOpen = (t: { target: string }) => events.push(`open ${t.target}`);
  const closed = new Promise<{ up: number; down: number; reason: string }>((resolve) => proxy.tracker.once('close', resolve));
  proxy.tracker.on('open', onOpen);
  const { socket } = await rawRequest(port, 'CONNECT events.lan:22 HTTP/1.1\r\n\r\n', { keepOpen: true });
  socket.write('0123456789');
  await new Promise((resolve) => socket.once('data', resolve));
  socket.end();
  const t = await closed;
  proxy.tracker.off('open', onOpen);
  assert.deepEqual(events, ['open events.lan']);
  assert.equal(t.up, 10);
  assert.equal(t.down, 10);
  assert.equal(t.reason, 'stream ended');
});

test('closing the proxy ends open tunnels and frees the port', async () => {
  const p = new ConnectProxy({ endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`), keepaliveMs: 0 });
  const address = await p.listen(0);
  const { socket } = await rawRequest(address.port, 'CONNECT a.lan:22 HTTP/1.1\r\n\r\n', { keepOpen: true });
  const gone = new Promise((resolve) => socket.once('close', resolve));
  await p.close();
  await gone;
  assert.equal(p.listening, false);
});
