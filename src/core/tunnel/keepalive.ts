/**
 * WebSocket heartbeat, the pattern of the ws FAQ: ping every interval, count
 * the pings that went unanswered, terminate the peer that missed two.
 *
 * Why both sides ping: nginx closes a WebSocket on which nothing arrived for
 * `proxy_read_timeout` (60 s by default) in either direction it watches, and
 * a peer behind a dead NAT never sends a close frame. Pings every 30 s keep
 * the first alive and detect the second within about a minute.
 *
 * One timer per interval for the whole process, sweeping every WebSocket (as
 * the FAQ's server does), not a timer and three closures per tunnel: with
 * thousands of idle tunnels that is memory for nothing.
 */
import type WebSocket from 'ws';
import { DEFAULT_KEEPALIVE_SEC } from '../../shared/defaults';

/** The default ping interval (shared/defaults.ts), below nginx's default 60 s proxy_read_timeout. */
export const DEFAULT_KEEPALIVE_MS = DEFAULT_KEEPALIVE_SEC * 1000;

/** How many pings may go unanswered before the peer counts as dead. */
const MISSED_PINGS_ALLOWED = 2;

interface Watched {
  missed: number;
  onDead: () => void;
}

/** The WebSockets pinged on one interval, and its timer (only while any is watched). */
class Sweep {
  readonly watched = new Map<WebSocket, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(ws: WebSocket, onDead: () => void): void {
    this.watched.set(ws, { missed: 0, onDead });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  delete(ws: WebSocket): void {
    if (!this.watched.delete(ws) || this.watched.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    for (const [ws, entry] of this.watched) {
      if (entry.missed >= MISSED_PINGS_ALLOWED) {
        stopWatching(ws);
        entry.onDead();
        ws.terminate();
        continue;
      }
      entry.missed++;
      ws.ping();
    }
  }
}

const sweeps = new Map<number, Sweep>();
/** Which sweep watches a WebSocket, for the shared listeners below. */
const sweepOf = new WeakMap<WebSocket, Sweep>();

// One function for every WebSocket: EventEmitter calls a listener with the
// emitter as `this`. Any frame from the peer counts as a sign of life, not
// only a pong: a pong can queue behind a long download on a slow link.
function alive(this: WebSocket): void {
  const entry = sweepOf.get(this)?.watched.get(this);
  if (entry) entry.missed = 0;
}

function stopWatching(ws: WebSocket): void {
  const sweep = sweepOf.get(ws);
  if (!sweep) return;
  sweepOf.delete(ws);
  sweep.delete(ws);
  ws.off('pong', alive);
  ws.off('message', alive);
  ws.off('ping', alive);
  ws.off('close', onClose);
}

function onClose(this: WebSocket): void {
  stopWatching(this);
}

/**
 * Starts pinging `ws` every `intervalMs` (0 disables). Calls `onDead` before
 * terminating the socket of a peer that missed two pings. Returns a function
 * that stops the heartbeat; it also stops when `ws` closes.
 */
export function startKeepalive(ws: WebSocket, intervalMs: number, onDead: () => void): () => void {
  if (!(intervalMs > 0)) return () => {};
  stopWatching(ws);
  let sweep = sweeps.get(intervalMs);
  if (!sweep) {
    sweep = new Sweep(intervalMs);
    sweeps.set(intervalMs, sweep);
  }
  sweep.add(ws, onDead);
  sweepOf.set(ws, sweep);
  ws.on('pong', alive);
  ws.on('message', alive);
  ws.on('ping', alive);
  ws.on('close', onClose);
  return () => stopWatching(ws);
}
