// Slowloris against `wssh server` (the real process, --handshake-timeout 10:
// long enough that setting up the attack, the tunnel and the health check
// on a busy machine comes well before the first cut):
// connections that dribble their upgrade headers a byte at a time, that send
// half a request and stop, or that send nothing, are all answered 408 and
// closed at the timeout; meanwhile a real tunnel
// opens at once, works, and outlives the timeout; the server's open file
// descriptors are back at their baseline afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startEcho } from '../fixtures/byteStreams';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { spawnWsshServer, writeHosts } from '../fixtures/wssh';
import { attempt, echoOnce } from '../fixtures/upgradeClient';
import { fdsSteady, openFds } from '../../scripts/harness/processes';

const HANDSHAKE_S = 10;
const DRIBBLERS = 60;
const HALF_SENT = 20;
const SILENT = 20;

interface Victim {
  kind: string;
  startedAt: number;
  closedAt?: number;
  sent: number;
  answer: string;
}

/** A connection that sends `request` in pieces of `step` bytes every `everyMs`, until closed. */
function slowClient(port: number, kind: string, request: string, step: number, everyMs: number): Victim {
  const victim: Victim = { kind, startedAt: Date.now(), sent: 0, answer: '' };
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', (c) => (victim.answer += c.toString('latin1')));
  const timer = setInterval(() => {
    if (victim.sent >= request.length || socket.destroyed) return;
    socket.write(request.slice(victim.sent, victim.sent + step));
    victim.sent += step;
  }, everyMs);
  socket.once('close', () => {
    clearInterval(timer);
    victim.closedAt = Date.now();
  });
  return victim;
}

test('slowloris: dribbled, half-sent and silent requests are cut at the handshake timeout and block nobody', async (t) => {
  const dir = tempDir(t, 'wssh-slowloris-');
  const echo = await startEcho();
  t.after(() => echo.close());
  const server = await spawnWsshServer(writeHosts(dir, `echo.lan: "127.0.0.1:${echo.port}"\n`), [
    '--handshake-timeout',
    String(HANDSHAKE_S),
    '--keepalive',
    '0',
  ]);
  t.after(() => server.stop());
  const baseline = await fdsSteady(server.pid);

  const upgrade =
    'GET /ssh/echo.lan HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
    `X-Padding: ${'p'.repeat(100)}\r\n\r\n`;
  const victims: Victim[] = [];
  // A byte every 100 ms: the 260-byte request would take 26 s.
  for (let i = 0; i < DRIBBLERS; i++) victims.push(slowClient(server.port, 'dribbler', upgrade, 1, 100));
  // Half the headers at once, then nothing.
  for (let i = 0; i < HALF_SENT; i++) victims.push(slowClient(server.port, 'half-sent', upgrade.slice(0, 120), 120, 10));
  for (let i = 0; i < SILENT; i++) victims.push(slowClient(server.port, 'silent', '', 1, 1000));

  // While they hang on, a real client gets its tunnel and the health check answers.
  await waitFor(
    'the server to hold the slow connections',
    () => openFds(server.pid) >= baseline + victims.length,
    10_000,
    () => `${openFds(server.pid)} fds, baseline ${baseline}`,
  );
  const { ws } = await attempt(`ws://127.0.0.1:${server.port}/ssh/echo.lan`);
  assert.ok(ws, `the tunnel should open:\n${server.output()}`);
  assert.equal(await echoOnce(ws, 'not blocked'), 'not blocked');
  const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  assert.equal(health.status, 200);
  const answeredAt = Date.now();
  // Blocked, they would have waited for the slow ones to be cut: the tunnel echoed and the health check answered before the first cut.
  const cut = victims.filter((v) => v.closedAt !== undefined && v.closedAt <= answeredAt);
  assert.deepEqual(
    cut.map((v) => `${v.kind} closed after ${v.closedAt! - v.startedAt} ms`),
    [],
    'the tunnel and the health check were answered during the attack',
  );

  // The deadline is for the test; how late after the timeout a cut may come is not asserted.
  await waitFor(
    'every slow connection to be closed',
    () => victims.every((v) => v.closedAt !== undefined),
    30_000,
    () =>
      victims
        .filter((v) => v.closedAt === undefined)
        .map((v) => v.kind)
        .join(', '),
  );
  const answer = new RegExp(`^HTTP/1\\.1 408 Request Timeout\r\n[^]*\r\n\r\nrequest headers not complete within ${HANDSHAKE_S}s\n$`);
  for (const v of victims) {
    // Not before the timeout (it starts once the server has the connection, after startedAt).
    const lived = v.closedAt! - v.startedAt;
    assert.ok(lived >= HANDSHAKE_S * 1000 - 50, `${v.kind} lived ${lived} ms`);
    assert.match(v.answer, answer, `${v.kind}: ${JSON.stringify(v.answer)}`);
    // Cut at the timeout, not once its request was in: a dribbler got less than half of it sent.
    if (v.kind === 'dribbler') assert.ok(v.sent < upgrade.length / 2, `a dribbler got ${v.sent} bytes in`);
  }
  const refusals = () =>
    server
      .output()
      .match(new RegExp(`tunnel refused client=127\\.0\\.0\\.1 target= status=408 reason="request headers not complete within ${HANDSHAKE_S}s"`, 'g'))
      ?.length ?? 0;
  await waitFor(
    'a refusal logged for each slow connection',
    () => refusals() === victims.length,
    10_000,
    () => server.output(),
  );

  // The tunnel opened during the attack outlives the handshake timeout.
  assert.equal(ws.readyState, ws.OPEN);
  assert.equal(await echoOnce(ws, 'still open'), 'still open');
  ws.close();
  await waitFor('the tunnel to close', () => /tunnel \d+ closed /.test(server.output()));

  // Nothing leaks: every socket of the attack is gone from the server.
  await waitFor(
    `the server's descriptors back at ${baseline}`,
    () => openFds(server.pid) <= baseline,
    10_000,
    () => `now ${openFds(server.pid)}`,
  );

  const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  assert.match(metrics, new RegExp(`^wssh_refusals_total\\{status="408",reason="handshake-timeout"\\} ${victims.length}$`, 'm'));
});
