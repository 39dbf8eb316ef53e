// The app's startup sequence under Node, with small stand-ins for Electron's
// objects (never electron itself): settings on conf in a temp dir, the real
// tunnel controller and a real WSSH server. The normal path (window, tray,
// IPC, notices, login item, tunnel at launch, quit), a profile on the command
// line (at launch and from a second start), and every failure: data
// folder, settings that cannot be opened, controller, tray; each shows one
// error box and exits, never leaving a process without a window or a tray.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Invoke, type EventName, type Notice, type SettingsView, type TunnelState, type ViewName } from '../../src/shared/ipc';
import { RunningApp, STARTUP_FAILED_TITLE, StartupDeps, StartupTray, StartupWindow, runApp } from '../../src/main/appStartup';
import type { TrayAction } from '../../src/main/tray/trayMenu';
import { TunnelController } from '../../src/main/tunnel/tunnelController';
import { freePort } from '../../scripts/harness/ports';
import { makeTempDir, removeTempDir, tempDir } from '../fixtures/tmp';
import { confBackend, startBannerServer, startInProcessServer, testCipher } from '../fixtures/appHarness';
import { connectThroughProxy, waitFor } from '../fixtures/tunnel';

/** Everything the stand-ins saw, in order where order matters. */
interface Seen {
  calls: string[];
  errorBoxes: Array<{ title: string; content: string }>;
  exitCodes: number[];
  quits: number;
  listeners: Map<string, Array<(...args: never[]) => void>>;
  handlers: Map<string, unknown>;
  permissionHandler?: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void;
  loginItem: { openAtLogin: boolean; args?: string[] };
  notifications: Array<{ title: string; body: string }>;
  clipboard: string[];
  opened: string[];
  window?: WindowStandIn;
  tray?: TrayStandIn;
  act?: (action: TrayAction) => void;
}

interface WindowStandIn extends StartupWindow {
  shown: Array<ViewName | undefined>;
  sent: Array<[EventName, unknown]>;
  closable: boolean;
  load(): void;
}

interface TrayStandIn extends StartupTray {
  states: TunnelState[];
  views: SettingsView[];
  destroyed: boolean;
}

function standIns(userData: string, over: Partial<StartupDeps> & { env?: Record<string, string> } = {}): { deps: StartupDeps; seen: Seen } {
  const seen: Seen = {
    calls: [],
    errorBoxes: [],
    exitCodes: [],
    quits: 0,
    listeners: new Map(),
    handlers: new Map(),
    loginItem: { openAtLogin: true },
    notifications: [],
    clipboard: [],
    opened: [],
  };
  const paths = new Map<string, string>([
    ['appData', path.join(userData, 'appData')],
    ['home', path.join(userData, 'home')],
    ['documents', path.join(userData, 'documents')],
  ]);
  const deps: StartupDeps = {
    app: {
      getPath: (name) => paths.get(name)!,
      setPath: (name, value) => void (seen.calls.push(`setPath ${name}`), paths.set(name, value)),
      setAppLogsPath: () => void seen.calls.push('setAppLogsPath'),
      requestSingleInstanceLock: () => (seen.calls.push('lock'), true),
      setAppUserModelId: (id) => void seen.calls.push(`appUserModelId ${id}`),
      whenReady: async () => void seen.calls.push('ready'),
      on: (event: string, listener: (...args: never[]) => void) => {
        seen.listeners.set(event, [...(seen.listeners.get(event) ?? []), listener]);
      },
      getLoginItemSettings: () => ({ ...seen.loginItem }),
      setLoginItemSettings: (settings) => void (seen.loginItem = settings),
      quit: () => void seen.quits++,
      exit: (code) => void seen.exitCodes.push(code),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler) => void (seen.permissionHandler = handler),
        resolveProxy: async () => 'DIRECT',
      },
    },
    dialog: { showErrorBox: (title, content) => void seen.errorBoxes.push({ title, content }) },
    ipcMain: {
      handle: (channel: string, listener: unknown) => void seen.handlers.set(channel, listener),
      removeHandler: (channel: string) => void seen.handlers.delete(channel),
    },
    clipboard: { writeText: (text) => void seen.clipboard.push(text) },
    cipher: testCipher(),
    notifications: { isSupported: () => true, show: (options) => void seen.notifications.push(options) },
    createBackend: confBackend,
    createWindow: () => {
      seen.calls.push('window');
      let onLoad: (() => void) | undefined;
      const window: WindowStandIn = {
        shown: [],
        sent: [],
        closable: false,
        show: (view) => void window.shown.push(view),
        allowClose: () => void (window.closable = true),
        send: (event, payload) => void window.sent.push([event, payload]),
        onceLoaded: (listener) => void (onLoad = listener),
        trusts: () => true,
        askSavePath: async () => undefined,
        load: () => onLoad?.(),
      };
      return (seen.window = window);
    },
    createTray: (_assets, initial, settings, act) => {
      seen.calls.push('tray');
      const tray: TrayStandIn = {
        states: [initial],
        views: [settings],
        destroyed: false,
        update: (state, view) => void (tray.states.push(state), tray.views.push(view)),
        destroy: () => void (tray.destroyed = true),
      };
      seen.act = act;
      return (seen.tray = tray);
    },
    assetsDir: path.join(userData, 'assets'),
    openPath: async (folder) => (seen.opened.push(folder), ''),
    argv: ['electron', '.'],
    platform: 'linux',
    ...over,
    env: { WSSH_USER_DATA: userData, ...over.env },
  };
  return { deps, seen };
}

