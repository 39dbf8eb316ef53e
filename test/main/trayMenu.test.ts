// The tray menu model, tooltip and icon choice, from the tunnel state and the settings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SettingsView, TunnelState } from '../../src/shared/ipc';
import { TOOLTIP_MAX, trayMenuModel, trayTooltip, TrayMenuItem } from '../../src/main/tray/trayMenu';
import { statusLine } from '../../src/shared/tunnelStatus';
import { trayIconFileName } from '../../src/main/tray/trayIcon';

const settings: SettingsView = {
  endpoints: [
    {
      id: 'a',
      name: 'Office',
      uri: 'wss://gw/ssh',
      user: '',
      hasSecret: false,
      keepaliveSec: 30,
      proxy: 'system',
      proxyAuth: { mode: 'windows' },
      hasProxySecret: false,
      proxyWindowsSignIn: false,
      trust: {},
      hasClientPassphrase: false,
      resume: true,
    },
    {
      id: 'b',
      name: 'R&D lab',
      uri: 'ws://lab/ssh',
      user: 'u',
      hasSecret: true,
      keepaliveSec: 30,
      proxy: 'system',
      proxyAuth: { mode: 'windows' },
      hasProxySecret: false,
      proxyWindowsSignIn: false,
      trust: {},
      hasClientPassphrase: false,
      resume: true,
    },
  ],
  activeEndpointId: 'b',
  listen: { host: '127.0.0.1', port: 3122 },
  startTunnelAtLaunch: false,
  startAtLogin: true,
  localProxyAuth: 'auto',
};

function state(patch: Partial<TunnelState>): TunnelState {
  return {
    status: 'stopped',
    running: false,
    listen: { host: '127.0.0.1', port: 3122 },
    endpointName: 'R&D lab',
    endpointDisplay: 'ws://u:***@lab/ssh',
    openTunnels: 0,
    reconnecting: 0,
    ...patch,
  };
}

const labels = (items: TrayMenuItem[]) => items.map((i) => (i.type === 'separator' ? '---' : i.label));

test('the menu has the status, Start/Stop, the endpoints as radios, and the commands', () => {
  const menu = trayMenuModel(state({}), settings);
  assert.deepEqual(labels(menu), [
    'Tunnel stopped',
    '---',
    'Start tunnel',
    '---',
    'Office',
    'R&&D lab',
    '---',
    'Edit endpoints…',
    'Connections and log…',
    'Copy PuTTY proxy settings',
    '---',
    'Start at login',
    'Quit',
  ]);
  const radios = menu.filter((i) => i.type === 'radio');
  assert.deepEqual(
    radios.map((i) => i.type !== 'separator' && [i.checked, i.action]),
    [
      [false, { kind: 'select-endpoint', id: 'a' }],
      [true, { kind: 'select-endpoint', id: 'b' }],
    ],
  );
  const status = menu[0];
  assert.equal(status.type !== 'separator' && status.enabled, false, 'the status line is not clickable');
  const login = menu.find((i) => i.type === 'checkbox');
  assert.deepEqual(login, { type: 'checkbox', label: 'Start at login', enabled: true, checked: true, action: { kind: 'start-at-login', enabled: false } });
});

test('Stop when running; the status line per state', () => {
  assert.equal(labels(trayMenuModel(state({ status: 'listening', running: true }), settings))[2], 'Stop tunnel');
  assert.equal(statusLine(state({ status: 'listening', running: true })), 'Listening on 127.0.0.1:3122');
  assert.equal(statusLine(state({ status: 'active', running: true, openTunnels: 1 })), '1 open tunnel on 127.0.0.1:3122');
  assert.equal(statusLine(state({ status: 'active', running: true, openTunnels: 3 })), '3 open tunnels on 127.0.0.1:3122');
  assert.equal(statusLine(state({ status: 'error', reason: 'port 3122 on 127.0.0.1 is already in use' })), 'Error: port 3122 on 127.0.0.1 is already in use');
  // Issue #20: while any tunnel's WebSocket is being resumed.
  assert.equal(statusLine(state({ status: 'reconnecting', running: true, openTunnels: 3, reconnecting: 2 })), 'Reconnecting… (2 tunnels)');
  assert.equal(
    labels(trayMenuModel(state({ status: 'reconnecting', running: true, openTunnels: 1, reconnecting: 1 }), settings))[0],
    'Reconnecting… (1 tunnel)',
  );
  // An error while the proxy runs still offers Stop.
  assert.equal(labels(trayMenuModel(state({ status: 'error', running: true, reason: 'x' }), settings))[2], 'Stop tunnel');
});

test('without endpoints, Start is disabled and the list says so', () => {
  const menu = trayMenuModel(state({}), { ...settings, endpoints: [], activeEndpointId: null });
  assert.deepEqual(menu[2], { type: 'normal', label: 'Start tunnel', enabled: false, action: { kind: 'toggle' } });
  assert.deepEqual(menu[4], { type: 'normal', label: 'No endpoints saved', enabled: false });
});

test('the tooltip: state, listen address, endpoint, open tunnels, within Windows’ 127 characters', () => {
  assert.equal(trayTooltip(state({ status: 'active', running: true, openTunnels: 2 })), 'WSSH: active on 127.0.0.1:3122\nvia R&D lab\n2 open tunnels');
  const traffic = { at: 1, tunnels: 2, up: 1536, down: 3 * 1024 * 1024, perTunnel: [], history: [] };
  assert.equal(
    trayTooltip(state({ status: 'active', running: true, openTunnels: 2 }), traffic),
    'WSSH: active on 127.0.0.1:3122\nvia R&D lab\n2 open tunnels, ↑ 1.5 KiB/s ↓ 3.0 MiB/s',
  );
  assert.equal(trayTooltip(state({}), traffic), 'WSSH: stopped\nvia R&D lab', 'no rate while stopped');
  assert.equal(trayTooltip(state({})), 'WSSH: stopped\nvia R&D lab');
  const long = trayTooltip(state({ status: 'error', running: true, reason: 'x'.repeat(300), endpointName: 'y'.repeat(300) }));
  assert.ok(long.length <= TOOLTIP_MAX, `${long.length}`);
  assert.match(long, /^WSSH: error: x+…\nvia y+…\n0 open tunnels$/);
  assert.equal(
    trayTooltip(state({ status: 'reconnecting', running: true, openTunnels: 2, reconnecting: 2 })),
    'WSSH: reconnecting… (2 tunnels)\nvia R&D lab\n2 open tunnels',
  );
});

test('the icon file per state and taskbar theme', () => {
  assert.equal(trayIconFileName('active', 'dark', 'win32'), 'tray-active-dark.ico');
  assert.equal(trayIconFileName('error', 'light', 'linux'), 'tray-error-light.png');
  assert.equal(trayIconFileName('reconnecting', 'light', 'win32'), 'tray-reconnecting-light.ico');
});
