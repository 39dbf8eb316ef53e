/**
 * The Electron main process: one instance, a tray icon, one window, the
 * tunnel. Everything with logic lives in the plain modules beside this file
 * (tested under Node); this file only connects them to Electron.
 *
 * Command line: `--hidden` starts in the tray without showing the window (the
 * login item passes it). The data folder is chosen by dataPaths.ts
 * (%APPDATA%\WSSH; beside the .exe for the portable build; WSSH_USER_DATA
 * overrides it), and WSSH_TEST_HOOKS=1 puts the tray and the controller on
 * `globalThis.wsshApp` for the Electron smoke test (test/electron/).
 */
import path from 'node:path';
import { app, clipboard, dialog, ipcMain, Notification, safeStorage, session } from 'electron';
import type { EventName, EventPayloads, Notice } from '../shared/ipc';
import { createAppApi, wireAppEvents } from './appApi';
import { resolveDataPaths } from './dataPaths';
import { isTrustedSender, registerIpcHandlers } from './ipcHandlers';
import { LogBook } from './logBook';
import { puttyProxySettings } from './puttyReg';
import { BackendOptions, SettingsBackend, openSettings } from './settingsStore';
import { createAppTray } from './tray';
import type { TrayAction } from './trayMenu';
import { TunnelController } from './tunnelController';
import { RENDERER_INDEX, createAppWindow } from './windows';

/** Must equal electron-builder's appId, or Windows drops the notifications. */
export const APP_USER_MODEL_ID = 'net.wssh.tray';
const ASSETS_DIR = path.join(__dirname, '..', '..', '..', 'assets');

// Before anything reads userData: the single-instance lock, Chromium's Local
// State (safeStorage's key), the settings. The portable build and an
// installed one each keep their own data, and are separate instances.
let dataPathsError: Error | undefined;
try {
  const dataPaths = resolveDataPaths({ platform: process.platform, env: process.env, appData: app.getPath('appData'), home: app.getPath('home') });
  app.setPath('userData', dataPaths.userData);
  app.setPath('crashDumps', path.join(dataPaths.userData, 'Crashpad'));
  app.setAppLogsPath(dataPaths.logs);
} catch (err) {
  dataPathsError = err as Error;
}

if (dataPathsError) {
  dialog.showErrorBox('WSSH could not start', dataPathsError.message);
  app.exit(1);
} else if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setAppUserModelId(APP_USER_MODEL_ID);
  app.whenReady().then(start, (err) => {
    dialog.showErrorBox('WSSH could not start', String(err?.stack ?? err));
    app.exit(1);
  });
}

async function start(): Promise<void> {
  // No permission (camera, notifications from the page, …) is ever granted to web content.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  const log = new LogBook();
  const { default: ElectronStore } = await import('electron-store');
  const { settings, notices } = await openSettings({
    dir: app.getPath('userData'),
    cipher: safeStorage,
    createBackend: (options: BackendOptions) => {
      const { configName, ...rest } = options;
      return new ElectronStore({ ...rest, name: configName } as never) as unknown as SettingsBackend;
    },
  });
  const controller = new TunnelController({
    resolveEndpoint: () => settings.activeEndpoint(),
    listenAddress: () => settings.view().listen,
    log: (level, text) => log.add(level, text),
    // The system's proxy settings, PAC included, as Chromium resolves them.
    resolveSystemProxy: (url) => session.defaultSession.resolveProxy(url),
  });

  const appWindow = createAppWindow(path.join(ASSETS_DIR, 'app.ico'));
  // The page subscribes before its load event; notices sent earlier would be lost.
  appWindow.window.webContents.once('did-finish-load', () => {
    for (const notice of notices) appWindow.window.webContents.send('notice', notice);
  });
  const api = createAppApi({
    settings,
    controller,
    log,
    clipboard,
    chooseSavePath: async (defaultName) => {
      const result = await dialog.showSaveDialog(appWindow.window, {
        title: 'Export PuTTY session',
        defaultPath: path.join(app.getPath('documents'), defaultName),
        filters: [{ name: 'Registry files', extensions: ['reg'] }],
      });
      return result.canceled ? undefined : result.filePath;
    },
    applyStartAtLogin: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled, args: ['--hidden'] }),
    testOptions: { resolveSystemProxy: (url) => session.defaultSession.resolveProxy(url) },
  });
  registerIpcHandlers(ipcMain, api, (event) => isTrustedSender(event, appWindow.window.webContents, RENDERER_INDEX));

  const notify = (notice: Notice) => {
    if (Notification.isSupported()) new Notification({ title: `WSSH: ${notice.title}`, body: notice.text }).show();
  };
  const send = <E extends EventName>(event: E, payload: EventPayloads[E]) => {
    if (!appWindow.window.isDestroyed()) appWindow.window.webContents.send(event, payload);
  };
  wireAppEvents({ settings, controller, log }, (event, payload) => {
    send(event, payload);
    if (event === 'notice') notify(payload as Notice);
  });

  const act = (action: TrayAction) => {
    switch (action.kind) {
      case 'toggle':
        void controller.toggle();
        return;
      case 'select-endpoint':
        settings.selectEndpoint(action.id);
        return;
      case 'edit-endpoints':
        appWindow.show('endpoints');
        return;
      case 'show-connections':
        appWindow.show('connections');
        return;
      case 'copy-putty-settings':
        clipboard.writeText(puttyProxySettings(controller.state().listen).text);
        return;
      case 'start-at-login':
        void api.updateSettings({ startAtLogin: action.enabled });
        return;
      case 'quit':
        app.quit();
        return;
    }
  };
  const tray = createAppTray(ASSETS_DIR, controller.state(), settings.view(), act);
  const refreshTray = () => tray.update(controller.state(), settings.view());
  controller.on('state', refreshTray);
  settings.on('changed', refreshTray);

  if (process.env.WSSH_TEST_HOOKS === '1') {
    (globalThis as Record<string, unknown>).wsshApp = { tray, controller, settings, window: appWindow.window };
  }

  app.on('second-instance', () => appWindow.show());
  app.on('window-all-closed', () => {
    // Lives in the tray: no window is not a reason to quit.
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    appWindow.allowClose();
    if (quitting) return;
    // Stop the proxy first so open tunnels can close cleanly, then quit for real.
    event.preventDefault();
    quitting = true;
    controller.stop().finally(() => {
      tray.destroy();
      app.quit();
    });
  });

  for (const notice of notices) {
    log.add(notice.level, `${notice.title}: ${notice.text}`);
    notify(notice);
  }
  const view = settings.view();
  if (app.getLoginItemSettings().openAtLogin !== view.startAtLogin) {
    app.setLoginItemSettings({ openAtLogin: view.startAtLogin, args: ['--hidden'] });
  }
  if (view.startTunnelAtLaunch) await controller.start();
  if (!process.argv.includes('--hidden')) appWindow.show('status');
}
