/**
 * The preload script: exposes the WsshApi (src/shared/ipc.ts) to the page as
 * `window.wssh`, and nothing else. It runs sandboxed, so it cannot load local
 * files: scripts/bundle.ts bundles it with the contract into one file.
 */
import { contextBridge, ipcRenderer, IpcRendererEvent } from 'electron';
import { EventName, EventPayloads, Events, Invoke, InvokeMethod, WsshApi } from '../shared/ipc';

const eventNames = new Set<string>(Object.values(Events));

const api: Record<string, unknown> = {};
for (const method of Object.keys(Invoke) as InvokeMethod[]) {
  api[method] = (...args: unknown[]) => ipcRenderer.invoke(Invoke[method], ...args);
}
api.on = <E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): (() => void) => {
  if (!eventNames.has(event)) throw new Error(`unknown event ${String(event)}`);
  // The page never sees the IpcRendererEvent (it holds `sender`, the ipcRenderer itself).
  const handler = (_event: IpcRendererEvent, payload: EventPayloads[E]) => listener(payload);
  ipcRenderer.on(event, handler);
  return () => ipcRenderer.off(event, handler);
};

contextBridge.exposeInMainWorld('wssh', api as unknown as WsshApi);
