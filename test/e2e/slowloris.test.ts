// Slowloris against the local proxy: connections that dribble a CONNECT
// request a byte at a time slower than the header timeout, that send nothing,
// or that stall in the middle of a SOCKS5 / SOCKS4 handshake, are all cut at
// the timeout (408 for HTTP, the SOCKS reply for SOCKS), while a real tunnel
// opens and echoes during the attack and outlives the timeout. Descriptors
// are back at their baseline afterwards.
//
// `wssh connect` has no flag for its header timeout (10 s), so the big attack
// runs against the in-process ConnectProxy with headersTimeoutMs 3000; a
// smaller one runs against the real `wssh connect` process with its default.
//
// How soon after the timeout a connection is cut is not asserted (a busy
// machine decides that): it is cut, not before the timeout, with the answer
// that says why, and a dribbler never got its request in.
// (The server side: test/server/slowloris.test.ts.)

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { ConnectProxy } from '../../src/core/localProxy/connectProxy';
import { parseEndpoint } from '../../src/shared/endpoint';
import { startEcho } from '../fixtures/byteStreams';
import { spawnWsshConnect, spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { tempDir } from '../fixtures/tmp';
import { connectThroughProxy, roundTrip, waitFor } from '../fixtures/tunnel';
import { fdsSettle, fdsSteady, openFds } from '../../scripts/harness/processes';

interface Victim {
  kind: string;
  startedAt: number;
  connected: boolean;
  closedAt?: number;
  /** Bytes sent a byte at a time, of `dribble` bytes in all. */
  sent: number;
  dribble: number;
  answer: Buffer;
}

/** Sends `prefix` at once, then `dribble` a byte every `everyMs`, until closed. */
function slowClient(port: number, kind: string, prefix: Buffer, dribble: Buffer, everyMs: number): Victim {
  const victim: Victim = { kind, startedAt: Date.now(), connected: false, sent: 0, dribble: dribble.length, answer: Buffer.alloc(0) };
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', (c: Buffer) => (victim.answer = Buffer.concat([victim.answer, c])));
  socket.once('connect', () => {
    victim.connected = true;
    if (prefix.length > 0) socket.write(prefix);
  });
  const timer = setInterval(() => {
    if (victim.sent >= dribble.length || socket.destroyed || socket.connecting) return;
    socket.write(dribble.subarray(victim.sent, victim.sent + 1));
    victim.sent++;
  }, everyMs);
  socket.once('close', () => {
    clearInterval(timer);
    victim.closedAt = Date.now();
  });
  return victim;
}

/** Starts the attack on `port`: `n` of each slow kind; a byte every `everyMs` (a request takes far longer than the timeout). */
function attack(port: number, echoPort: number, n: { dribblers: number; silent: number; socks: number }, everyMs: number): Victim[] {
  const connect = Buffer.from(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\nUser-Agent: slowloris\r\n\r\n`);
  const socks5Request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xff]);
  const socks4 = Buffer.concat([Buffer.from([4, 1, echoPort >> 8, echoPort & 0xff, 127, 0, 0, 1]), Buffer.from('slowloris-user\0')]);
  const victims: Victim[] = [];
  for (let i = 0; i < n.dribblers; i++) victims.push(slowClient(port, 'connect-dribbler', Buffer.alloc(0), connect, everyMs));
  // Half the headers at once, then nothing.
  for (let i = 0; i < n.dribblers / 5; i++) victims.push(slowClient(port, 'connect-half', connect.subarray(0, 30), Buffer.alloc(0), everyMs));
  for (let i = 0; i < n.silent; i++) victims.push(slowClient(port, 'silent', Buffer.alloc(0), Buffer.alloc(0), everyMs));
  for (let i = 0; i < n.socks; i++) {
    // A greeting, then half a request, then nothing.
    victims.push(slowClient(port, 'socks5-stalled', Buffer.concat([Buffer.from([5, 1, 0]), socks5Request.subarray(0, 4)]), Buffer.alloc(0), everyMs));
    // The whole handshake a byte at a time.
    victims.push(slowClient(port, 'socks5-dribbler', Buffer.alloc(0), Buffer.concat([Buffer.from([5, 1, 0]), socks5Request]), everyMs));
    victims.push(slowClient(port, 'socks4-dribbler', Buffer.alloc(0), socks4, everyMs));
  }
  return victims;
}

/**
 * Every victim is closed, not before the timeout (its clock starts once the
 * proxy has the connection, after the victim's start), with the expected
 * answer; a dribbler got less than its whole request in.
 */
function checkVictims(victims: Victim[], timeoutMs: number): string {
  const early: string[] = [];
  const times: number[] = [];
  for (const v of victims) {
    assert.ok(v.closedAt !== undefined, `${v.kind} still open after ${Date.now() - v.startedAt} ms (sent ${v.sent} bytes)`);
    const lived = v.closedAt - v.startedAt;
    times.push(lived);
    if (lived < timeoutMs - 100) early.push(`${v.kind} closed after ${lived} ms`);
    if (v.dribble > 0) assert.ok(v.sent < v.dribble, `${v.kind} sent its whole request (${v.sent} bytes) before the cut`);
    if (v.kind.startsWith('connect') || v.kind === 'silent') {
      assert.match(v.answer.toString('latin1'), /^HTTP\/1\.1 408 Request Timeout\r\n/, `${v.kind}: ${JSON.stringify(v.answer.toString('latin1'))}`);
    } else if (v.kind.startsWith('socks5')) {
      // The method reply (05 00), then "TTL expired" (05 06 …) once the greeting was complete.
      const a = v.answer;
      if (a.length > 0) {
        assert.deepEqual([...a.subarray(0, 2)], [5, 0], `${v.kind}: ${a.toString('hex')}`);
        if (a.length > 2) assert.deepEqual([...a.subarray(2, 4)], [5, 6], `${v.kind}: ${a.toString('hex')}`);
      }
    } else {
      // SOCKS4: "request rejected or failed" (00 5b).
      assert.deepEqual([...v.answer.subarray(0, 2)], [0, 0x5b], `${v.kind}: ${v.answer.toString('hex')}`);
    }
  }
  assert.deepEqual(early, [], `cut before ${timeoutMs - 100} ms`);
  times.sort((a, b) => a - b);
  return `${victims.length} slow connections cut after ${times[0]}-${times[times.length - 1]} ms (median ${times[times.length >> 1]})`;
}

async function waitAllClosed(victims: Victim[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (victims.some((v) => v.closedAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Opens a tunnel while every victim is held (the proxy's 200 came before the
 * first cut: a blocked proxy would have answered only after the cuts); it
 * echoes now and after the header timeout has passed.
 */
async function realTunnelDuringAttack(proxyPort: number, echoPort: number, victims: Victim[], timeoutMs: number): Promise<string> {
  const started = Date.now();
  const tunnel = await connectThroughProxy(proxyPort, `127.0.0.1:${echoPort}`);
  const openedAt = Date.now();
  assert.equal(tunnel.status, 200, tunnel.body);
  const opened = openedAt - started;
  const cut = victims.filter((v) => v.closedAt !== undefined && v.closedAt <= openedAt).map((v) => `${v.kind} after ${v.closedAt! - v.startedAt} ms`);
  assert.deepEqual(cut, [], 'the tunnel opened while the attack was still held');
  const data = crypto.randomBytes(256 * 1024);
  assert.ok((await roundTrip(tunnel.socket, data)).equals(data));
  await new Promise((r) => setTimeout(r, timeoutMs + 300));
  assert.ok((await roundTrip(tunnel.socket, data)).equals(data), 'the tunnel did not outlive the header timeout');
  tunnel.socket.destroy();
  return `a real tunnel opened in ${opened} ms during the attack and echoed before and after the timeout`;
}

test('slowloris against the proxy (in-process ConnectProxy, header timeout 3 s)', async (t) => {
  const TIMEOUT_MS = 3000;
  const dir = tempDir(t, 'wssh-slowloris-proxy-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`), ['--keepalive', '0']);
  t.after(() => server.stop());
  const proxy = new ConnectProxy({
    endpoint: parseEndpoint(`ws://127.0.0.1:${server.port}/ssh`),
    proxy: false,
    keepaliveMs: 0,
    headersTimeoutMs: TIMEOUT_MS,
  });
  const { port } = await proxy.listen(0, '127.0.0.1');
  t.after(() => proxy.close());
  const refusals: number[] = [];
  proxy.tracker.on('refused', (r) => refusals.push(r.status));

  // Warm up, then the baseline of this process (the proxy and its clients) and of the server.
  await connectThroughProxy(port, `127.0.0.1:${echo.port}`).then((r) => r.socket.destroy());
  const base = { self: await fdsSteady('self'), server: await fdsSteady(server.pid) };

  // A byte every 400 ms: the shortest handshake (SOCKS5, 13 bytes) would take 5.2 s.
  const victims = attack(port, echo.port, { dribblers: 50, silent: 20, socks: 5 }, 400);
  await waitFor('the attack to be under way', () => victims.every((v) => v.connected), 10_000);
  t.diagnostic(await realTunnelDuringAttack(port, echo.port, victims, TIMEOUT_MS));
  await waitAllClosed(victims, TIMEOUT_MS + 30_000);
  t.diagnostic(checkVictims(victims, TIMEOUT_MS));
  assert.equal(refusals.filter((s) => s === 408).length, victims.length, `refusals: ${refusals.join(' ')}`);

  const after = { self: await fdsSettle('self', base.self), server: await fdsSettle(server.pid, base.server) };
  t.diagnostic(`descriptors: this process ${base.self} -> ${after.self}, server ${base.server} -> ${after.server}`);
  assert.ok(after.self <= base.self, `this process: ${after.self} descriptors, baseline ${base.self}`);
  assert.ok(after.server <= base.server, `server: ${after.server} descriptors, baseline ${base.server}`);
});

