// When the tray app resumes every tunnel at once (issue #20): a wake from
// sleep (a powerMonitor-like emitter stands in for Electron's), the network
// coming back (isOnline turning true) or changing (the adapters' IPv4
// addresses); never for the network going away or for a rotated IPv6
// address. Then the whole way with the real controller: a stalled path that
// nobody noticed is resumed as soon as the computer wakes up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type os from 'node:os';
import { NETWORK_CHANGED, ReconnectTriggers, WOKE_UP } from '../../src/main/tunnel/reconnectTriggers';
import { freePort } from '../../scripts/harness/ports';
import { openTestController } from '../fixtures/appHarness';
import { echoes, openEchoTunnel, startBreakablePath, useBreakablePath } from '../fixtures/resumeRig';
import { waitFor } from '../fixtures/tunnel';

type Adapters = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

function address(address: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false): os.NetworkInterfaceInfo {
  const base = { address, netmask: family === 'IPv4' ? '255.255.255.0' : 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

const LOOPBACK: Adapters = { lo: [address('127.0.0.1', 'IPv4', true), address('::1', 'IPv6', true)] };

/** Triggers over a fake powerMonitor and network that the test changes, checked by hand (the timer is left long). */
function fakeMachine(adapters: Adapters, online?: boolean) {
  const power = new EventEmitter();
  const machine = { adapters, online: online ?? true };
  const reasons: string[] = [];
  const triggers = new ReconnectTriggers({
    power,
    isOnline: online === undefined ? undefined : () => machine.online,
    interfaces: () => machine.adapters,
    pollMs: 3_600_000,
    reconnect: (reason) => reasons.push(reason),
  });
  return { power, machine, reasons, triggers };
}

test('a wake from sleep resumes at once; stop() stops listening', () => {
  const { power, reasons, triggers } = fakeMachine({ ...LOOPBACK, eth0: [address('10.0.0.5')] });
  power.emit('resume');
  assert.deepEqual(reasons, [WOKE_UP]);
  assert.equal(WOKE_UP, 'the computer woke up');
  triggers.stop();
  power.emit('resume');
  assert.deepEqual(reasons, [WOKE_UP]);
  assert.equal(power.listenerCount('resume'), 0);
});

test('the network: back online, another address, an adapter more or less; not gone, not unchanged, not a new IPv6 address', () => {
  const wifi = { wlan0: [address('192.168.1.7'), address('2001:db8::7', 'IPv6')] };
  const { machine, reasons, triggers } = fakeMachine({ ...LOOPBACK, ...wifi }, true);
  triggers.check();
  assert.deepEqual(reasons, [], 'nothing changed');
  // Windows' temporary IPv6 address rotates: the same network.
  machine.adapters = { ...LOOPBACK, wlan0: [address('192.168.1.7'), address('2001:db8::8', 'IPv6')] };
  triggers.check();
  assert.deepEqual(reasons, []);
  // Offline (the cable out, flight mode): nothing can be resumed.
  machine.online = false;
  machine.adapters = { ...LOOPBACK };
  triggers.check();
  assert.deepEqual(reasons, []);
  // Back, on the same Wi-Fi.
  machine.online = true;
  machine.adapters = { ...LOOPBACK, ...wifi };
  triggers.check();
  assert.deepEqual(reasons, [NETWORK_CHANGED]);
  assert.equal(NETWORK_CHANGED, 'the network changed');
  // Roamed to another network: a new address on the same adapter.
  machine.adapters = { ...LOOPBACK, wlan0: [address('10.20.0.9')] };
  triggers.check();
  // A VPN comes up, then goes down.
  machine.adapters = { ...LOOPBACK, wlan0: [address('10.20.0.9')], vpn0: [address('172.16.0.2')] };
  triggers.check();
  machine.adapters = { ...LOOPBACK, wlan0: [address('10.20.0.9')] };
  triggers.check();
  assert.deepEqual(reasons, [NETWORK_CHANGED, NETWORK_CHANGED, NETWORK_CHANGED, NETWORK_CHANGED]);
  // isOnline true again without a change: not a reason.
  triggers.check();
  assert.equal(reasons.length, 4);
  triggers.stop();
});

test('without isOnline, having an address other than loopback is being online', () => {
  const { machine, reasons, triggers } = fakeMachine({ ...LOOPBACK });
  machine.adapters = { ...LOOPBACK, eth0: [address('10.0.0.5')] };
  triggers.check();
  assert.deepEqual(reasons, [NETWORK_CHANGED]);
  machine.adapters = { ...LOOPBACK };
  triggers.check();
  assert.deepEqual(reasons, [NETWORK_CHANGED], 'gone is not a reason');
  triggers.stop();
});

test('the timer looks at the network by itself', async () => {
  const machine = { adapters: { ...LOOPBACK, eth0: [address('10.0.0.5')] } as Adapters };
  const reasons: string[] = [];
  const triggers = new ReconnectTriggers({ power: new EventEmitter(), interfaces: () => machine.adapters, pollMs: 20, reconnect: (r) => reasons.push(r) });
  try {
    machine.adapters = { ...LOOPBACK, eth0: [address('10.0.0.6')] };
    await waitFor('the poll to see the new address', () => reasons.length === 1);
  } finally {
    triggers.stop();
  }
});

test('the whole way: a stalled path that the pings have not found yet is resumed as soon as the computer wakes up', async (t) => {
  const path = await startBreakablePath(t);
  const { settings, log, controller } = await openTestController(t);
  t.after(() => controller.stop(0));
  useBreakablePath(settings, path);
  settings.update({ listen: { host: '127.0.0.1', port: await freePort() } });
  await controller.start();
  const power = new EventEmitter();
  const triggers = new ReconnectTriggers({ power, interfaces: () => LOOPBACK, pollMs: 3_600_000, reconnect: (reason) => controller.reconnectAll(reason) });
  t.after(() => triggers.stop());
  const socket = await openEchoTunnel(t, controller, path);
  const connections = path.cutter.connections;
  // A sleeping laptop's connection: nothing is forwarded and nobody is told.
  path.cutter.cut('stall');
  power.emit('resume');
  const lines = () => log.lines().map((l) => l.text);
  await waitFor(
    'the resume',
    () => controller.connections()[0]?.resumes === 1,
    20_000,
    () => lines().join('\n'),
  );
  assert.ok(path.cutter.connections > connections, 'a new WebSocket');
  // It was the wake that broke the old WebSocket, not missed pings.
  assert.ok(
    lines().some((l) => /: connection lost \(the computer woke up\); resuming$/.test(l)),
    lines().join('\n'),
  );
  assert.ok(lines().includes('the computer woke up: resuming the open tunnel now'), lines().join('\n'));
  await echoes(socket, 'after the wake\n');
});
