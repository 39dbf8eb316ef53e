/**
 * Registers the WsshApi methods as IPC handlers. A request is answered only
 * when it comes from the main frame of the app's own window showing the
 * bundled page: no other window, frame or page can drive the tunnel. Its
 * arguments must then have the shape of the method's parameters (one table,
 * ipcArguments.ts), or it is refused before the method runs.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { Invoke, InvokeApi, InvokeMethod } from '../../shared/ipc';
import { invokeArguments, type Check } from './ipcArguments';

/** @param indexUrl the page's URL, app://wssh/renderer/index.html (see appScheme.ts). */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  window: Pick<WebContents, 'id' | 'mainFrame'>,
  indexUrl: string,
): boolean {
  const frame = event.senderFrame;
  if (!frame || event.sender.id !== window.id || frame !== window.mainFrame) return false;
  return frame.url.split('#')[0] === indexUrl;
}

export function registerIpcHandlers(
  ipc: Pick<IpcMain, 'handle' | 'removeHandler'>,
  api: InvokeApi,
  trusted: (event: IpcMainInvokeEvent) => boolean,
): () => void {
  // The keys of Invoke are the methods: ipc.ts says so by type.
  const methods = Object.keys(Invoke) as InvokeMethod[];
  for (const method of methods) {
    const channel = Invoke[method];
    const check: Check<unknown> = invokeArguments[method];
    ipc.handle(channel, (event, ...args: unknown[]) => {
      if (!trusted(event)) throw new Error('IPC refused: not from the WSSH window');
      const problem = check(args, channel);
      // Electron hands the renderer this message, after "Error invoking remote method '<channel>':".
      if (problem !== undefined) throw new Error(`IPC refused: ${problem}`);
      // The check proved that `args` are the method's parameters.
      return (api[method] as (...a: unknown[]) => unknown)(...args);
    });
  }
  return () => methods.forEach((m) => ipc.removeHandler(Invoke[m]));
}
