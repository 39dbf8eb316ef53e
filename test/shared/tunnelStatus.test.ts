// The tunnel's state in words: each place's form (tray line and tooltip in
// test/main/trayMenu.test.ts, the window's pill and State field here).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelState } from '../../src/shared/ipc';
import { STATUS_LABEL, listenText, openTunnelsField, openTunnelsText, statusField, statusHeadline, statusTooltipHead } from '../../src/shared/tunnelStatus';

const state = (over: Partial<TunnelState>): TunnelState => ({
  status: 'stopped',
  running: false,
  listen: { host: '127.0.0.1', port: 3122 },
  endpointName: null,
  endpointDisplay: null,
  openTunnels: 0,
  reconnecting: 0,
  ...over,
});

test('the header pill, the State field and the tooltip head', () => {
  assert.equal(statusHeadline(state({})), 'Stopped');
  assert.equal(statusHeadline(state({ status: 'listening', running: true })), 'Listening on 127.0.0.1:3122');
  assert.equal(statusHeadline(state({ status: 'active', running: true, openTunnels: 2 })), 'Active on 127.0.0.1:3122');
  assert.equal(statusHeadline(state({ status: 'error', reason: 'port in use' })), 'Error');
  assert.deepEqual(STATUS_LABEL, { stopped: 'Stopped', listening: 'Listening', active: 'Carrying traffic', reconnecting: 'Reconnecting…', error: 'Error' });
  assert.equal(statusTooltipHead(state({ status: 'listening', running: true })), 'WSSH: listening on 127.0.0.1:3122');
  assert.equal(statusTooltipHead(state({ status: 'error' })), 'WSSH: error: ');
  assert.equal(listenText({ host: 'localhost', port: 1 }), 'localhost:1');
  assert.deepEqual([openTunnelsText(0), openTunnelsText(1), openTunnelsText(2)], ['0 open tunnels', '1 open tunnel', '2 open tunnels']);
});

test('reconnecting (issue #20): the pill, the State and Open tunnels fields and the tooltip say how many tunnels wait', () => {
  const one = state({ status: 'reconnecting', running: true, openTunnels: 3, reconnecting: 1 });
  const two = state({ status: 'reconnecting', running: true, openTunnels: 3, reconnecting: 2 });
  assert.equal(statusHeadline(one), 'Reconnecting… (1 tunnel)');
  assert.equal(statusHeadline(two), 'Reconnecting… (2 tunnels)');
  assert.equal(statusField(two), 'Reconnecting… (2 tunnels)');
  assert.equal(statusField(state({ status: 'active', running: true, openTunnels: 3 })), 'Carrying traffic');
  assert.equal(openTunnelsField(two), '3 (2 reconnecting)');
  assert.equal(openTunnelsField(state({ status: 'active', running: true, openTunnels: 3 })), '3');
  assert.equal(statusTooltipHead(two), 'WSSH: reconnecting… (2 tunnels)');
});
