// The tunnel controller's part of issue #20, with the real core proxy, a real
// WSSH server and the Cutter between them (test/fixtures/resumeRig.ts): the
// reconnecting state and its count while tunnels are being resumed, the
// resumes counted per tunnel, one notification for sessions lost together and
// none for a break that resumed, and an endpoint with resume off.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelState } from '../../src/shared/ipc';
import type { WsshServerOptions } from '../../server/wsshServer';
import { freePort } from '../../scripts/harness/ports';
import { openTestController } from '../fixtures/appHarness';
import { echoes, openEchoTunnel, startBreakablePath, useBreakablePath } from '../fixtures/resumeRig';
import { endedWithin, waitFor } from '../fixtures/tunnel';

async function setup(t: TestContext, options: { server?: Partial<WsshServerOptions>; resume?: boolean } = {}) {
  const path = await startBreakablePath(t, options.server);
  const { settings, log, controller } = await openTestController(t, { bytesIntervalMs: 50 });
  t.after(() => controller.stop(0));
  useBreakablePath(settings, path, options.resume);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  const states: TunnelState[] = [];
  const problems: string[] = [];
  controller.on('state', (s) => states.push(s));
  controller.on('problem', (title, text) => problems.push(`${title}: ${text}`));
  await controller.start();
  const logText = () => log.lines().map((l) => `${l.level} ${l.text}`);
  return { path, settings, controller, states, problems, logText };
}

test('a break: reconnecting with the count and each row marked, then active again with the resume counted; no notification', async (t) => {
  const { path, controller, states, problems, logText } = await setup(t);
  const a = await openEchoTunnel(t, controller, path);
  const b = await openEchoTunnel(t, controller, path);
  assert.deepEqual(
    controller.connections().map((r) => [r.resumes, r.reconnecting]),
    [
      [0, undefined],
      [0, undefined],
    ],
    'resumable tunnels count their resumes from 0',
  );

  // The way to the server goes down, and the open WebSockets with it.
  path.cutter.block();
  path.cutter.cut('destroy');
  const reconnecting = await waitFor(
    'the reconnecting state',
    () => (controller.state().reconnecting === 2 ? controller.state() : undefined),
    10_000,
    () => JSON.stringify(controller.state()),
  );
  assert.equal(reconnecting.status, 'reconnecting');
  assert.equal(reconnecting.openTunnels, 2, 'the tunnels stay open meanwhile');
  assert.deepEqual(
    controller.connections().map((r) => r.reconnecting),
    [true, true],
  );
  assert.ok(
    states.some((s) => s.status === 'reconnecting' && s.reconnecting >= 1),
    'the state was pushed',
  );

  // The network is back: the app says so (reconnectTriggers.ts) rather than waiting for the next attempt.
  path.cutter.block(false);
  controller.reconnectAll('the network changed');
  await waitFor(
    'active again',
    () => controller.state().status === 'active',
    20_000,
    () => `${JSON.stringify(controller.state())}\n${logText().join('\n')}`,
  );
  assert.equal(controller.state().reconnecting, 0);
  assert.deepEqual(
    controller.connections().map((r) => [r.resumes, r.reconnecting]),
    [
      [1, false],
      [1, false],
    ],
  );
  await echoes(a, 'still here a\n');
  await echoes(b, 'still here b\n');
  assert.ok(
    logText().some((l) => /^info the network changed: resuming the 2 open tunnels now$/.test(l)),
    logText().join('\n'),
  );
  assert.ok(
    logText().some((l) => /tunnel \d+ to 127\.0\.0\.1:\d+: resumed after \d+\.\d s/.test(l)),
    logText().join('\n'),
  );
  assert.deepEqual(problems, [], 'a break that resumed is not notified');

  // Closed after a resume: the log line says how often it was resumed.
  a.end();
  await waitFor(
    'the closed line',
    () => logText().some((l) => /^info tunnel \d+ closed: .*, resumed 1 time \(/.test(l)),
    10_000,
    () => logText().join('\n'),
  );
});

test('sessions lost together: one notification naming them, the log says lost; the proxy goes on listening', async (t) => {
  // The server keeps a broken session for one second only.
  const { path, controller, problems, logText } = await setup(t, { server: { resumeTimeoutMs: 1000 } });
  const a = await openEchoTunnel(t, controller, path);
  const b = await openEchoTunnel(t, controller, path);
  path.cutter.block();
  path.cutter.cut('destroy');
  // The client gives up when the server's window (its offer says 1 s) has passed: PuTTY's connection ends.
  assert.ok(await endedWithin(a, 20_000), 'the SSH client sees its session end');
  assert.ok(await endedWithin(b, 20_000));
  await waitFor(
    'the notification',
    () => problems.length > 0,
    10_000,
    () => logText().join('\n'),
  );
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^2 SSH sessions lost: The sessions to 127\.0\.0\.1:\d+ ended while their tunnels were broken: .+\. Connect to them again\.$/);
  assert.equal(logText().filter((l) => /^error tunnel \d+ lost its SSH session: /.test(l)).length, 2, logText().join('\n'));
  const state = controller.state();
  assert.equal(state.status, 'listening', 'a lost session is not an error of the proxy');
  assert.equal(state.reconnecting, 0);
});

test('resume off on the endpoint: plain tunnels, a break ends them, no reconnecting state and no notification', async (t) => {
  const { path, controller, states, problems } = await setup(t, { resume: false });
  const a = await openEchoTunnel(t, controller, path);
  assert.deepEqual(
    controller.connections().map((r) => r.resumes),
    [undefined],
    'a plain tunnel has no resume count',
  );
  path.cutter.cut('destroy');
  assert.ok(await endedWithin(a, 10_000), 'the break ends the session at once');
  await waitFor('no tunnel open', () => controller.state().openTunnels === 0);
  assert.ok(!states.some((s) => s.status === 'reconnecting'));
  assert.deepEqual(problems, [], 'not a lost session: there was nothing to resume');
  // reconnectAll has nothing to do.
  controller.reconnectAll('the computer woke up');
});