function writeSettings(dir: string, settings: object): void {
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
}

function v3Settings(uri: string, port: number, extra: object = {}): object {
  return {
    version: 3,
    endpoints: [{ id: 'local', name: 'Local', uri, user: '', secret: '', keepaliveSec: 0, proxy: 'none' }],
    activeEndpointId: 'local',
    listen: { host: '127.0.0.1', port },
    startTunnelAtLaunch: false,
    startAtLogin: false,
    ...extra,
  };
}

/**
 * A data folder for an app that may start: when the test ends, the app's
 * tunnel is stopped first (its state change reads the settings file), then
 * the folder goes.
 */
function appFolder(t: TestContext): { dir: string; started(running: RunningApp | undefined): void } {
  const dir = makeTempDir();
  let app: RunningApp | undefined;
  t.after(async () => {
    await app?.controller.stop(0);
    removeTempDir(dir);
  });
  return { dir, started: (running) => void (app = running) };
}

/** The failure path's promise: one box, exit code 1, no tray left, nothing shown. */
function assertFailed(seen: Seen, pattern: RegExp): void {
  assert.equal(seen.errorBoxes.length, 1, JSON.stringify(seen.errorBoxes));
  assert.equal(seen.errorBoxes[0].title, STARTUP_FAILED_TITLE);
  assert.match(seen.errorBoxes[0].content, pattern);
  assert.deepEqual(seen.exitCodes, [1]);
  assert.ok(!seen.tray || seen.tray.destroyed, 'no tray icon is left behind');
  assert.ok(!seen.window || seen.window.closable, 'the window may close');
  assert.deepEqual(seen.window?.shown ?? [], [], 'no window was shown');
}

