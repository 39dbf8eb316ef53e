/**
 * The tray icon: its image, tooltip and menu follow the tunnel state; a left
 * click starts or stops the tunnel.
 */
import { Menu, MenuItemConstructorOptions, Tray, nativeImage, nativeTheme } from 'electron';
import type { SettingsView, TunnelState } from '../../shared/ipc';
import type { TrafficSnapshot } from '../../shared/traffic';
import { trayIconPath } from './trayIcon';
import { TrayAction, TrayMenuItem, trayMenuModel, trayTooltip } from './trayMenu';

export interface AppTray {
  readonly tray: Tray;
  update(state: TunnelState, settings: SettingsView): void;
  /** The tooltip's rate, once a second while the proxy runs: the tooltip only, not the menu. */
  setTraffic(traffic: TrafficSnapshot): void;
  destroy(): void;
}

export function createAppTray(assetsDir: string, initial: TunnelState, settings: SettingsView, act: (action: TrayAction) => void): AppTray {
  const theme = () => (nativeTheme.shouldUseDarkColors ? 'dark' : 'light');
  const image = (state: TunnelState) => nativeImage.createFromPath(trayIconPath(assetsDir, state.status, theme()));
  const tray = new Tray(image(initial));
  let last = { state: initial, settings };
  let traffic: TrafficSnapshot | undefined;
  const update = (state: TunnelState, view: SettingsView) => {
    last = { state, settings: view };
    tray.setImage(image(state));
    tray.setToolTip(trayTooltip(state, traffic));
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuModel(state, view).map((item) => toTemplate(item, act))));
  };
  tray.on('click', () => act({ kind: 'toggle' }));
  nativeTheme.on('updated', () => update(last.state, last.settings));
  update(initial, settings);
  const setTraffic = (snapshot: TrafficSnapshot) => {
    traffic = snapshot;
    tray.setToolTip(trayTooltip(last.state, traffic));
  };
  return { tray, update, setTraffic, destroy: () => tray.destroy() };
}

function toTemplate(item: TrayMenuItem, act: (action: TrayAction) => void): MenuItemConstructorOptions {
  if (item.type === 'separator') return { type: 'separator' };
  const action = item.action;
  return {
    type: item.type,
    label: item.label,
    enabled: item.enabled,
    checked: item.checked,
    click: action ? () => act(action) : undefined,
  };
}
