/**
 * The Electron main process: binds Electron's objects to the startup
 * sequence (appStartup.ts), where everything with logic lives, tested under
 * Node. Nothing else belongs here.
 *
 * Command line: `--hidden` starts in the tray without showing the window (the
 * login item passes it). The data folder is chosen by dataPaths.ts
 * (%APPDATA%\WSSH; beside the .exe for the portable build; WSSH_USER_DATA
 * overrides it), and WSSH_TEST_HOOKS=1 puts the tray and the controller on
 * `globalThis.wsshApp` for the Electron smoke test (test/e2e/electron/).
 */
import path from 'node:path';
import { app, clipboard, dialog, ipcMain, net, Notification, powerMonitor, safeStorage, session, shell } from 'electron';
import { runApp } from './appStartup';
import { keepHeapHeadroom } from '../core/inbound/heapHeadroom';
import type { SettingsBackend } from './settings/settingsEditor';
import type { BackendOptions } from './settings/settingsFile';
import { createAppTray } from './tray/tray';
import { createAppWindow } from './window/windows';

// The local proxy relays every byte through this process's heap (heapHeadroom.ts).
keepHeapHeadroom();

void runApp({
  app,
  session,
  dialog,
  ipcMain,
  clipboard,
  cipher: safeStorage,
  notifications: { isSupported: () => Notification.isSupported(), show: (options) => new Notification(options).show() },
  createBackend: async (options: BackendOptions) => {
    // ESM-only, and it needs Electron's runtime: loaded here, not by the startup.
    // An optional dependency: typed here by what the app uses, so that the build
    // (of the CLI and the server too) does not need its types installed.
    const { default: ElectronStore } = (await import('electron-store' as string)) as { default: new (options: object) => SettingsBackend };
    const { configName, ...rest } = options;
    return new ElectronStore({ ...rest, name: configName });
  },
  createWindow: createAppWindow,
  createTray: createAppTray,
  assetsDir: path.join(__dirname, '..', '..', '..', 'assets'),
  argv: process.argv,
  programArgs: process.defaultApp ? 2 : 1,
  cwd: process.cwd(),
  // A development run (`electron .`) registers electron with the app's folder as its argument.
  registerProfileLinks: () =>
    process.defaultApp
      ? app.setAsDefaultProtocolClient('wssh', process.execPath, [path.resolve(process.argv[1] ?? '.')])
      : app.setAsDefaultProtocolClient('wssh'),
  env: process.env,
  platform: process.platform,
  // Both usable only once the app is ready: the startup reads them after that.
  get powerMonitor() {
    return powerMonitor;
  },
  isOnline: () => net.isOnline(),
  openPath: (folder) => shell.openPath(folder),
});
