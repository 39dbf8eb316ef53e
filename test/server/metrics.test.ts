// Plain HTTP on the tunnel port: GET /healthz for load balancers, GET
// /metrics with the counters (tunnels, bytes, refusals by status and reason,
// open tunnels' bytes included as they flow), 426 for anything else; and the
// same counters as one log line.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsshServer } from '../../server/wsshServer';
import { HostsPolicy } from '../../server/policy/hostsPolicy';
import { startEcho, type FarEnd } from '../fixtures/byteStreams';
import { waitFor } from '../fixtures/tunnel';
import { attempt, echoOnce, rawRequest } from '../fixtures/upgradeClient';

let echo: FarEnd;
let server: WsshServer;
let base: string;

before(async () => {
  echo = await startEcho();
  const policy = HostsPolicy.parse(`echo.lan: "127.0.0.1:${echo.port}"\n`);
  server = new WsshServer({ policy: () => policy, keepaliveMs: 0 });
  base = `127.0.0.1:${(await server.listen(0)).port}`;
});
after(async () => {
  await server.close();
  await echo.close();
});

/** The value of one sample line of the Prometheus text, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function metrics(): Promise<string> {
  const res = await fetch(`http://${base}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return res.text();
}

test('GET /healthz: 200 {"status":"ok"} (HEAD too), not cached', async () => {
  const res = await fetch(`http://${base}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { status: 'ok' });
  const head = await fetch(`http://${base}/healthz?probe=1`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('other plain requests still get 426, /healthz included for other methods', async () => {
  for (const [path, method] of [
    ['/', 'GET'],
    ['/ssh/echo.lan', 'GET'],
    ['/healthz', 'POST'],
    ['/metrics/x', 'GET'],
  ]) {
    const res = await fetch(`http://${base}${path}`, { method });
    assert.equal(res.status, 426, `${method} ${path}`);
    assert.equal(res.headers.get('upgrade'), 'websocket');
  }
});

test('GET /metrics counts tunnels and bytes, open tunnels included, and refusals by status and reason', async () => {
  const before = await metrics();
  assert.equal(sample(before, 'wssh_tunnels_open'), 0);
  assert.equal(sample(before, 'wssh_tunnels_total'), 0);
  assert.match(before, /^# TYPE wssh_bytes_total counter$/m);

  const { ws } = await attempt(`ws://${base}/ssh/echo.lan`);
  assert.ok(ws);
  assert.equal(await echoOnce(ws, 'x'.repeat(1000)), 'x'.repeat(1000));
  // An open tunnel's bytes show while it is open.
  const during = await metrics();
  assert.equal(sample(during, 'wssh_tunnels_open'), 1);
  assert.equal(sample(during, 'wssh_tunnels_total'), 1);
  assert.equal(sample(during, 'wssh_bytes_total{direction="up"}'), 1000);
  assert.equal(sample(during, 'wssh_bytes_total{direction="down"}'), 1000);
  const closedOne = new Promise((r) => server.tracker.once('close', r));
  ws.close();
  await closedOne;

  assert.equal((await attempt(`ws://${base}/ssh/nowhere.lan`)).status, 403);
  assert.equal((await attempt(`ws://${base}/ssh/nowhere.lan`)).status, 403);
  assert.equal((await attempt(`ws://${base}/ssh/bad%20host`)).status, 400);
  assert.match(await rawRequest(Number(base.split(':')[1]), 'NONSENSE\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);

  const after = await metrics();
  assert.equal(sample(after, 'wssh_tunnels_open'), 0);
  assert.equal(sample(after, 'wssh_tunnels_total'), 1);
  assert.equal(sample(after, 'wssh_bytes_total{direction="up"}'), 1000);
  assert.equal(sample(after, 'wssh_bytes_total{direction="down"}'), 1000);
  assert.equal(sample(after, 'wssh_refusals_total{status="403",reason="denied"}'), 2);
  assert.equal(sample(after, 'wssh_refusals_total{status="400",reason="bad-target"}'), 1);
  assert.equal(sample(after, 'wssh_refusals_total{status="400",reason="malformed"}'), 1);
  assert.ok(sample(after, 'wssh_uptime_seconds')! >= 0);
  // No refused host name ever becomes part of a series name.
  assert.doesNotMatch(after, /nowhere/);

  assert.equal(server.metrics.logLine(), 'stats open=0 total=1 up=1000 down=1000 refused=4 (400 bad-target=1, 400 malformed=1, 403 denied=2)');
});

test('the log line reads the same while a tunnel is open', async () => {
  const { ws } = await attempt(`ws://${base}/ssh/echo.lan`);
  assert.ok(ws);
  await echoOnce(ws, 'abc');
  assert.match(server.metrics.logLine(), /^stats open=1 total=2 up=1003 down=1003 refused=4 /);
  ws.close();
  await waitFor('the tunnel to close', () => server.tracker.size === 0);
});
