/**
 * The open tunnels of a proxy or a server, and the events a GUI or a log
 * consumes: `open`, `bytes` (at most once per interval, the tunnels whose
 * counters moved), `state` (a resumable tunnel broke or resumed), `close`
 * (with the reason, and whether a resumable tunnel's session was lost) and
 * `refused`.
 */
import { peerText } from './peerText';
import { EventEmitter } from 'node:events';
import type { TunnelInfo } from '../../shared/tunnelInfo';
import { REFUSALS, type RefusalCode } from './refusals';
import type { ConfigProblem } from './configErrors';

export interface ClosedTunnel extends TunnelInfo {
  closedAt: number;
  durationMs: number;
  reason: string;
  /** A resumable tunnel that ended while its WebSocket was broken: the SSH session inside it is lost. */
  lost?: true;
}

export interface RefusedTunnel {
  target: string;
  client: string;
  /** Why, as a stable code (refusals.ts): what programs decide by, never the reason's text. */
  code: RefusalCode;
  /** The HTTP status given to the client (the code's, from the table). */
  status: number;
  reason: string;
  /** The setting at fault and what to do, when a setting caused it (the dial's TunnelError.setting): the front end words the remedy. */
  setting?: ConfigProblem;
  at: number;
}

export interface TunnelEvents {
  open: [tunnel: TunnelInfo];
  /** A resumable tunnel's WebSocket broke (`reconnecting: true`) or was resumed (`reconnecting: false`, `resumes` counted). */
  state: [tunnel: TunnelInfo];
  bytes: [tunnels: TunnelInfo[]];
  close: [tunnel: ClosedTunnel];
  refused: [refusal: RefusedTunnel];
}

/**
 * What the tracker needs of a tunnel's relay: its counters, a way to end it,
 * and its end. A Relay (relay.ts) is one; so is a resumable tunnel on either
 * side (resumableRelay.ts on the server, resumingTunnel.ts on the client).
 */
export interface TrackedRelay {
  /** Bytes read from the stream (sent toward the peer). */
  readonly toWebSocket: number;
  /** Bytes received from the peer and written to the stream. */
  readonly toStream: number;
  /** WebSockets attached after the first: how often the tunnel was resumed (a resumable one only). */
  readonly resumes?: number;
  /** Ends the tunnel now, saying `reason`. */
  abort(reason: string): void;
  /** `lost`: a resumable tunnel ended while broken (resumingTunnel.ts). */
  once(event: 'close', listener: (result: { reason: string; lost?: boolean }) => void): unknown;
}

/** Which end of the relay's stream faces the SSH client. */
export type StreamSide = 'client' | 'server';

/** The default of `bytesIntervalMs`: a GUI's counters move once a second. */
export const DEFAULT_BYTES_INTERVAL_MS = 1000;

export interface TunnelTrackerOptions {
  /** How often `bytes` may be emitted, in ms. @default {@link DEFAULT_BYTES_INTERVAL_MS} */
  bytesIntervalMs?: number;
}

/** A reason may quote peer text (already cut) inside a sentence of ours: a little more room. */
const REASON_MAX_BYTES = 600;

export class TunnelTracker extends EventEmitter<TunnelEvents> {
  private nextId = 1;
  private readonly open = new Map<number, { info: TunnelInfo; relay: TrackedRelay; side: StreamSide; reported: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly bytesIntervalMs: number;

  constructor(options: TunnelTrackerOptions = {}) {
    super();
    this.bytesIntervalMs = options.bytesIntervalMs ?? DEFAULT_BYTES_INTERVAL_MS;
  }

  /** A fresh tunnel id, for log lines written before the tunnel opens. */
  allocateId(): number {
    return this.nextId++;
  }

  /** Starts tracking a relay; emits `open` now and `close` when it ends. */
  track(id: number, relay: TrackedRelay, side: StreamSide, meta: Pick<TunnelInfo, 'target' | 'via' | 'client'>): TunnelInfo {
    const info: TunnelInfo = { id, ...meta, openedAt: Date.now(), up: 0, down: 0 };
    const entry = { info, relay, side, reported: 0 };
    this.open.set(id, entry);
    this.emit('open', { ...info });
    this.startTimer();
    relay.once('close', (result) => {
      this.open.delete(id);
      this.count(entry);
      const closedAt = Date.now();
      const reason = peerText(result.reason, REASON_MAX_BYTES);
      this.emit('close', { ...info, closedAt, durationMs: closedAt - info.openedAt, reason, ...(result.lost && { lost: true as const }) });
      if (this.open.size === 0) this.stopTimer();
    });
    return info;
  }

  /**
   * A resumable tunnel's WebSocket broke (`reconnecting`) or came back: emits
   * `state` with the counters and the resumes so far. Unknown ids are ignored.
   */
  setReconnecting(id: number, reconnecting: boolean): void {
    const entry = this.open.get(id);
    if (!entry) return;
    entry.info.reconnecting = reconnecting;
    this.emit('state', { ...this.count(entry) });
  }

  /** Reports a refusal; its status is its code's. */
  refuse(refusal: Omit<RefusedTunnel, 'at' | 'status'>): void {
    // A refused target may be anything a peer sent (a SOCKS host, a request line): made safe for every log here.
    const { target, reason } = refusal;
    this.emit('refused', {
      ...refusal,
      target: peerText(target),
      reason: peerText(reason, REASON_MAX_BYTES),
      status: REFUSALS[refusal.code].status,
      at: Date.now(),
    });
  }

  /** Snapshots of the open tunnels with their current counters. */
  list(): TunnelInfo[] {
    return [...this.open.values()].map((entry) => ({ ...this.count(entry) }));
  }

  get size(): number {
    return this.open.size;
  }

  /** Resolves once no tunnel is open, or after `timeoutMs`, whichever comes first. */
  drain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.off('close', check);
        resolve();
      };
      const check = () => {
        if (this.open.size === 0) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      timer.unref();
      this.on('close', check);
      check();
    });
  }

  /** Aborts every open tunnel. */
  abortAll(reason: string): void {
    for (const { relay } of this.open.values()) relay.abort(reason);
  }

  private count(entry: { info: TunnelInfo; relay: TrackedRelay; side: StreamSide }): TunnelInfo {
    const { relay, info } = entry;
    if (relay.resumes !== undefined) info.resumes = relay.resumes;
    info.up = entry.side === 'client' ? relay.toWebSocket : relay.toStream;
    info.down = entry.side === 'client' ? relay.toStream : relay.toWebSocket;
    return info;
  }

  private startTimer(): void {
    if (this.timer || this.bytesIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      const moved: TunnelInfo[] = [];
      for (const entry of this.open.values()) {
        const info = this.count(entry);
        const total = info.up + info.down;
        if (total !== entry.reported) {
          entry.reported = total;
          moved.push({ ...info });
        }
      }
      if (moved.length > 0) this.emit('bytes', moved);
    }, this.bytesIntervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
