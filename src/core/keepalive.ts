/**
 * WebSocket heartbeat, the pattern of the ws FAQ: ping every interval, count
 * the pings that went unanswered, terminate the peer that missed two.
 *
 * Why both sides ping: nginx closes a WebSocket on which nothing arrived for
 * `proxy_read_timeout` (60 s by default) in either direction it watches, and
 * a peer behind a dead NAT never sends a close frame. Pings every 30 s keep
 * the first alive and detect the second within about a minute.
 */
import type WebSocket from 'ws';
import { DEFAULT_KEEPALIVE_SEC } from '../shared/defaults';

/** The default ping interval (shared/defaults.ts), below nginx's default 60 s proxy_read_timeout. */
export const DEFAULT_KEEPALIVE_MS = DEFAULT_KEEPALIVE_SEC * 1000;

/** How many pings may go unanswered before the peer counts as dead. */
const MISSED_PINGS_ALLOWED = 2;

/**
 * Starts pinging `ws` every `intervalMs` (0 disables). Any frame from the peer
 * counts as a sign of life, not only a pong: a pong can queue behind a long
 * download on a slow link. Calls `onDead` before terminating the socket.
 * Returns a function that stops the heartbeat; it also stops when `ws` closes.
 */
export function startKeepalive(ws: WebSocket, intervalMs: number, onDead: () => void): () => void {
  if (!(intervalMs > 0)) return () => {};
  let missed = 0;
  const alive = () => {
    missed = 0;
  };
  const timer = setInterval(() => {
    if (missed >= MISSED_PINGS_ALLOWED) {
      stop();
      onDead();
      ws.terminate();
      return;
    }
    missed++;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.on('pong', alive);
  ws.on('message', alive);
  ws.on('ping', alive);
  const stop = () => {
    clearInterval(timer);
    ws.off('pong', alive);
    ws.off('message', alive);
    ws.off('ping', alive);
  };
  ws.once('close', stop);
  return stop;
}