test('the normal path: settings, tunnel at launch, window, tray, IPC, login item, and a clean quit', async (t) => {
  const { dir, started } = appFolder(t);
  const wssh = await startInProcessServer();
  t.after(() => wssh.server.close());
  const banner = await startBannerServer();
  t.after(() => banner.close());
  const port = await freePort();
  writeSettings(dir, v3Settings(wssh.uri, port, { startTunnelAtLaunch: true }));
  const { deps, seen } = standIns(dir);

  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.deepEqual(seen.errorBoxes, []);
  assert.deepEqual(seen.exitCodes, []);
  // The data folder before the lock, the lock before ready, ready before the window and tray.
  assert.deepEqual(seen.calls, ['setPath userData', 'setPath crashDumps', 'setAppLogsPath', 'lock', 'appUserModelId net.wssh.tray', 'ready', 'window', 'tray']);
  assert.deepEqual(seen.window!.shown, ['status']);
  assert.deepEqual([...seen.handlers.keys()].sort(), Object.values(Invoke).sort(), 'every API method answers IPC');

  // No permission for web content; no webview.
  let granted: boolean | undefined;
  seen.permissionHandler!({}, 'notifications', (g) => (granted = g));
  assert.equal(granted, false);
  let prevented = false;
  const created = seen.listeners.get('web-contents-created')![0] as unknown as (
    e: unknown,
    wc: { on(event: string, l: (e: { preventDefault(): void }) => void): void },
  ) => void;
  created({}, { on: (_event, listener) => listener({ preventDefault: () => (prevented = true) }) });
  assert.equal(prevented, true);

  // The login item follows the settings; the tunnel started at launch and carries a tunnel.
  assert.deepEqual(seen.loginItem, { openAtLogin: false, args: ['--hidden'] });
  assert.equal(running.controller.state().status, 'listening');
  const tunnel = await connectThroughProxy(port, `127.0.0.1:${banner.port}`);
  tunnel.socket.destroy();
  assert.equal(tunnel.status, 200);
  await waitFor('the tray to show the open tunnel', () => seen.tray!.states.some((s) => s.status === 'active'));
  assert.ok(
    seen.window!.sent.some(([event]) => event === 'tunnel:state'),
    'the page hears the state',
  );

  // A tray action reaches the app; a second instance shows the window.
  seen.act!({ kind: 'copy-putty-settings' });
  assert.match(seen.clipboard[0], new RegExp(`127\\.0\\.0\\.1.*${port}`, 's'));
  for (const listener of seen.listeners.get('second-instance')!) (listener as () => void)();
  assert.deepEqual(seen.window!.shown, ['status', undefined]);

  // The log outlives the process: its lines are in logs/wssh.log of the data folder, which the Log view opens.
  running.log.add('info', 'a line for the file');
  const logFile = path.join(dir, 'logs', 'wssh.log');
  assert.match(fs.readFileSync(logFile, 'utf8'), /^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}a line for the file$/m);
  assert.deepEqual(await running.api.openLogFolder(), { ok: true, value: path.join(dir, 'logs') });
  assert.deepEqual(seen.opened, [path.join(dir, 'logs')]);

  // Quit: the proxy stops first, then the tray goes and the app quits for real.
  let quitPrevented = false;
  for (const listener of seen.listeners.get('before-quit')!)
    (listener as (e: { preventDefault(): void }) => void)({ preventDefault: () => (quitPrevented = true) });
  assert.equal(quitPrevented, true);
  assert.equal(seen.window!.closable, true);
  await waitFor('app.quit after the proxy stopped', () => seen.quits === 1);
  assert.equal(seen.tray!.destroyed, true);
  assert.equal(running.controller.running, false);
});

test('--hidden starts in the tray only; with nothing to start, the tunnel stays stopped', async (t) => {
  const { dir, started } = appFolder(t);
  const { deps, seen } = standIns(dir, { argv: ['electron', '.', '--hidden'], env: { WSSH_TEST_HOOKS: '1' } });
  const globals = globalThis as { wsshApp?: { tray: unknown; controller: unknown } };
  t.after(() => delete globals.wsshApp);
  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.deepEqual(seen.window!.shown, []);
  assert.equal(seen.tray!.states[0].status, 'stopped');
  assert.equal(running.settings.view().endpoints[0].uri, 'ws://localhost:4567/ssh', 'a first run has the default endpoint');
  // The Electron smoke test's hooks: the tray and the controller the app runs.
  assert.equal(globals.wsshApp?.tray, seen.tray);
  assert.equal(globals.wsshApp?.controller, running.controller);
});

test('a profile on the command line, at launch or from a second start: offered to the window, never imported by itself', async (t) => {
  const { dir, started } = appFolder(t);
  const profile = JSON.stringify({ wsshProfile: 1, name: 'Office', uri: 'wss://gw.example.com/ssh' });
  const work = path.join(dir, 'Downloads');
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(work, 'office.wssh'), profile);
  const link = `wssh://import?profile=${Buffer.from(profile).toString('base64url')}`;
  let registered = 0;
  // As Windows starts the app for a double-clicked file, even with --hidden from an old shortcut.
  const { deps, seen } = standIns(dir, { argv: ['WSSH.exe', '--hidden', 'office.wssh'], cwd: work, registerProfileLinks: () => void registered++ });
  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.equal(registered, 1, 'wssh:// links are registered at start');
  assert.deepEqual(seen.window!.shown, ['status'], 'a profile to confirm shows the window');
  const offered = () =>
    seen
      .window!.sent.filter(([event]) => event === 'profile:offered')
      .map(([, offer]) => offer as { ok: boolean; preview?: { name: string; source: string }; error?: string });
  assert.deepEqual(offered(), [], 'sent only once the page has loaded');
  seen.window!.load();
  assert.deepEqual(
    offered().map((o) => [o.ok, o.preview?.name, o.preview?.source]),
    [[true, 'Office', `the file ${path.join(work, 'office.wssh')}`]],
  );

  // Second starts, with a link, a broken file, and both at once (one argument injected beside the other): each is offered or refused.
  fs.writeFileSync(path.join(work, 'broken.wssh'), '{"wsshProfile": 9}');
  const secondStart = (argv: string[]) => {
    for (const listener of seen.listeners.get('second-instance')!) (listener as (e: unknown, argv: string[], cwd: string) => void)({}, argv, work);
  };
  secondStart(['WSSH.exe', '--allow-file-access-from-files', link]);
  secondStart(['WSSH.exe', 'broken.wssh']);
  secondStart(['WSSH.exe', link, 'broken.wssh']);
  const [, fromLink, broken, both] = offered();
  assert.deepEqual([fromLink.ok, fromLink.preview?.source], [true, 'a wssh:// link']);
  assert.equal(broken.ok, false);
  assert.match(broken.error!, /made by a newer WSSH \(profile version 9/);
  assert.equal(both.ok, false);
  assert.match(both.error!, /^WSSH was started with 2 arguments, and reads a profile only when opened with one/);
  assert.deepEqual(seen.window!.shown, ['status', undefined, undefined, undefined]);
  // Nothing was imported: the window asks first.
  assert.deepEqual(
    running.settings.view().endpoints.map((e) => e.uri),
    ['ws://localhost:4567/ssh'],
  );
});

