// Runs anywhere (types only): the core's tracker and the window share it.

/**
 * One open tunnel: what the core's TunnelTracker reports (src/core/tunnel/tunnels.ts)
 * and, as is, a row of the window's connections table.
 */
export interface TunnelInfo {
  id: number;
  /** The target as the client asked for it: `db1.lan`, or `db1.lan:2222` for other ports. */
  target: string;
  /** The next hop: the endpoint's display URI (local proxy) or the resolved `host:port` (server). */
  via: string;
  /** The client's address. */
  client: string;
  /** When the tunnel opened, ms since the epoch. */
  openedAt: number;
  /** Bytes from the SSH client toward the SSH server. */
  up: number;
  /** Bytes from the SSH server toward the SSH client. */
  down: number;
  /** A resumable tunnel: how often its WebSocket was resumed after a break. Absent for a plain one. */
  resumes?: number;
  /** A resumable tunnel whose WebSocket broke and is being resumed now. */
  reconnecting?: boolean;
}
