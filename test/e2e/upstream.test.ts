// Two `wssh server` processes behind one real nginx `upstream` (the shipped
// nginx/wssh-upstream.conf and wssh-location.conf), as an admin scales out:
// tunnels land on both servers and each carries its bytes; a server at
// --max-tunnels answers 503 and nginx passes the tunnel to the other; with one
// server stopped, new tunnels go to the one left and the tunnels already open
// there are untouched. The servers share nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { requirePrograms } from '../../scripts/harness/programs';
import { startEcho } from '../fixtures/byteStreams';
import { startNginx } from '../../scripts/harness/nginx';
import { tempDir } from '../fixtures/tmp';
import { waitFor } from '../fixtures/tunnel';
import { echoOnce } from '../fixtures/upgradeClient';
import { spawnWsshServer, writeHosts, type WsshProcess } from '../fixtures/wssh';
import { waitForOutput } from '../../scripts/harness/processes';

/** Opens a tunnel through nginx; rejects with the status if refused. */
function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Tunnels a server logged as opened (its own count: the servers share nothing). */
function opened(server: WsshProcess): number {
  return server.output().match(/tunnel \d+ open /g)?.length ?? 0;
}

async function openNow(server: WsshProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return Number(/^wssh_tunnels_open (\d+)$/m.exec(text)![1]);
}

test('two wssh servers behind one nginx upstream', async (t) => {
  if (!requirePrograms(t, 'nginx')) return;
  const dir = tempDir(t, 'wssh-e2e-upstream-');
  const far = await startEcho();
  t.after(() => far.close());
  const hosts = writeHosts(dir, `echo.lan: "127.0.0.1:${far.port}"\n`);
  // Server a takes at most 2 tunnels; b has the default limits.
  const a = await spawnWsshServer(hosts, ['--max-tunnels', '2', '--keepalive', '0', '--drain', '0']);
  t.after(() => a.stop());
  const b = await spawnWsshServer(hosts, ['--keepalive', '0']);
  t.after(() => b.stop());
  const nginx = await startNginx({ upstreams: [{ port: a.port }, { port: b.port }] });
  t.after(() => nginx.stop());
  const url = `${nginx.url}/echo.lan`;
  const logs = () => `--- a:\n${a.output()}\n--- b:\n${b.output()}\n--- nginx:\n${nginx.log()}`;
  const all: WebSocket[] = [];
  t.after(() => all.forEach((ws) => ws.terminate()));

  await t.test('tunnels opened at once land on both servers, and each carries its own bytes', async () => {
    const tunnels = await Promise.all(Array.from({ length: 4 }, () => open(url)));
    all.push(...tunnels);
    const answers = await Promise.all(tunnels.map((ws, i) => echoOnce(ws, `tunnel ${i} `.repeat(100))));
    answers.forEach((answer, i) => assert.equal(answer, `tunnel ${i} `.repeat(100)));
    await waitFor('4 open lines', () => opened(a) + opened(b) === 4, 5000, logs);
    assert.ok(opened(a) >= 1 && opened(b) >= 1, `a opened ${opened(a)}, b opened ${opened(b)}\n${logs()}`);
    for (const ws of tunnels) ws.close();
    await waitFor('the tunnels to close', () => (a.output() + b.output()).match(/tunnel \d+ closed /g)?.length === 4, 5000, logs);
  });

  await t.test('a server at --max-tunnels answers 503 and nginx passes the tunnel to the other', async () => {
    const tunnels: WebSocket[] = [];
    for (let i = 0; i < 6; i++) {
      const ws = await open(url);
      tunnels.push(ws);
      all.push(ws);
      assert.equal(await echoOnce(ws, `held ${i}`), `held ${i}`);
    }
    // least_conn keeps choosing a, which has fewer: it refuses past 2 and b takes the rest.
    assert.equal(await openNow(a), 2, logs());
    assert.equal(await openNow(b), 4, logs());
    await waitForOutput(a, /tunnel refused client=127\.0\.0\.1 target=echo\.lan status=503 reason="server at capacity: 2 tunnels open"/);
    // The refusal went to nginx, not to the client: every tunnel above opened.
  });

  await t.test('with one server stopped, new tunnels go to the other; its open tunnels are untouched', async () => {
    const onB = all.filter((ws) => ws.readyState === ws.OPEN);
    await a.stop();
    // The tunnels that were on a are gone; those on b still carry bytes.
    await waitFor('the tunnels on a to close', () => all.filter((ws) => ws.readyState === ws.OPEN).length === 4, 5000, logs);
    const survivors = onB.filter((ws) => ws.readyState === ws.OPEN);
    assert.equal(survivors.length, 4);
    for (const ws of survivors) assert.equal(await echoOnce(ws, 'still there'), 'still there');
    const before = opened(b);
    for (let i = 0; i < 3; i++) {
      const ws = await open(url);
      all.push(ws);
      assert.equal(await echoOnce(ws, `after a left ${i}`), `after a left ${i}`);
    }
    await waitFor('3 more open lines on b', () => opened(b) === before + 3, 5000, logs);
  });
});

test('one server behind the shipped location: its 503 reaches the client with the reason', async (t) => {
  // The location passes a 503 to the next upstream (proxy_next_upstream … http_503); with no other, the client gets it.
  if (!requirePrograms(t, 'nginx')) return;
  const dir = tempDir(t, 'wssh-e2e-upstream-one-');
  const far = await startEcho();
  t.after(() => far.close());
  const server = await spawnWsshServer(writeHosts(dir, `echo.lan: "127.0.0.1:${far.port}"\n`), ['--max-tunnels', '1', '--keepalive', '0', '--drain', '0']);
  t.after(() => server.stop());
  const nginx = await startNginx({ upstreamPort: server.port });
  t.after(() => nginx.stop());
  const first = await open(`${nginx.url}/echo.lan`);
  t.after(() => first.terminate());
  for (let i = 0; i < 3; i++) {
    const refused = await new Promise<{ status?: number; body: string }>((resolve) => {
      const ws = new WebSocket(`${nginx.url}/echo.lan`);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      ws.once('open', () => resolve({ body: 'opened' }));
      ws.once('error', (err) => resolve({ body: err.message }));
    });
    // Again and again: a single server is never marked down by nginx.
    assert.deepEqual(refused, { status: 503, body: 'server at capacity: 1 tunnel open\n' });
  }
  first.close();
  for (let i = 0; (await openNow(server)) > 0; i++) {
    assert.ok(i < 100, 'the tunnel should close within 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  const again = await open(`${nginx.url}/echo.lan`);
  assert.equal(await echoOnce(again, 'room again'), 'room again');
  again.close();
});