test('a corrupt settings file: the defaults load, the window and tray are there, and the user is told', async (t) => {
  const { dir, started } = appFolder(t);
  fs.writeFileSync(path.join(dir, 'settings.json'), '{"version": 3, "endpoints": [');
  const { deps, seen } = standIns(dir);
  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.deepEqual(seen.errorBoxes, []);
  assert.ok(seen.window && seen.tray, 'a window and a tray');
  assert.equal(seen.notifications.length, 1);
  assert.equal(seen.notifications[0].title, 'WSSH: Settings could not be read');
  assert.match(seen.notifications[0].body, /not valid JSON/);
  assert.ok(
    running.log.lines().some((l) => l.level === 'warn' && /Settings could not be read/.test(l.text)),
    'logged',
  );
  // The page hears it once it has loaded (it subscribes before its load event).
  seen.window!.load();
  const sent = seen.window!.sent.filter(([event]) => event === 'notice').map(([, n]) => (n as Notice).title);
  assert.deepEqual(sent, ['Settings could not be read']);
  assert.ok(
    fs.readdirSync(dir).some((f) => f.startsWith('settings.corrupt-')),
    'the broken file is kept',
  );
});

// Issue 10: a settings.json that is a folder or cannot be read is set aside
// like a corrupt file, the user is told, and the app starts with the defaults
// (before, the app did not start).
test('settings.json as a folder, a symlink loop or unreadable: set aside, told, and the app starts', async (t) => {
  const cases: Array<[string, (dir: string) => void, RegExp, boolean]> = [
    ['a folder', (dir) => fs.mkdirSync(path.join(dir, 'settings.json')), /it is a folder, not a file/, false],
    ['a symlink loop', (dir) => fs.symlinkSync('settings.json', path.join(dir, 'settings.json')), /cannot be read \(ELOOP\)/, false],
    [
      'no read permission',
      (dir) => {
        writeSettings(dir, v3Settings('ws://127.0.0.1:1/ssh', 3122));
        fs.chmodSync(path.join(dir, 'settings.json'), 0);
      },
      /cannot be read \(EACCES\)/,
      process.getuid?.() === 0,
    ],
  ];
  for (const [what, make, reason, skip] of cases) {
    await t.test(what, { skip: skip ? 'root reads any file' : false }, async (st) => {
      const { dir, started } = appFolder(st);
      make(dir);
      const { deps, seen } = standIns(dir);
      const running = await runApp(deps);
      started(running);
      assert.ok(running, `the app did not start: ${JSON.stringify(seen.errorBoxes)}`);
      assert.deepEqual(seen.errorBoxes, []);
      assert.ok(seen.window && seen.tray);
      assert.equal(seen.notifications[0]?.title, 'WSSH: Settings could not be read');
      assert.match(seen.notifications[0].body, reason);
      assert.ok(
        fs.readdirSync(dir).some((f) => f.startsWith('settings.corrupt-')),
        'kept aside',
      );
    });
  }
});

test('settings that cannot be opened: an error box and exit 1, no tray and no window left', async (t) => {
  await t.test('the data folder is a file', async (st) => {
    const file = path.join(tempDir(st), 'not-a-folder');
    fs.writeFileSync(file, '');
    const { deps, seen } = standIns(path.join(file, 'WSSH'));
    assert.equal(await runApp(deps), undefined);
    assertFailed(seen, /cannot be opened: (ENOTDIR|EEXIST)/);
  });
});

