/**
 * The app's one window: sandboxed, isolated, no Node; it never navigates
 * away from the bundled page and opens no other windows. Closing it hides it:
 * the app lives in the tray.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BrowserWindow, IpcMainInvokeEvent, dialog, protocol, shell, type Session } from 'electron';
import { EventName, EventPayloads, Events, ViewName } from '../../shared/ipc';
import { isTrustedSender } from './ipcHandlers';
import { APP_INDEX_URL, APP_SCHEME, appContentType, isDocumentationUrl, resolveAppPath } from './appScheme';

/** Where esbuild puts the preload bundle and the renderer (scripts/bundle.ts). */
const APP_DIR = path.join(__dirname, '..', '..', '..', 'app');
export const RENDERER_INDEX = path.join(APP_DIR, 'renderer', 'index.html');
/** What the window loads: RENDERER_INDEX, served on app:// (see appScheme.ts). */
export const RENDERER_URL = APP_INDEX_URL;

// Must happen before the app is ready, hence at load: app:// is a standard,
// secure origin (so the page's CSP 'self' applies to it), nothing more.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

const served = new WeakSet<Session>();

/** Serves app:// from APP_DIR only (see appScheme.ts); once per session. */
function serveAppScheme(session: Session): void {
  if (served.has(session)) return;
  served.add(session);
  session.protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppPath(APP_DIR, request.url);
    if (!file) return new Response('not found', { status: 404 });
    try {
      return new Response(await readFile(file), { headers: { 'Content-Type': appContentType(file) } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
  // Nothing is asked of the user on the page's behalf, and no check says yes.
  session.setPermissionCheckHandler(() => false);
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export interface AppWindow {
  readonly window: BrowserWindow;
  show(view?: ViewName): void;
  /** Lets the window really close (on Quit). */
  allowClose(): void;
  /** Sends an event to the page; nothing once the window is gone. */
  send<E extends EventName>(event: E, payload: EventPayloads[E]): void;
  /** Calls `listener` once the page has loaded (and subscribed to events). */
  onceLoaded(listener: () => void): void;
  /** Whether an IPC request comes from this window's main frame showing the bundled page. */
  trusts(event: IpcMainInvokeEvent): boolean;
  /** A save dialog over the window: the chosen path, or undefined when canceled. */
  askSavePath(options: { title: string; defaultPath: string; filters: Array<{ name: string; extensions: string[] }> }): Promise<string | undefined>;
  /** The system's "open file" dialog over this window (a certificate, a key); undefined when cancelled. */
  askOpenPath(options: { title: string; filters: Array<{ name: string; extensions: string[] }> }): Promise<string | undefined>;
}

export function createAppWindow(iconPath: string | undefined): AppWindow {
  const window = new BrowserWindow({
    width: 960,
    height: 680,
    minWidth: 480,
    minHeight: 360,
    show: false,
    title: 'WSSH',
    icon: iconPath,
    autoHideMenuBar: true,
    webPreferences: {
      preload: path.join(APP_DIR, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.removeMenu();
  let closing = false;
  window.on('close', (event) => {
    if (closing) return;
    event.preventDefault();
    window.hide();
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    // Links to known documentation open in the user's browser, never in the app; nothing else opens.
    if (isDocumentationUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  serveAppScheme(window.webContents.session);
  void window.loadURL(APP_INDEX_URL);
  return {
    window,
    show(view) {
      if (view) window.webContents.send(Events.showView, view);
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    },
    allowClose() {
      closing = true;
    },
    send(event, payload) {
      if (!window.isDestroyed()) window.webContents.send(event, payload);
    },
    onceLoaded(listener) {
      window.webContents.once('did-finish-load', listener);
    },
    trusts: (event) => isTrustedSender(event, window.webContents, RENDERER_URL),
    async askSavePath(options) {
      const result = await dialog.showSaveDialog(window, options);
      return result.canceled ? undefined : result.filePath;
    },
    async askOpenPath(options) {
      const result = await dialog.showOpenDialog(window, { ...options, properties: ['openFile'] });
      return result.canceled ? undefined : result.filePaths[0];
    },
  };
}
