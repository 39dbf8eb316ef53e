/**
 * The tray app's startup, in order: the data folder, the single-instance
 * lock, then (once Electron is ready) the settings, the tunnel controller,
 * the window, the API and its IPC handlers, the tray, the notices, the login
 * item, the tunnel at launch and the window. main.ts hands in the Electron
 * objects; everything here sees them through the narrow interfaces below, so
 * test/main/appStartup.test.ts runs the same sequence under Node with small
 * stand-ins.
 *
 * A step that fails shows one error box and exits with code 1, whatever has
 * been made by then (settings that cannot be opened, a tray that cannot be
 * created): never a process left running without a window or a tray.
 */
import path from 'node:path';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import type { InvokeApi, Notice, PickFileRequest, SettingsPatch, SettingsView, TunnelState, ViewName } from '../shared/ipc';
import { RegRunner, windowsRegRunner } from '../core/windowsRegistry';
import { SavedSessions } from './savedSessions/savedSessions';
import { SESSION_BACKUPS_FILE, SessionBackups } from './savedSessions/sessionBackups';
import { createAppApi, wireAppEvents } from './window/appApi';
import { resolveDataPaths } from './settings/dataPaths';
import { registerIpcHandlers } from './window/ipcHandlers';
import { APP_LOG_FILE, DEFAULT_LOG_LIMIT, LogBook } from './window/logBook';
import { LogFile } from '../core/logFile';
import { offersFromArgv, profileCaDir } from './settings/profileImport';
import type { SecretCipher } from './settings/secrets';
import type { Settings } from './settings/settingsEditor';
import { BackendFactory, openSettings } from './settings/settingsFile';
import { trayActionHandler } from './tray/trayActions';
import type { TrayAction } from './tray/trayMenu';
import { TunnelController, TunnelControllerOptions } from './tunnel/tunnelController';
import { EndpointDiagnoses } from './tunnel/endpointDiagnosis';
import { type PowerEvents, ReconnectTriggers } from './tunnel/reconnectTriggers';
import { type LocalProxyAuth, localProxyAuth, sharedMachineReason } from './settings/localProxySignIn';
import type { AppTray } from './tray/tray';
import type { AppWindow } from './window/windows';
import { logLineText } from '../core/tunnel/peerText';

/** Must equal electron-builder's appId, or Windows drops the notifications. */
export const APP_USER_MODEL_ID = 'net.wssh.tray';
export const STARTUP_FAILED_TITLE = 'WSSH could not start';

/** The part of Electron's `app` the startup uses. */
export interface StartupApp {
  getPath(name: 'appData' | 'home' | 'userData' | 'documents'): string;
  setPath(name: 'userData' | 'crashDumps', path: string): void;
  setAppLogsPath(path: string): void;
  requestSingleInstanceLock(): boolean;
  setAppUserModelId(id: string): void;
  whenReady(): Promise<void>;
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsEvents) => void): unknown;
  /** A second start of the app: its arguments (a .wssh file, a wssh:// link) and its working folder. */
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  getLoginItemSettings(): { openAtLogin: boolean };
  setLoginItemSettings(settings: { openAtLogin: boolean; args: string[] }): void;
  quit(): void;
  exit(code: number): void;
  /** The app's version (package.json's), for the diagnostics file. */
  getVersion?(): string;
}

/** What the startup does with each WebContents Electron creates. */
export interface WebContentsEvents {
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
}

/** Electron's default session: permissions and the system proxy (PAC included). */
export interface StartupSession {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  resolveProxy(url: string): Promise<string>;
}

/** The file picker's filters per kind of file the endpoint editor asks for. */
const FILE_FILTERS: Record<PickFileRequest['kind'], Array<{ name: string; extensions: string[] }>> = {
  certificate: [{ name: 'PEM certificates', extensions: ['pem', 'crt', 'cer'] }],
  key: [{ name: 'PEM keys', extensions: ['pem', 'key'] }],
  pfx: [{ name: 'PKCS#12 files', extensions: ['pfx', 'p12'] }],
  ca: [{ name: 'PEM certificates', extensions: ['pem', 'crt', 'cer'] }],
};