test('a data folder that cannot be chosen: an error box and exit 1 before the lock', async (t) => {
  const { deps, seen } = standIns(tempDir(t), { env: { WSSH_USER_DATA: 'relative/dir' } });
  assert.equal(await runApp(deps), undefined);
  assertFailed(seen, /^WSSH_USER_DATA must be a full path/);
  assert.ok(!seen.calls.includes('lock'));
});

test('the controller failing: an error box and exit 1, no tray', async (t) => {
  const { deps, seen } = standIns(tempDir(t), {
    createController: () => {
      throw new Error('controller exploded');
    },
  });
  assert.equal(await runApp(deps), undefined);
  assertFailed(seen, /controller exploded/);
  assert.equal(seen.tray, undefined);
});

test('the tray failing: an error box and exit 1, the window may close', async (t) => {
  const { deps, seen } = standIns(tempDir(t), {
    createTray: () => {
      throw new Error('no notification area');
    },
  });
  assert.equal(await runApp(deps), undefined);
  assertFailed(seen, /no notification area/);
  assert.ok(seen.window, 'the window had been made');
});

test('the tunnel failing to start at launch: an error box and exit 1, the tray removed', async (t) => {
  const dir = tempDir(t);
  writeSettings(dir, v3Settings('ws://127.0.0.1:1/ssh', 3122, { startTunnelAtLaunch: true }));
  const { deps, seen } = standIns(dir);
  deps.createController = (options) => {
    const controller = new TunnelController(options);
    controller.start = () => Promise.reject(new Error('start went wrong'));
    return controller;
  };
  assert.equal(await runApp(deps), undefined);
  assertFailed(seen, /start went wrong/);
  assert.equal(seen.tray?.destroyed, true);
});

test('a second instance quits at once and touches nothing', async (t) => {
  const { deps, seen } = standIns(tempDir(t));
  deps.app.requestSingleInstanceLock = () => false;
  assert.equal(await runApp(deps), undefined);
  assert.equal(seen.quits, 1);
  assert.deepEqual(seen.exitCodes, []);
  assert.equal(seen.window, undefined);
  assert.ok(!seen.calls.includes('ready'));
});

test('the startup wires the saved sessions to the registry runner and the tray tooltip to the traffic samples', async (t) => {
  const { dir, started } = appFolder(t);
  const port = await freePort();
  writeSettings(dir, v3Settings('ws://127.0.0.1:1/ssh', port));
  const queries: string[][] = [];
  // A registry with no client installed: every Sessions key is missing, as reg.exe says it.
  const reg = {
    run: async (args: string[]) => (
      queries.push(args),
      { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' }
    ),
  };
  const { deps, seen } = standIns(dir, { reg });
  const traffic: unknown[] = [];
  const createTray = deps.createTray;
  deps.createTray = (...args) => ({ ...createTray(...args), setTraffic: (snapshot) => void traffic.push(snapshot) });
  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.deepEqual(await running.api.listSavedSessions(), { clients: [] });
  assert.deepEqual(
    queries.map((q) => q[1]),
    ['HKCU\\Software\\SimonTatham\\PuTTY\\Sessions', 'HKCU\\Software\\9bis.com\\KiTTY\\Sessions', 'HKCU\\Software\\Martin Prikryl\\WinSCP 2\\Sessions'],
  );
  await running.controller.start();
  await waitFor('a traffic sample for the tray', () => traffic.length > 0);
  await running.controller.stop(0);
  assert.equal(seen.errorBoxes.length, 0);
});

test('the startup wires powerMonitor and the network to the tunnels (issue #20): a wake resumes them; quitting stops listening', async (t) => {
  const { dir, started } = appFolder(t);
  writeSettings(dir, v3Settings('ws://127.0.0.1:1/ssh', await freePort()));
  const power = new EventEmitter();
  const reasons: string[] = [];
  const { deps, seen } = standIns(dir, {
    powerMonitor: power,
    isOnline: () => true,
    createController: (options) => {
      const controller = new TunnelController(options);
      controller.reconnectAll = (reason) => void reasons.push(reason);
      return controller;
    },
  });
  const running = await runApp(deps);
  started(running);
  assert.ok(running);
  assert.equal(power.listenerCount('resume'), 1);
  power.emit('resume');
  assert.deepEqual(reasons, ['the computer woke up']);
  for (const listener of seen.listeners.get('before-quit')!) (listener as (e: { preventDefault(): void }) => void)({ preventDefault: () => {} });
  assert.equal(power.listenerCount('resume'), 0, 'the app no longer listens once it quits');
  await waitFor('app.quit', () => seen.quits === 1);
});
