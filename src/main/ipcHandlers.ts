/**
 * Registers the WsshApi methods as IPC handlers. A request is answered only
 * when it comes from the main frame of the app's own window showing the
 * bundled page: no other window, frame or page can drive the tunnel.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { Invoke, InvokeMethod } from '../shared/ipc';
import type { InvokeApi } from './appApi';

/** @param indexUrl the page's URL, app://wssh/renderer/index.html (see appScheme.ts). */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, window: Pick<WebContents, 'id' | 'mainFrame'>, indexUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || event.sender.id !== window.id || frame !== window.mainFrame) return false;
  return frame.url.split('#')[0] === indexUrl;
}

export function registerIpcHandlers(ipc: Pick<IpcMain, 'handle' | 'removeHandler'>, api: InvokeApi, trusted: (event: IpcMainInvokeEvent) => boolean): () => void {
  const methods = Object.keys(Invoke) as InvokeMethod[];
  for (const method of methods) {
    ipc.handle(Invoke[method], (event, ...args: unknown[]) => {
      if (!trusted(event)) throw new Error('IPC refused: not from the WSSH window');
      return (api[method] as (...a: unknown[]) => unknown)(...args);
    });
  }
  return () => methods.forEach((m) => ipc.removeHandler(Invoke[m]));
}
