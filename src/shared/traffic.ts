/**
 * Live traffic, as the Connections view and the tray tooltip show it: rates
 * in bytes per second over the last second, per tunnel and in total, and the
 * total of the last minute for the chart. Computed by src/main/tunnel/trafficMeter.ts
 * from the relays' byte counters once a second.
 *
 * Runs anywhere (types and pure functions only).
 */

/** How often the rates are sampled, in ms: their resolution. */
export const TRAFFIC_SAMPLE_MS = 1000;

/** How many one-second samples the chart keeps: the last minute. */
export const TRAFFIC_HISTORY_SECONDS = 60;

/** One tunnel's rate over the last sample interval, in bytes per second. */
export interface TunnelRate {
  id: number;
  up: number;
  down: number;
}

/** The total rate of all tunnels at one sample. */
export interface TrafficSample {
  /** When the sample was taken, ms since the epoch. */
  at: number;
  up: number;
  down: number;
}

export interface TrafficSnapshot {
  at: number;
  /** Open tunnels at the sample. */
  tunnels: number;
  /** The total rate now (the last sample), bytes per second. */
  up: number;
  down: number;
  /** Each open tunnel's rate. */
  perTunnel: TunnelRate[];
  /** The last minute of totals, oldest first, one a second (fewer right after the start). */
  history: TrafficSample[];
}

export const EMPTY_TRAFFIC: TrafficSnapshot = { at: 0, tunnels: 0, up: 0, down: 0, perTunnel: [], history: [] };

/** A byte count as people read it: `980 B`, `12.5 KiB`, `3.1 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A rate as people read it: `0 B/s`, `980 B/s`, `12.5 KiB/s`, `3.1 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.max(0, Math.round(bytesPerSecond)))}/s`;
}
