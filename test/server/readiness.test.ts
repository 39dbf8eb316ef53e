// Readiness apart from liveness, on real sockets: GET /readyz is 200 while
// the server takes new tunnels and 503 with its reasons while it is at its
// tunnel limit, waiting for a config file, or draining; /healthz stays 200
// throughout. While it drains it keeps listening: the probes are answered,
// a new tunnel is told 503 `draining`, the open ones carry on until they end
// or the drain does.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WsshServer, type WsshServerOptions } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { notReadyReasons } from '../../server/readiness';
import { REFUSAL_HEADER } from '../../src/core/tunnel/refusals';
import { startEcho, type FarEnd } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';
import { attempt, closed, echoOnce, probe } from '../fixtures/upgradeClient';
import { canConnect } from '../../scripts/harness/ports';
import { dialOutcome } from '../fixtures/outcomes';
import type { TunnelError } from '../../src/core/tunnel/tunnelError';

let echo: FarEnd;
before(async () => {
  echo = await startEcho();
});
after(() => echo.close());

async function startServer(t: TestContext, options: Partial<WsshServerOptions> = {}) {
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`);
  const server = new WsshServer({ policy: () => policy, keepaliveMs: 0, ...options });
  const { port } = await server.listen(0);
  t.after(() => server.close());
  return { server, port, tunnelUrl: `ws://127.0.0.1:${port}/ssh/echo.lan` };
}

test('the reasons, in the order the body lists them', () => {
  const state = { draining: false, slotsInUse: 0, maxTunnels: 2, waitingFor: [] };
  assert.deepEqual(notReadyReasons(state), []);
  assert.deepEqual(notReadyReasons({ ...state, slotsInUse: 2 }), ['at tunnel limit']);
  assert.deepEqual(notReadyReasons({ ...state, slotsInUse: 5, maxTunnels: 0 }), [], 'no limit');
  assert.deepEqual(notReadyReasons({ draining: true, slotsInUse: 2, maxTunnels: 2, waitingFor: ['hosts.yml', 'users file'] }), [
    'draining',
    'waiting for hosts.yml',
    'waiting for users file',
    'at tunnel limit',
  ]);
});

test('a fresh server is alive and ready', async (t) => {
  const { port } = await startServer(t);
  assert.deepEqual(await probe(port, '/healthz'), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await probe(port, '/readyz'), { status: 200, body: { status: 'ready' } });
  assert.deepEqual(await probe(port, '/readyz?verbose=1'), { status: 200, body: { status: 'ready' } }, 'a query is ignored');
});

test('at --max-tunnels it is not ready until a tunnel closes; alive throughout', async (t) => {
  const { port, tunnelUrl } = await startServer(t, { maxTunnels: 1 });
  const first = await attempt(tunnelUrl);
  assert.ok(first.ws, first.error);
  assert.deepEqual(await probe(port, '/readyz'), { status: 503, body: { status: 'not ready', reasons: ['at tunnel limit'] } });
  assert.equal((await probe(port, '/healthz')).status, 200);
  first.ws.close();
  await closed(first.ws);
  await waitFor('ready again', async () => (await probe(port, '/readyz')).status === 200);
});

test('while a config file has not loaded: not ready, and a tunnel is told 503 not-ready before any login', async (t) => {
  let waiting = ['hosts.yml'];
  const { port, tunnelUrl } = await startServer(t, { waitingFor: () => waiting });
  assert.deepEqual(await probe(port, '/readyz'), { status: 503, body: { status: 'not ready', reasons: ['waiting for hosts.yml'] } });
  assert.equal((await probe(port, '/healthz')).status, 200);
  const refused = await attempt(tunnelUrl);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers?.[REFUSAL_HEADER.toLowerCase()], 'not-ready');
  assert.match(refused.body!, /server not ready: try again later/);
  const dialed = (await dialOutcome(`ws://127.0.0.1:${port}/ssh`, {}, { host: 'echo.lan', port: 22 })) as TunnelError;
  assert.equal(dialed.refusal, 'not-ready');
  assert.match(dialed.message, /is not ready: try again later \(503 Service Unavailable: server not ready: try again later\)$/);

  waiting = [];
  assert.deepEqual(await probe(port, '/readyz'), { status: 200, body: { status: 'ready' } });
  const opened = await attempt(tunnelUrl);
  assert.ok(opened.ws, opened.error);
  assert.equal(await echoOnce(opened.ws, 'loaded'), 'loaded');
  opened.ws.close();
});

test('draining: not ready at once, still listening; new tunnels 503 draining; the open one carries on, and its close ends the drain', async (t) => {
  const { server, port, tunnelUrl } = await startServer(t);
  const open = await attempt(tunnelUrl);
  assert.ok(open.ws, open.error);
  const stopped = server.close(120_000);

  assert.deepEqual(await probe(port, '/readyz'), { status: 503, body: { status: 'not ready', reasons: ['draining'] } });
  assert.deepEqual(await probe(port, '/healthz'), { status: 200, body: { status: 'ok' } });
  const late = await attempt(tunnelUrl);
  assert.equal(late.status, 503);
  assert.equal(late.headers?.[REFUSAL_HEADER.toLowerCase()], 'draining');
  assert.equal(await echoOnce(open.ws, 'still here'), 'still here');

  const before = Date.now();
  open.ws.close();
  await stopped;
  assert.ok(Date.now() - before < 60_000, 'the last tunnel ended the drain, not its time');
  assert.equal(await canConnect(port), false, 'no longer listening once the drain is over');
});

test('a tunnel still open when the drain ends is closed, and then the server stops listening', async (t) => {
  const { server, port, tunnelUrl } = await startServer(t);
  const open = await attempt(tunnelUrl);
  assert.ok(open.ws, open.error);
  const started = Date.now();
  const stopped = server.close(500);
  assert.equal(await canConnect(port), true, 'listening while it drains');
  const { code } = await closed(open.ws);
  await stopped;
  assert.ok(Date.now() - started >= 450, `closed after ${Date.now() - started} ms of a 500 ms drain`);
  assert.notEqual(code, 1000, 'cut, not a clean end');
  assert.equal(await canConnect(port), false);
});
