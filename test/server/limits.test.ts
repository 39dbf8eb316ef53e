// The server's limits on real sockets: tunnels overall (503) and per client
// address (429), counted while they open too and given back when they close;
// the path length (414); the idle timeout, which WebSocket pings do not
// reset. Each refusal is a status with a reason, and a log line.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WsshServer, type WsshServerOptions } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { TunnelSlots, isSlot } from '../../server/limits';
import { startEcho, type FarEnd } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';
import { attempt, closed, echoOnce, rawRequest } from '../fixtures/upgradeClient';

let echo: FarEnd;
before(async () => {
  echo = await startEcho();
});
after(() => echo.close());

async function startServer(t: TestContext, options: Partial<WsshServerOptions>) {
  const log: string[] = [];
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`);
  const server = new WsshServer({ policy: () => policy, keepaliveMs: 0, log: (l) => log.push(l), ...options });
  const { port } = await server.listen(0);
  t.after(() => server.close());
  const open = (from: string) => attempt(`ws://127.0.0.1:${port}/ssh/echo.lan`, { 'X-Forwarded-For': from });
  return { server, port, log, open };
}

test('TunnelSlots: overall and per-client counts, released once', () => {
  const slots = new TunnelSlots({ maxTunnels: 3, maxTunnelsPerClient: 2 });
  const a1 = slots.take('a');
  const a2 = slots.take('a');
  assert.ok(isSlot(a1) && isSlot(a2));
  assert.deepEqual(slots.take('a'), { status: 429, code: 'client-limit', reason: 'too many tunnels from a: 2 open' });
  const b1 = slots.take('b');
  assert.ok(isSlot(b1));
  assert.deepEqual(slots.take('c'), { status: 503, code: 'capacity', reason: 'server at capacity: 3 tunnels open' });
  a1.release();
  a1.release(); // twice is once
  assert.equal(slots.inUse, 2);
  assert.equal(slots.heldBy('a'), 1);
  assert.ok(isSlot(slots.take('c')));
  // 0 means no limit.
  const unlimited = new TunnelSlots({ maxTunnels: 0, maxTunnelsPerClient: 0 });
  for (let i = 0; i < 10_000; i++) assert.ok(isSlot(unlimited.take('x')));
});

test('over --max-tunnels: 503 with the reason, logged; a closed tunnel frees its place', async (t) => {
  const { server, log, open } = await startServer(t, { maxTunnels: 2 });
  const first = await open('192.0.2.1');
  const second = await open('192.0.2.2');
  assert.ok(first.ws && second.ws);
  const third = await open('192.0.2.3');
  assert.equal(third.status, 503);
  assert.equal(third.body, 'server at capacity: 2 tunnels open\n');
  assert.ok(
    log.some((l) => l === 'tunnel refused client=192.0.2.3 target=echo.lan status=503 reason="server at capacity: 2 tunnels open"'),
    log.join('\n'),
  );

  first.ws.close();
  await waitFor('the place to be free', () => server.slotsInUse === 1);
  const fourth = await open('192.0.2.3');
  assert.ok(fourth.ws, 'a tunnel opens again once one closed');
  assert.equal(await echoOnce(fourth.ws, 'room again'), 'room again');
  second.ws.close();
  fourth.ws.close();
  await waitFor('every place to be free', () => server.slotsInUse === 0);
});

test('over --max-tunnels-per-client: 429 for that address only', async (t) => {
  const { log, open } = await startServer(t, { maxTunnelsPerClient: 2 });
  const mine = [await open('203.0.113.5'), await open('203.0.113.5')];
  assert.ok(mine.every((r) => r.ws));
  const more = await open('203.0.113.5');
  assert.equal(more.status, 429);
  assert.equal(more.body, 'too many tunnels from 203.0.113.5: 2 open\n');
  assert.ok(log.some((l) => /client=203\.0\.113\.5 target=echo\.lan status=429 /.test(l)));
  const someoneElse = await open('203.0.113.6');
  assert.ok(someoneElse.ws, 'another client address is not limited by the first');
  for (const r of [...mine, someoneElse]) r.ws!.close();
});

