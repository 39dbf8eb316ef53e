/**
 * What each tray menu item (and the left click) does. The switch covers the
 * whole TrayAction union (src/main/tray/trayMenu.ts) and ends in a `never` check:
 * a new menu item whose action is not handled here does not compile.
 */
import type { SettingsPatch, ViewName } from '../../shared/ipc';
import { puttyProxySettings } from '../savedSessions/puttyReg';
import type { Settings } from '../settings/settingsEditor';
import type { TrayAction } from './trayMenu';
import type { TunnelController } from '../tunnel/tunnelController';

export interface TrayActionDeps {
  controller: Pick<TunnelController, 'toggle' | 'state'> & Partial<Pick<TunnelController, 'proxyCredential'>>;
  settings: Pick<Settings, 'selectEndpoint'>;
  /** Shows the window on one of its views. */
  show(view: ViewName): void;
  clipboard: { writeText(text: string): void };
  /** The API's settings update, so "Start at login" reaches the OS as from the window. */
  updateSettings(patch: SettingsPatch): Promise<unknown>;
  /** Quits the app (its before-quit handler stops the tunnel first). */
  quit(): void;
}

export function trayActionHandler(deps: TrayActionDeps): (action: TrayAction) => void {
  return (action) => {
    switch (action.kind) {
      case 'toggle':
        void deps.controller.toggle();
        return;
      case 'select-endpoint':
        deps.settings.selectEndpoint(action.id);
        return;
      case 'edit-endpoints':
        deps.show('endpoints');
        return;
      case 'show-connections':
        deps.show('connections');
        return;
      case 'copy-putty-settings':
        deps.clipboard.writeText(puttyProxySettings(deps.controller.state().listen, deps.controller.proxyCredential?.()).text);
        return;
      case 'start-at-login':
        void deps.updateSettings({ startAtLogin: action.enabled });
        return;
      case 'quit':
        deps.quit();
        return;
      default:
        return unhandled(action);
    }
  };
}

/** Compiles only when every kind of action has its case above. */
function unhandled(action: never): never {
  throw new Error(`unhandled tray action ${JSON.stringify(action)}`);
}
