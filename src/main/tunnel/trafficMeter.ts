/**
 * Turns the tunnels' byte counters into rates: each `sample()` (the tunnel
 * controller calls it from a one-second timer) compares the counters with the
 * previous sample's. The relays only add to their counters; nothing here runs
 * per chunk, so a busy tunnel pays nothing for the rates.
 */
import { TRAFFIC_HISTORY_SECONDS, type TrafficSample, type TrafficSnapshot, type TunnelRate } from '../../shared/traffic';

/** What the meter reads of a tunnel: the tracker's TunnelInfo has it. */
export interface TunnelCounters {
  id: number;
  openedAt: number;
  up: number;
  down: number;
}

export class TrafficMeter {
  private last = new Map<number, { up: number; down: number }>();
  private lastAt: number | undefined;
  /** Bytes of tunnels that closed since the last sample, not yet counted. */
  private closedUp = 0;
  private closedDown = 0;
  private readonly history: TrafficSample[] = [];
  private snapshot: TrafficSnapshot;

  constructor(private readonly historySeconds = TRAFFIC_HISTORY_SECONDS) {
    this.snapshot = { at: 0, tunnels: 0, up: 0, down: 0, perTunnel: [], history: [] };
  }

  /**
   * A tunnel closed with these final counters: what it moved since the last
   * sample still counts in the next total (its row is gone by then).
   */
  closed(tunnel: TunnelCounters): void {
    const before = this.last.get(tunnel.id) ?? { up: 0, down: 0 };
    this.closedUp += Math.max(0, tunnel.up - before.up);
    this.closedDown += Math.max(0, tunnel.down - before.down);
    this.last.delete(tunnel.id);
  }

  /** Takes a sample of the open tunnels' counters at `now` (ms). */
  sample(open: TunnelCounters[], now: number): TrafficSnapshot {
    const perTunnel: TunnelRate[] = [];
    const next = new Map<number, { up: number; down: number }>();
    let up = this.closedUp;
    let down = this.closedDown;
    // The total's interval: since the last sample (a tunnel's own: since it opened, if later).
    const since = this.lastAt ?? now;
    const seconds = (from: number) => Math.max(0.001, (now - from) / 1000);
    for (const t of open) {
      const before = this.last.get(t.id) ?? { up: 0, down: 0 };
      const dUp = Math.max(0, t.up - before.up);
      const dDown = Math.max(0, t.down - before.down);
      const from = Math.max(since, Math.min(now, t.openedAt));
      const s = from < now ? seconds(from) : 1;
      perTunnel.push({ id: t.id, up: dUp / s, down: dDown / s });
      up += dUp;
      down += dDown;
      next.set(t.id, { up: t.up, down: t.down });
    }
    const totalSeconds = this.lastAt === undefined ? 1 : seconds(since);
    this.last = next;
    this.lastAt = now;
    this.closedUp = 0;
    this.closedDown = 0;
    this.history.push({ at: now, up: up / totalSeconds, down: down / totalSeconds });
    while (this.history.length > this.historySeconds) this.history.shift();
    const current = this.history[this.history.length - 1];
    this.snapshot = { at: now, tunnels: open.length, up: current.up, down: current.down, perTunnel, history: [...this.history] };
    return this.snapshot;
  }

  /** The last sample's snapshot (an empty one before the first). */
  current(): TrafficSnapshot {
    return this.snapshot;
  }
}