test('slowloris against the real wssh connect (its default 10 s header timeout)', async (t) => {
  const TIMEOUT_MS = 10_000;
  const dir = tempDir(t, 'wssh-slowloris-connect-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(writeHosts(dir, `"127.0.0.1:${echo.port}": true\n`), ['--keepalive', '0']);
  t.after(() => server.stop());
  const proxy = await spawnWsshConnect(`ws://127.0.0.1:${server.port}/ssh`, ['--no-proxy', '--keepalive', '0']);
  t.after(() => proxy.stop());
  await connectThroughProxy(proxy.port, `127.0.0.1:${echo.port}`).then((r) => r.socket.destroy());
  const base = await fdsSteady(proxy.pid);

  // A byte every 2 s: the shortest handshake (SOCKS5, 13 bytes) would take 26 s.
  const victims = attack(proxy.port, echo.port, { dribblers: 20, silent: 5, socks: 2 }, 2000);
  const during = await waitFor(
    'the attack to be under way',
    () => {
      const n = openFds(proxy.pid);
      return n >= base + victims.length ? n : undefined;
    },
    10_000,
    () => `${openFds(proxy.pid)} descriptors, baseline ${base}`,
  );
  t.diagnostic(await realTunnelDuringAttack(proxy.port, echo.port, victims, 1000));
  await waitAllClosed(victims, TIMEOUT_MS + 30_000);
  t.diagnostic(checkVictims(victims, TIMEOUT_MS));
  await waitFor(
    'a 408 logged for each slow client',
    () => (proxy.output().match(/: 408 /g) ?? []).length === victims.length,
    10_000,
    () => proxy.output(),
  );
  const after = await fdsSettle(proxy.pid, base);
  t.diagnostic(`proxy descriptors: ${base} before, ${during} during, ${after} after`);
  assert.ok(after <= base, `proxy: ${after} descriptors, baseline ${base}`);
});
