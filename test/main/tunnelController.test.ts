// The tunnel controller with the real core proxy, a real WSSH server and real
// TCP targets: the states the tray shows, a port already taken, an endpoint
// that cannot be reached, switching endpoints while running.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { LogLine, TunnelState } from '../../src/shared/ipc';
import { LogBook } from '../../src/main/logBook';
import { TunnelController } from '../../src/main/tunnelController';
import { freePort } from '../fixtures/freePort';
import { tempDir } from '../fixtures/tmp';
import { connectThrough, eventually, openTestSettings, startBannerServer, startWsshServer, testCipher } from '../fixtures/appHarness';

async function setup(t: import('node:test').TestContext, listenPort?: number) {
  const wssh = await startWsshServer();
  const target = await startBannerServer();
  const { settings } = await openTestSettings(tempDir(t), testCipher());
  const saved = settings.saveEndpoint({ name: 'Test server', uri: wssh.uri, user: '', keepaliveSec: 0 });
  assert.ok(saved.ok);
  settings.selectEndpoint(saved.value.id);
  settings.update({ listen: { host: '127.0.0.1', port: listenPort ?? (await freePort()) } });
  const log = new LogBook();
  const controller = new TunnelController({
    resolveEndpoint: () => settings.activeEndpoint(),
    listenAddress: () => settings.view().listen,
    log: (level, text) => log.add(level, text),
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
  const { status, socket, rest } = await connectThrough(started.listen.port, `127.0.0.1:${target.port}`);
  t.after(() => socket.destroy());
  assert.equal(status, 200);
  let received = rest.toString();
  socket.resume();
  socket.on('data', (d) => (received += d));
  await eventually(() => received.includes('SSH-2.0-'), 3000, 'banner');
  socket.write('hello through the tunnel\n');
  await eventually(() => received.includes('hello through the tunnel'), 3000, 'echo');

  assert.equal(controller.state().status, 'active');
  assert.equal(controller.state().openTunnels, 1);
  const [row] = (await eventually(() => {
    const list = controller.connections();
    return list.length === 1 && list[0].up >= 25 && list[0].down >= 25 ? list : undefined;
  }, 3000, 'counted bytes'))!;
  assert.equal(row.target, `127.0.0.1:${target.port}`);
  assert.equal(row.via, settings.activeEndpoint().ok && (settings.activeEndpoint() as { value: { endpoint: { display: string } } }).value.endpoint.display);
  await eventually(() => rows.some((r) => r.length === 1 && r[0] > 0), 3000, 'byte updates');

  socket.end();
  await eventually(() => controller.state().status === 'listening', 3000, 'tunnel close');
  const stopped = await controller.stop();
  assert.equal(stopped.status, 'stopped');
  assert.deepEqual(
    [...new Set(states.map((s) => s.status))],
    ['listening', 'active', 'stopped'],
  );
  const lines = log.lines().map((l: LogLine) => l.text);
  assert.ok(lines.some((l) => /tunnel \d+ open: 127\.0\.0\.1:\d+ via ws:\/\/127\.0\.0\.1/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /tunnel \d+ closed: .* up 25 B, down \d+ B/.test(l)), lines.join('\n'));
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

  const refused = await connectThrough(state.listen.port, `127.0.0.1:${target.port}`);
  assert.equal(refused.status, 502);
  refused.socket.destroy();
  const error = (await eventually(() => (controller.state().status === 'error' ? controller.state() : undefined), 3000, 'error state'))!;
  assert.equal(error.running, true, 'the proxy still listens');
  assert.match(error.reason!, new RegExp(`connection refused by ws://127\\.0\\.0\\.1:${deadPort}/ssh`));
  assert.equal(problems.length, 1);

  settings.selectEndpoint(good.id);
  controller.endpointChanged();
  assert.equal(controller.state().endpointName, 'Test server');
  const ok = await connectThrough(state.listen.port, `127.0.0.1:${target.port}`);
  assert.equal(ok.status, 200);
  await eventually(() => controller.state().status === 'active', 3000, 'active after the switch');
  assert.equal(controller.state().reason, undefined);
  ok.socket.destroy();
});

test('stop closes open tunnels after the drain time; toggle starts again', async (t) => {
  const { controller, target } = await setup(t);
  const { listen } = await controller.start();
  const { socket } = await connectThrough(listen.port, `127.0.0.1:${target.port}`);
  socket.resume();
  const closed = new Promise((r) => socket.once('close', r));
  await eventually(() => controller.state().openTunnels === 1);
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
  const probe = await connectThrough(port, 'bad request');
  assert.equal(probe.status, 400);
  probe.socket.destroy();
});
