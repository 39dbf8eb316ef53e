/**
 * The preload script: exposes the WsshApi (src/shared/ipc.ts) to the page as
 * `window.wssh`, and nothing else. It runs sandboxed, so it cannot load local
 * files: scripts/bundle.ts bundles it with the contract into one file.
 */
import { contextBridge, ipcRenderer, IpcRendererEvent } from 'electron';
import { EventName, EventPayloads, Events, Invoke, WsshApi } from '../shared/ipc';

const eventNames = new Set<string>(Object.values(Events));

/** Sends a call over a channel; the answer's type is the contract's, which main implements. */
type Invoker = (...args: unknown[]) => ReturnType<typeof ipcRenderer.invoke>;

/** Each channel of the map as the function that invokes it, under the map's own keys and no others. */
function invokers<C extends Record<string, string>>(channels: C): { [M in keyof C]: Invoker } {
  const entries = Object.entries(channels).map(([method, channel]) => [method, (...args: unknown[]) => ipcRenderer.invoke(channel, ...args)]);
  // Object.fromEntries cannot say that its keys are C's; they are, one entry per channel.
  return Object.fromEntries(entries) as { [M in keyof C]: Invoker };
}

function on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void {
  if (!eventNames.has(event)) throw new Error(`unknown event ${String(event)}`);
  // The page never sees the IpcRendererEvent (it holds `sender`, the ipcRenderer itself).
  const handler = (_event: IpcRendererEvent, payload: EventPayloads[E]) => listener(payload);
  ipcRenderer.on(event, handler);
  return () => ipcRenderer.off(event, handler);
}

// Typed as the contract, not cast to it: a WsshApi method with no channel in Invoke is missing here and
// does not compile (and a channel with no method does not compile in ipc.ts).
const api: WsshApi = { ...invokers(Invoke), on };

contextBridge.exposeInMainWorld('wssh', api);
