// The tunnel controller with the real core proxy, a real WSSH server and real
// TCP targets: the states the tray shows, a port already taken, an endpoint
// that cannot be reached, switching endpoints while running.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { LogLine, TunnelState } from '../../src/shared/ipc';
import { LogBook } from '../../src/main/window/logBook';
import { TunnelController } from '../../src/main/tunnel/tunnelController';
import { settingsControllerOptions } from '../../src/main/appStartup';
import { freePort } from '../../scripts/harness/ports';
import { tempDir } from '../fixtures/tmp';
import { openTestSettings, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';

async function setup(t: import('node:test').TestContext, listenPort?: number) {
  const wssh = await startInProcessServer();
  const target = await startBannerServer();
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'Test server', uri: wssh.uri, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: listenPort ?? (await freePort()) } });
  const log = new LogBook();
  const controller = new TunnelController({
    ...settingsControllerOptions(settings, log),
    bytesIntervalMs: 50,
    drainMs: 200,
  });
  const states: TunnelState[] = [];
  const problems: string[] = [];
  controller.on('state', (s) => states.push(s));
  controller.on('problem', (title, text) => problems.push(`${title}: ${text}`));
  t.after(async () => {
    await controller.stop(0);
    await wssh.server.close();
    await target.close();
  });
  return { wssh, target, settings, log, controller, states, problems };
}

test('start, carry a tunnel, stop: stopped → listening → active → listening → stopped', async (t) => {
  const { controller, target, states, log, settings } = await setup(t);
  assert.equal(controller.state().status, 'stopped');
  const started = await controller.start();
  assert.equal(started.status, 'listening');
  assert.equal(started.running, true);
  assert.equal(started.endpointName, 'Test server');
  assert.deepEqual(started.listen, settings.view().listen);

  const rows: number[][] = [];
  controller.on('connections', (r) => rows.push(r.map((c) => c.up + c.down)));
  const { status, socket } = await connectThroughProxy(started.listen.port, `127.0.0.1:${target.port}`, { allowHalfOpen: false });
  t.after(() => socket.destroy());
  assert.equal(status, 200);
  let received = '';
  socket.resume();
  socket.on('data', (d) => (received += d));
  await waitFor('banner', () => received.includes('SSH-2.0-'));
  socket.write('hello through the tunnel\n');
  await waitFor('echo', () => received.includes('hello through the tunnel'));

  assert.equal(controller.state().status, 'active');
  assert.equal(controller.state().openTunnels, 1);
  const [row] = (await waitFor('counted bytes', () => {
    const list = controller.connections();
    return list.length === 1 && list[0].up >= 25 && list[0].down >= 25 ? list : undefined;
  }))!;
  assert.equal(row.target, `127.0.0.1:${target.port}`);
  assert.equal(row.via, settings.activeEndpoint().ok && (settings.activeEndpoint() as { value: { endpoint: { display: string } } }).value.endpoint.display);
  await waitFor('byte updates', () => rows.some((r) => r.length === 1 && r[0] > 0));

  socket.end();
  await waitFor('tunnel close', () => controller.state().status === 'listening');
  const stopped = await controller.stop();
  assert.equal(stopped.status, 'stopped');
  assert.deepEqual([...new Set(states.map((s) => s.status))], ['listening', 'active', 'stopped']);
  const lines = log.lines().map((l: LogLine) => l.text);
  assert.ok(
    lines.some((l) => /tunnel \d+ open: 127\.0\.0\.1:\d+ via ws:\/\/127\.0\.0\.1/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /tunnel \d+ closed: .* up 25 B, down \d+ B/.test(l)),
    lines.join('\n'),
  );
});

test('a listen port already taken is a clear error, not a crash', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as net.AddressInfo).port;
  const { controller, problems } = await setup(t, port);
  const state = await controller.start();
  assert.equal(state.status, 'error');
  assert.equal(state.running, false);
  assert.equal(state.reason, `port ${port} on 127.0.0.1 is already in use by another program (another WSSH or proxy?): stop it or change the listen port`);
  assert.deepEqual(problems, [`Cannot start the tunnel: ${state.reason}`]);
  // Once the port is free, Start works.
  await new Promise<void>((r) => blocker.close(() => r()));
  assert.equal((await controller.start()).status, 'listening');
});

test('an unreachable endpoint turns into the error state with the reason; switching endpoints fixes it', async (t) => {
  const { controller, settings, target, problems, wssh } = await setup(t);
  const deadPort = await freePort();
  const dead = settings.saveEndpoint({ name: 'Dead', uri: `ws://127.0.0.1:${deadPort}/ssh`, user: '', keepaliveSec: 0 });
  assert.ok(dead.ok);
  settings.selectEndpoint(dead.value.id);
  const good = settings.view().endpoints.find((e) => e.uri === wssh.uri)!;
  const state = await controller.start();
  assert.equal(state.endpointName, 'Dead');

  const refused = await connectThroughProxy(state.listen.port, `127.0.0.1:${target.port}`, { allowHalfOpen: false });
  assert.equal(refused.status, 502);
  refused.socket.destroy();
  const error = (await waitFor('error state', () => (controller.state().status === 'error' ? controller.state() : undefined)))!;
  assert.equal(error.running, true, 'the proxy still listens');
  assert.match(error.reason!, new RegExp(`connection refused by ws://127\\.0\\.0\\.1:${deadPort}/ssh`));
  assert.equal(problems.length, 1);

  settings.selectEndpoint(good.id);
  controller.endpointChanged();
  assert.equal(controller.state().endpointName, 'Test server');
  const ok = await connectThroughProxy(state.listen.port, `127.0.0.1:${target.port}`, { allowHalfOpen: false });
  assert.equal(ok.status, 200);
  await waitFor('active after the switch', () => controller.state().status === 'active');
  assert.equal(controller.state().reason, undefined);
  ok.socket.destroy();
});

test('stop closes open tunnels after the drain time; toggle starts again', async (t) => {
  const { controller, target } = await setup(t);
  const { listen } = await controller.start();
  const { socket } = await connectThroughProxy(listen.port, `127.0.0.1:${target.port}`, { allowHalfOpen: false });
  socket.resume();
  const closed = new Promise((r) => socket.once('close', r));
  await waitFor('one open tunnel', () => controller.state().openTunnels === 1);
  const started = Date.now();
  await controller.toggle();
  await closed;
  assert.ok(Date.now() - started >= 150, 'open tunnels got the drain time');
  assert.equal(controller.state().status, 'stopped');
  assert.deepEqual(controller.connections(), []);
  assert.equal((await controller.toggle()).status, 'listening');
});

test('a changed listen address restarts a running proxy there', async (t) => {
  const { controller, settings } = await setup(t);
  await controller.start();
  const port = await freePort();
  settings.update({ listen: { host: '127.0.0.1', port } });
  const state = await controller.listenChanged();
  assert.equal(state.status, 'listening');
  assert.equal(state.listen.port, port);
  const probe = await connectThroughProxy(port, 'bad request', { allowHalfOpen: false });
  assert.equal(probe.status, 400);
  probe.socket.destroy();
});