export type StartupWindow = Pick<AppWindow, 'show' | 'allowClose' | 'send' | 'onceLoaded' | 'trusts' | 'askSavePath'> & Partial<Pick<AppWindow, 'askOpenPath'>>;
export type StartupTray = Pick<AppTray, 'update' | 'destroy'> & Partial<Pick<AppTray, 'setTraffic'>>;

export interface StartupDeps {
  app: StartupApp;
  /** Read only after ready: Electron has no default session before. */
  session: { readonly defaultSession: StartupSession };
  dialog: { showErrorBox(title: string, content: string): void };
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  clipboard: { writeText(text: string): void };
  /** Electron's safeStorage. */
  cipher: SecretCipher;
  notifications: { isSupported(): boolean; show(options: { title: string; body: string }): void };
  /** electron-store in the app, conf in tests. */
  createBackend: BackendFactory;
  createWindow(iconPath: string): StartupWindow;
  createTray(assetsDir: string, initial: TunnelState, settings: SettingsView, act: (action: TrayAction) => void): StartupTray;
  /** A TunnelController unless a test gives another. */
  createController?(options: TunnelControllerOptions): TunnelController;
  /** reg.exe for the saved PuTTY/KiTTY/WinSCP sessions: Windows' own on win32 unless given, none elsewhere. */
  reg?: RegRunner;
  /** The folder of the tray and app icons. */
  assetsDir: string;
  argv: readonly string[];
  /** How many leading `argv` entries are the program's: 1, or 2 in a development run (`electron .`). @default 1 */
  programArgs?: number;
  /** The folder a relative profile path in `argv` is relative to. @default process.cwd() */
  cwd?: string;
  /** Registers the app for wssh:// links (app.setAsDefaultProtocolClient); absent in tests. */
  registerProfileLinks?(): void;
  /** Electron's powerMonitor (read after ready): a wake from sleep resumes the tunnels at once. */
  powerMonitor?: PowerEvents;
  /** Electron's `net.isOnline()`: the network coming back resumes the tunnels at once. */
  isOnline?(): boolean;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** Opens a folder in the file manager (Electron's shell.openPath): '' when it did, else why not. */
  openPath?(path: string): Promise<string>;
}

/** What runs once the app has started: for the test hooks and the tests. */
export interface RunningApp {
  settings: Settings;
  controller: TunnelController;
  window: StartupWindow;
  tray: StartupTray;
  api: InvokeApi;
  log: LogBook;
}

/** What the startup has made so far, for the failure path to take down. */
interface MadeSoFar {
  window?: StartupWindow;
  tray?: StartupTray;
}

/** An expected failure, whose message is the whole story (no stack in the error box). */
class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Runs the startup; resolves with the running app, or undefined when this
 * process is not the one to run it (another instance, or a failure already
 * reported and the app exiting).
 */
export async function runApp(deps: StartupDeps): Promise<RunningApp | undefined> {
  const { app } = deps;
  // Before anything reads userData: the single-instance lock, Chromium's Local
  // State (safeStorage's key), the settings. The portable build and an
  // installed one each keep their own data, and are separate instances.
  let logs: string;
  try {
    const dataPaths = resolveDataPaths({ platform: deps.platform, env: deps.env, appData: app.getPath('appData'), home: app.getPath('home') });
    app.setPath('userData', dataPaths.userData);
    app.setPath('crashDumps', path.join(dataPaths.userData, 'Crashpad'));
    app.setAppLogsPath(dataPaths.logs);
    logs = dataPaths.logs;
  } catch (err) {
    return fail(deps, new StartupError((err as Error).message));
  }
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  app.setAppUserModelId(APP_USER_MODEL_ID);
  const made: MadeSoFar = {};
  try {
    await app.whenReady();
    return await start(deps, made, logs);
  } catch (err) {
    return fail(deps, err, made);
  }
}

async function start(deps: StartupDeps, made: MadeSoFar, logs: string): Promise<RunningApp> {
  const { app } = deps;
  const session = deps.session.defaultSession;
  denyWebContentPowers(deps);

  const log = openAppLog(logs);
  const dir = app.getPath('userData');
  const { settings, notices } = await openAppSettings(deps, dir);
  const proxyAuth = localProxyAuth(settings, sharedMachineReason(deps.env, deps.platform));
  const controllerOptions: TunnelControllerOptions = {
    ...settingsControllerOptions(settings, log),
    proxyCredential: () => proxyAuth.credential(),
    // The system's proxy settings, PAC included, as Chromium resolves them.
    resolveSystemProxy: (url) => session.resolveProxy(url),
  };
  const controller = deps.createController ? deps.createController(controllerOptions) : new TunnelController(controllerOptions);
  const savedSessions = createSavedSessions(deps, dir, { controller, proxyAuth, log });
  const diagnoses = new EndpointDiagnoses({ resolveSystemProxy: (url) => session.resolveProxy(url) });

  const window = (made.window = deps.createWindow(path.join(deps.assetsDir, 'app.ico')));
  // A profile the app was started with (a .wssh file opened, a wssh:// link):
  // offered to the window, which asks before anything is saved.
  const profiles = { settings, caDir: profileCaDir(settings.path) };
  const launchOffers = offersFromArgv(profiles, deps.argv, deps.cwd ?? process.cwd(), deps.programArgs);
  // The page subscribes before its load event; notices sent earlier would be lost.
  window.onceLoaded(() => {
    for (const notice of notices) window.send('notice', notice);
    for (const offer of launchOffers) window.send('profile:offered', offer);
  });
  // Windows opens .wssh files with the app through the installer's file
  // association; wssh:// links through this registration (per user, so the
  // portable build has it too).
  deps.registerProfileLinks?.();
  const api = createWindowApi(deps, window, { settings, controller, log, savedSessions, proxyAuth, logs, diagnoses });
  registerIpcHandlers(deps.ipcMain, api, (event: IpcMainInvokeEvent) => window.trusts(event));

  const notify = (notice: Notice) => {
    // Escaped as a log line: a notice may carry a server's or a proxy's text.
    if (deps.notifications.isSupported()) deps.notifications.show({ title: `WSSH: ${logLineText(notice.title)}`, body: logLineText(notice.text) });
  };
  wireAppEvents({ settings, controller, log, diagnoses }, (event, payload) => {
    window.send(event, payload);
    if (event === 'notice') notify(payload as Notice);
  });

  const tray = (made.tray = createAppTray(deps, { settings, controller, window, api }));
  if (deps.env.WSSH_TEST_HOOKS === '1') {
    // For the Electron smoke test (test/e2e/electron/): the tray is main.ts's AppTray.
    (globalThis as Record<string, unknown>).wsshApp = { tray, controller, settings, window: (window as Partial<AppWindow>).window };
  }
  // A wake from sleep or a changed network: resume the tunnels now rather than when their pings fail.
  const triggers =
    deps.powerMonitor && new ReconnectTriggers({ power: deps.powerMonitor, isOnline: deps.isOnline, reconnect: (reason) => controller.reconnectAll(reason) });
  handleAppLifecycle(app, { settings, controller, window, tray, stopWatching: () => triggers?.stop(), programArgs: deps.programArgs });

  for (const notice of notices) {
    log.add(notice.level, `${notice.title}: ${notice.text}`);
    notify(notice);
  }
  const view = settings.view();
  if (app.getLoginItemSettings().openAtLogin !== view.startAtLogin) {
    app.setLoginItemSettings({ openAtLogin: view.startAtLogin, args: ['--hidden'] });
  }
  if (view.startTunnelAtLaunch) await controller.start();
  if (!deps.argv.includes('--hidden') || launchOffers.length > 0) window.show('status');
  return { settings, controller, window, tray, api, log };
}

/** No permission (camera, notifications from the page, …) is ever granted to web content, nor a webview attached. */
function denyWebContentPowers(deps: StartupDeps): void {
  deps.session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  deps.app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

async function openAppSettings(deps: StartupDeps, dir: string): Promise<Awaited<ReturnType<typeof openSettings>>> {
  try {
    return await openSettings({ dir, cipher: deps.cipher, createBackend: deps.createBackend });
  } catch (err) {
    throw new StartupError(`The settings in ${dir} cannot be opened: ${(err as Error).message}`);
  }
}

/** The saved PuTTY/KiTTY/WinSCP sessions, through reg.exe on Windows, with their backups in the data folder. */
function createSavedSessions(
  deps: StartupDeps,
  dir: string,
  { controller, proxyAuth, log }: { controller: TunnelController; proxyAuth: LocalProxyAuth; log: LogBook },
): SavedSessions {
  const sessionBackups = new SessionBackups(path.join(dir, SESSION_BACKUPS_FILE), deps.cipher);
  if (sessionBackups.problem) log.add('warn', sessionBackups.problem);
  return new SavedSessions({
    reg: deps.reg ?? (deps.platform === 'win32' ? windowsRegRunner({ systemRoot: deps.env.SystemRoot }) : undefined),
    backups: sessionBackups,
    listen: () => controller.state().listen,
    credential: () => proxyAuth.credential(),
    log: (level, text) => log.add(level, text),
  });
}

/** The API the window calls: the app's, with the file dialogs, the login item and Chromium's proxy resolution. */
function createWindowApi(
  deps: StartupDeps,
  window: StartupWindow,
  parts: {
    settings: Settings;
    controller: TunnelController;
    log: LogBook;
    savedSessions: SavedSessions;
    proxyAuth: LocalProxyAuth;
    logs: string;
    diagnoses: EndpointDiagnoses;
  },
): InvokeApi {
  const { app } = deps;
  const session = deps.session.defaultSession;
  return createAppApi({
    settings: parts.settings,
    controller: parts.controller,
    log: parts.log,
    clipboard: deps.clipboard,
    chooseSavePath: (defaultName) =>
      window.askSavePath({
        title: 'Export PuTTY session',
        defaultPath: path.join(app.getPath('documents'), defaultName),
        filters: [{ name: 'Registry files', extensions: ['reg'] }],
      }),
    chooseOpenPath: async (request) =>
      window.askOpenPath?.({
        title: request.title.slice(0, 200),
        filters: [...FILE_FILTERS[request.kind], { name: 'All files', extensions: ['*'] }],
      }),
    savedSessions: parts.savedSessions,
    applyStartAtLogin: (enabled) => app.setLoginItemSettings({ openAtLogin: enabled, args: ['--hidden'] }),
    testOptions: { resolveSystemProxy: (url) => session.resolveProxy(url) },
    localProxyAuth: parts.proxyAuth,
    chooseDiagnosticsPath: (defaultName) =>
      window.askSavePath({
        title: 'Save diagnostics',
        defaultPath: path.join(app.getPath('documents'), defaultName),
        filters: [{ name: 'Text files', extensions: ['txt'] }],
      }),
    versions: [
      ['WSSH', app.getVersion?.() ?? 'unknown'],
      ['Electron', process.versions.electron ?? 'none'],
      ['Chromium', process.versions.chrome ?? 'none'],
    ],
    logFolder: parts.logs,
    diagnoses: parts.diagnoses,
    openFolder: deps.openPath,
  });
}

/**
 * The log: the window's ring and the file in the logs folder. A file that
 * cannot be opened (a read-only profile) leaves the ring, and says so there.
 */
function openAppLog(folder: string): LogBook {
  const file = path.join(folder, APP_LOG_FILE);
  // The book hears its own file's failure: made after the file, told through this.
  const told: { log?: LogBook } = {};
  let sink: LogFile | undefined;
  let problem: string | undefined;
  try {
    sink = new LogFile(file, {
      onError: (err) => told.log?.add('warn', `the log file ${file} cannot be written (${err.message}): lines are kept in memory only`),
    });
  } catch (err) {
    problem = (err as Error).message;
  }
  const log = (told.log = new LogBook(DEFAULT_LOG_LIMIT, Date.now, sink));
  if (problem) log.add('warn', `no log file in ${folder}: ${problem}; lines are kept in memory only`);
  return log;
}

/** The tray, its menu's actions, and kept up to date with the tunnel's state, its traffic and the settings. */
function createAppTray(
  deps: StartupDeps,
  { settings, controller, window, api }: { settings: Settings; controller: TunnelController; window: StartupWindow; api: InvokeApi },
): StartupTray {
  const act = trayActionHandler({
    controller,
    settings,
    show: (view: ViewName) => window.show(view),
    clipboard: deps.clipboard,
    updateSettings: (patch: SettingsPatch) => api.updateSettings(patch),
    quit: () => deps.app.quit(),
  });
  const tray = deps.createTray(deps.assetsDir, controller.state(), settings.view(), act);
  const refreshTray = () => tray.update(controller.state(), settings.view());
  controller.on('state', refreshTray);
  controller.on('traffic', (traffic) => tray.setTraffic?.(traffic));
  settings.on('changed', refreshTray);
  return tray;
}

/** A second start, the last window closed, a quit: what the app does at each. */
function handleAppLifecycle(
  app: StartupApp,
  {
    settings,
    controller,
    window,
    tray,
    stopWatching,
    programArgs,
  }: { settings: Settings; controller: TunnelController; window: StartupWindow; tray: StartupTray; stopWatching(): void; programArgs?: number },
): void {
  // A second start (a double-clicked .wssh file, a clicked link) hands its arguments here.
  app.on('second-instance', (_event, argv, workingDirectory) => {
    window.show();
    const profiles = { settings, caDir: profileCaDir(settings.path) };
    for (const offer of offersFromArgv(profiles, argv ?? [], workingDirectory ?? process.cwd(), programArgs)) window.send('profile:offered', offer);
  });
  app.on('window-all-closed', () => {
    // Lives in the tray: no window is not a reason to quit.
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    window.allowClose();
    if (quitting) return;
    // Stop the proxy first so open tunnels can close cleanly, then quit for real.
    event.preventDefault();
    quitting = true;
    stopWatching();
    controller.stop().finally(() => {
      tray.destroy();
      app.quit();
    });
  });
}

/** One error box, then exit: the tray and the window go with the process. */
function fail(deps: StartupDeps, err: unknown, made: MadeSoFar = {}): undefined {
  const text = err instanceof StartupError ? err.message : String((err as Error)?.stack ?? err);
  deps.dialog.showErrorBox(STARTUP_FAILED_TITLE, text);
  try {
    made.tray?.destroy();
  } catch {
    // The tray may be what failed; the process exits either way.
  }
  made.window?.allowClose();
  // app.exit skips before-quit: nothing else runs, the window and the tray go with the process.
  deps.app.exit(1);
  return undefined;
}

/**
 * What the tunnel controller reads from the settings (the endpoint and the
 * listen address, at each start) and where it logs: the app's wiring, and the
 * tests' that build a controller of their own.
 */
export function settingsControllerOptions(
  settings: Pick<Settings, 'activeEndpoint' | 'view'>,
  log: LogBook,
): Pick<TunnelControllerOptions, 'resolveEndpoint' | 'listenAddress' | 'log'> {
  return {
    resolveEndpoint: () => settings.activeEndpoint(),
    listenAddress: () => settings.view().listen,
    log: (level, text) => log.add(level, text),
  };
}
