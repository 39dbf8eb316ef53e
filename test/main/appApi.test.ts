// The WsshApi as main implements it, wired to its events, over real settings,
// the real proxy and a real WSSH server: what the window and the tray see when
// the user switches endpoints, moves the listen port, tests an unsaved
// endpoint, exports a session. (When TLS to the endpoint fails:
// test/e2e/app/trust.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../scripts/harness/ports';
import { openTestApi, startBannerServer, startInProcessServer } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';

test('switching the endpoint while running: new tunnels use it, the state says so', async (t) => {
  const { api, events } = await openTestApi(t);
  const wssh = await startInProcessServer();
  const sshd = await startBannerServer();
  t.after(async () => {
    await wssh.server.close();
    await sshd.close();
  });
  const started = await api.startTunnel();
  assert.equal(started.endpointName, 'Local WSSH server');
  const saved = await api.saveEndpoint({ name: 'Real', uri: wssh.uri, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  assert.deepEqual(await api.selectEndpoint(saved.value.id), { ok: true, value: null });
  const state = await api.getTunnelState();
  assert.equal(state.endpointName, 'Real');
  assert.equal(state.endpointDisplay, wssh.uri);
  assert.ok(
    events.some(([e, p]) => e === 'tunnel:state' && (p as { endpointName: string }).endpointName === 'Real'),
    'the window and tray were told',
  );
  assert.ok(events.some(([e]) => e === 'settings:changed'));

  const tunnel = await connectThroughProxy(state.listen.port, `127.0.0.1:${sshd.port}`, { allowHalfOpen: false });
  t.after(() => tunnel.socket.destroy());
  assert.equal(tunnel.status, 200);
  await waitFor('row', async () => (await api.getConnections()).length === 1);
  assert.ok(events.some(([e, p]) => e === 'connections:changed' && (p as unknown[]).length === 1));
  assert.ok((await api.getLog()).some((l) => l.text === `endpoint switched to Real (${wssh.uri})`));
});

test('a new listen port restarts the running proxy there', async (t) => {
  const { api } = await openTestApi(t);
  await api.startTunnel();
  const port = await freePort();
  const outcome = await api.updateSettings({ listen: { host: '127.0.0.1', port } });
  assert.ok(outcome.ok);
  await waitFor('restart', async () => (await api.getTunnelState()).listen.port === port && (await api.getTunnelState()).running);
  assert.equal((await api.getPuttySettings()).proxyPort, port);
});

test('Test uses the editor’s unsaved values, secret included, and never logs the secret', async (t) => {
  const { api, log } = await openTestApi(t);
  const wssh = await startInProcessServer();
  const sshd = await startBannerServer('SSH-2.0-Banner_Test');
  t.after(async () => {
    await wssh.server.close();
    await sshd.close();
  });
  const result = await api.testEndpoint({
    endpoint: { name: 'x', uri: wssh.uri, user: 'u', secret: 'TopSecret42', keepaliveSec: 0 },
    target: `127.0.0.1:${sshd.port}`,
  });
  assert.deepEqual(result.ok && result.banner, 'SSH-2.0-Banner_Test');
  const invalid = await api.testEndpoint({ endpoint: { name: 'x', uri: 'http://gw/ssh', user: '', keepaliveSec: 0 }, target: 'db1' });
  assert.deepEqual(invalid, { ok: false, reason: 'use ws:// instead of http:// (WSSH speaks WebSocket)', totalMs: 0 });
  assert.ok(!JSON.stringify(log.lines()).includes('TopSecret42'));
  assert.ok(log.lines().some((l) => l.text.includes(`test of ws://u:***@127.0.0.1:${wssh.port}/ssh`)));
});

test('export: saved, canceled, refused; copy', async (t) => {
  const { api, copied } = await openTestApi(t);
  const saved = await api.exportPuttySession({ sessionName: 'db1', target: 'db1.lan:2222' });
  assert.equal(saved.status, 'saved');
  assert.deepEqual(await api.exportPuttySession({ sessionName: ' ', target: 'db1' }), { status: 'failed', reason: 'the session needs a name' });
  assert.equal((await api.exportPuttySession({ sessionName: 'x', target: 'db1:99999' })).status, 'failed');
  await api.copyText('hello');
  assert.deepEqual(copied, ['hello']);
  const { api: cancelling } = await openTestApi(t, 'cancel');
  assert.deepEqual(await cancelling.exportPuttySession({ sessionName: 'db1', target: 'db1' }), { status: 'canceled' });
});

test('traffic: sampled while running and sent as traffic:changed; empty once stopped', async (t) => {
  const { api, events, controller } = await openTestApi(t);
  assert.deepEqual(await api.getTraffic(), { at: 0, tunnels: 0, up: 0, down: 0, perTunnel: [], history: [] });
  await api.startTunnel();
  await waitFor('a traffic sample', () => events.some(([e]) => e === 'traffic:changed'), 10_000);
  const sample = await api.getTraffic();
  assert.equal(sample.tunnels, 0);
  assert.ok(sample.history.length >= 1);
  await api.stopTunnel();
  assert.deepEqual(controller.traffic().history, []);
  const last = events.filter(([e]) => e === 'traffic:changed').at(-1)![1] as { at: number; history: unknown[] };
  assert.deepEqual([last.at, last.history], [0, []], 'the window is told the rates are gone');
});

test('saved sessions without a registry: listed as a problem, a switch refused with a message', async (t) => {
  const { api } = await openTestApi(t);
  assert.deepEqual(await api.listSavedSessions(), { clients: [], problem: 'reading saved sessions is not set up' });
  assert.deepEqual(await api.switchSession({ client: 'putty', key: 'x' }), { ok: false, error: 'reading saved sessions is not set up' });
  assert.deepEqual(await api.switchSessionBack({ client: 'putty', key: 'x' }), { ok: false, error: 'reading saved sessions is not set up' });
});