test('refused tunnels give their place back: a denied target does not use up the limit', async (t) => {
  const { server, port } = await startServer(t, { maxTunnels: 1, maxTunnelsPerClient: 1 });
  for (let i = 0; i < 5; i++) {
    const denied = await attempt(`ws://127.0.0.1:${port}/ssh/elsewhere.lan`);
    assert.equal(denied.status, 403);
  }
  assert.equal(server.slotsInUse, 0);
  const { ws } = await attempt(`ws://127.0.0.1:${port}/ssh/echo.lan`);
  assert.ok(ws);
  ws.close();
});

test('a path over --max-path: 414 URI Too Long, before anything else is looked at', async (t) => {
  const { port, log } = await startServer(t, { maxPathLength: 64 });
  const long = `/ssh/${'a'.repeat(60)}`;
  const answer = await rawRequest(
    port,
    `GET ${long} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.match(answer, /^HTTP\/1\.1 414 URI Too Long\r\n/);
  assert.match(answer, /\r\n\r\nrequest path over 64 bytes\n$/);
  assert.ok(
    log.some((l) => /status=414 reason="request path over 64 bytes"/.test(l)),
    log.join('\n'),
  );
  // Just under the limit is fine (and then refused for what it is: no rule allows it).
  const { status } = await attempt(`ws://127.0.0.1:${port}/ssh/${'a'.repeat(50)}`);
  assert.equal(status, 403);
});

test('--idle-timeout: bytes either way keep a tunnel open; after none for that long it closes, pings or not', async (t) => {
  // Traffic comes every 100 ms, a fifteenth of the timeout: only a machine
  // stalled for the whole timeout would leave a gap that long.
  const IDLE_MS = 1500;
  const { server, log, open } = await startServer(t, { idleTimeoutMs: IDLE_MS, keepaliveMs: 100 });
  const { ws } = await open('192.0.2.50');
  assert.ok(ws);
  let closedAt: number | undefined;
  const end = closed(ws).then((r) => {
    closedAt = performance.now();
    return r;
  });
  const pingsAt: number[] = [];
  ws.on('ping', () => pingsAt.push(performance.now()));

  // An echo round trip every 100 ms for twice the timeout: still open. Each
  // send is timed, so a failure says whether the machine left a gap as long
  // as the timeout (then closing was right) or the server closed early.
  const started = performance.now();
  let lastSent = started;
  let longestGap = 0;
  for (let i = 0; performance.now() - started < 2 * IDLE_MS; i++) {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - lastSent);
    lastSent = now;
    const tick = `tick ${i}`;
    const back: string = await echoOnce(ws, tick).catch((err: Error) => {
      throw new Error(
        `${err.message}: the tunnel closed during traffic, ${(performance.now() - started).toFixed(0)} ms in; ` +
          `longest gap between sends ${longestGap.toFixed(0)} ms`,
      );
    });
    assert.equal(back, tick);
    await new Promise((r) => setTimeout(r, 100));
  }

  // Then quiet: it closes for idleness, at least the timeout after the last
  // byte (the server's clock counts whole ms, hence the 1 ms), and the pings
  // that went on meanwhile did not count as traffic.
  await waitFor('the idle close', () => closedAt !== undefined, 30_000);
  const { code, reason } = await end;
  assert.equal(code, 1001);
  assert.equal(reason, 'idle timeout');
  const quietFor = closedAt! - lastSent;
  assert.ok(quietFor >= IDLE_MS - 1, `closed after ${quietFor.toFixed(0)} ms of quiet, under the ${IDLE_MS} ms timeout`);
  assert.ok(
    pingsAt.some((at) => at > lastSent),
    'pings went on while the tunnel was quiet',
  );
  await waitFor(
    'the close line',
    () => log.find((l) => /closed client=192\.0\.2\.50 .*reason="idle timeout: no bytes either way for 1\.5s"/.test(l)),
    10_000,
    () => log.join('\n'),
  );
  await waitFor('the place to be free', () => server.slotsInUse === 0);
});

test('without --idle-timeout a quiet tunnel stays open', async (t) => {
  const { open } = await startServer(t, { keepaliveMs: 100 });
  const { ws } = await open('192.0.2.51');
  assert.ok(ws);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(ws.readyState, ws.OPEN);
  assert.equal(await echoOnce(ws, 'still here'), 'still here');
  ws.close();
});
