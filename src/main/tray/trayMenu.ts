/**
 * The tray's right-click menu and tooltip, computed from the tunnel state and
 * the settings. Pure: main.ts turns the model into Electron's
 * Menu.buildFromTemplate() and maps each action to what it does.
 */
import type { SettingsView, TunnelState } from '../../shared/ipc';
import { openTunnelsText, statusLine, statusTooltipHead } from '../../shared/tunnelStatus';
import { formatRate, type TrafficSnapshot } from '../../shared/traffic';

export type TrayAction =
  | { kind: 'toggle' }
  | { kind: 'select-endpoint'; id: string }
  | { kind: 'edit-endpoints' }
  | { kind: 'show-connections' }
  | { kind: 'copy-putty-settings' }
  | { kind: 'start-at-login'; enabled: boolean }
  | { kind: 'quit' };

export type TrayMenuItem =
  { type: 'separator' } | { type: 'normal' | 'radio' | 'checkbox'; label: string; enabled: boolean; checked?: boolean; action?: TrayAction };

/** Windows' tooltip limit for a notification-area icon (NOTIFYICONDATA.szTip), less the terminator. */
export const TOOLTIP_MAX = 127;

export function trayMenuModel(state: TunnelState, settings: SettingsView): TrayMenuItem[] {
  const endpoints: TrayMenuItem[] =
    settings.endpoints.length === 0
      ? [{ type: 'normal', label: 'No endpoints saved', enabled: false }]
      : settings.endpoints.map((e) => ({
          type: 'radio',
          label: menuText(e.name || e.uri),
          enabled: true,
          checked: e.id === settings.activeEndpointId,
          action: { kind: 'select-endpoint', id: e.id },
        }));
  return [
    { type: 'normal', label: menuText(truncate(statusLine(state), 80)), enabled: false },
    { type: 'separator' },
    {
      type: 'normal',
      label: state.running ? 'Stop tunnel' : 'Start tunnel',
      enabled: state.running || settings.activeEndpointId !== null,
      action: { kind: 'toggle' },
    },
    { type: 'separator' },
    ...endpoints,
    { type: 'separator' },
    { type: 'normal', label: 'Edit endpoints…', enabled: true, action: { kind: 'edit-endpoints' } },
    { type: 'normal', label: 'Connections and log…', enabled: true, action: { kind: 'show-connections' } },
    { type: 'normal', label: 'Copy PuTTY proxy settings', enabled: true, action: { kind: 'copy-putty-settings' } },
    { type: 'separator' },
    {
      type: 'checkbox',
      label: 'Start at login',
      enabled: true,
      checked: settings.startAtLogin,
      action: { kind: 'start-at-login', enabled: !settings.startAtLogin },
    },
    { type: 'normal', label: 'Quit', enabled: true, action: { kind: 'quit' } },
  ];
}

/**
 * Tooltip: state, listen address, active endpoint, open tunnels and, given
 * the last traffic sample, their total rate; within Windows' limit.
 */
export function trayTooltip(state: TunnelState, traffic?: TrafficSnapshot): string {
  const lines = [truncate(statusTooltipHead(state), 70)];
  if (state.endpointName) lines.push(truncate(`via ${state.endpointName}`, 40));
  if (state.running) {
    const rate = traffic && traffic.at > 0 ? `, ↑ ${formatRate(traffic.up)} ↓ ${formatRate(traffic.down)}` : '';
    lines.push(`${openTunnelsText(state.openTunnels)}${rate}`);
  }
  return truncate(lines.join('\n'), TOOLTIP_MAX);
}

/** On Windows a single `&` in a menu label marks a mnemonic: `&&` shows one. */
function menuText(text: string): string {
  return text.replace(/&/g, '&&');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
