/**
 * Every word the app shows for the tunnel's state, in one place: the tray's
 * menu line and tooltip (src/main/tray/trayMenu.ts), the window's header pill and
 * its Status view (src/renderer). Each place has room for a different amount
 * of text, so each has its own form, built from the same pieces.
 *
 * Runs anywhere (strings only): no Node, no Electron, no DOM.
 */
import type { ListenAddress, TunnelState, TunnelStatus } from './ipc';

/** The state as one word or two, for the Status view's State field. */
export const STATUS_LABEL: Record<TunnelStatus, string> = {
  stopped: 'Stopped',
  listening: 'Listening',
  active: 'Carrying traffic',
  reconnecting: 'Reconnecting…',
  error: 'Error',
};

/** The listen address as shown to people (and as PuTTY's host and port fields read it). */
export function listenText(listen: ListenAddress): string {
  return `${listen.host}:${listen.port}`;
}

/** `1 open tunnel`, `3 open tunnels`. */
export function openTunnelsText(count: number): string {
  return `${count} open tunnel${count === 1 ? '' : 's'}`;
}

/** `Reconnecting… (2 tunnels)`: the tunnels whose WebSocket broke and is being resumed. */
export function reconnectingText(count: number): string {
  return `${STATUS_LABEL.reconnecting} (${count} tunnel${count === 1 ? '' : 's'})`;
}

/** The header pill: short, the reason goes in its tooltip. `Listening on 127.0.0.1:3122`. */
export function statusHeadline(state: TunnelState): string {
  switch (state.status) {
    case 'stopped':
      return 'Stopped';
    case 'listening':
      return `Listening on ${listenText(state.listen)}`;
    case 'active':
      return `Active on ${listenText(state.listen)}`;
    case 'reconnecting':
      return reconnectingText(state.reconnecting);
    case 'error':
      return 'Error';
  }
}

/** The Status view's State field: the label, and for reconnecting how many tunnels wait. */
export function statusField(state: TunnelState): string {
  return state.status === 'reconnecting' ? reconnectingText(state.reconnecting) : STATUS_LABEL[state.status];
}

/** The Status view's Open tunnels field: `3`, or `3 (2 reconnecting)`. */
export function openTunnelsField(state: TunnelState): string {
  return state.reconnecting > 0 ? `${state.openTunnels} (${state.reconnecting} reconnecting)` : String(state.openTunnels);
}

/** The tray menu's first line: the open tunnels and the reason fit there. */
export function statusLine(state: TunnelState): string {
  switch (state.status) {
    case 'stopped':
      return 'Tunnel stopped';
    case 'listening':
      return statusHeadline(state);
    case 'active':
      return `${openTunnelsText(state.openTunnels)} on ${listenText(state.listen)}`;
    case 'reconnecting':
      return reconnectingText(state.reconnecting);
    case 'error':
      return `Error: ${state.reason ?? 'unknown'}`;
  }
}

/** The tooltip's first line, after the app's name: `WSSH: listening on 127.0.0.1:3122`. */
export function statusTooltipHead(state: TunnelState): string {
  const text = state.status === 'error' ? `error: ${state.reason ?? ''}` : lowerFirst(statusHeadline(state));
  return `WSSH: ${text}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
