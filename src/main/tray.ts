/**
 * The tray icon: its image, tooltip and menu follow the tunnel state; a left
 * click starts or stops the tunnel.
 */
import { Menu, MenuItemConstructorOptions, Tray, nativeImage, nativeTheme } from 'electron';
import type { SettingsView, TunnelState } from '../shared/ipc';
import { trayIconPath } from './trayIcon';
import { TrayAction, TrayMenuItem, trayMenuModel, trayTooltip } from './trayMenu';

export interface AppTray {
  readonly tray: Tray;
  update(state: TunnelState, settings: SettingsView): void;
  destroy(): void;
}

export function createAppTray(assetsDir: string, initial: TunnelState, settings: SettingsView, act: (action: TrayAction) => void): AppTray {
  const theme = () => (nativeTheme.shouldUseDarkColors ? 'dark' : 'light');
  const image = (state: TunnelState) => nativeImage.createFromPath(trayIconPath(assetsDir, state.status, theme()));
  const tray = new Tray(image(initial));
  let last = { state: initial, settings };
  const update = (state: TunnelState, view: SettingsView) => {
    last = { state, settings: view };
    tray.setImage(image(state));
    tray.setToolTip(trayTooltip(state));
    tray.setContextMenu(Menu.buildFromTemplate(trayMenuModel(state, view).map((item) => toTemplate(item, act))));
  };
  tray.on('click', () => act({ kind: 'toggle' }));
  nativeTheme.on('updated', () => update(last.state, last.settings));
  update(initial, settings);
  return { tray, update, destroy: () => tray.destroy() };
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
