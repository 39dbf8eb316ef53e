/**
 * Readiness, apart from liveness. `GET /healthz` says the process is alive
 * (a supervisor restarts it when not); `GET /readyz` says it takes new
 * tunnels now (a load balancer, nginx or Kubernetes sends new ones only to a
 * ready server, and a server that is not ready keeps the tunnels it has).
 *
 * Not ready, each with a reason in the answer's body:
 *
 *   draining          SIGTERM (close()): the drain has begun; open tunnels
 *                     go on until it ends, new ones get 503 `draining`
 *   waiting for …     a config file (hosts.yml, the users file) that has not
 *                     loaded since start (`wssh server --wait-for-config`);
 *                     new tunnels get 503 `not-ready`
 *   at tunnel limit   --max-tunnels tunnels open or opening; new ones get 503
 *                     `capacity` until one closes
 *
 * The reasons are fixed words, never a path or a file's error: /readyz may be
 * reachable by anyone who reaches the server, and the log has the detail.
 */
import type http from 'node:http';

/** What readiness is decided from: the server's state when asked. */
export interface ReadinessState {
  /** close() has been called. */
  draining: boolean;
  /** Tunnels open or being opened. */
  slotsInUse: number;
  /** --max-tunnels; 0 for no limit. */
  maxTunnels: number;
  /** The config files that have not loaded yet, by name ('hosts.yml', 'users file'). */
  waitingFor: readonly string[];
}

/** Why the server takes no new tunnels now; empty when it does. */
export function notReadyReasons(state: ReadinessState): string[] {
  const reasons: string[] = [];
  if (state.draining) reasons.push('draining');
  for (const name of state.waitingFor) reasons.push(`waiting for ${name}`);
  if (state.maxTunnels > 0 && state.slotsInUse >= state.maxTunnels) reasons.push('at tunnel limit');
  return reasons;
}

/** The answer to `GET /readyz`: 200 `{"status":"ready"}`, or 503 with the reasons. */
export function writeReadiness(res: http.ServerResponse, reasons: readonly string[]): void {
  const ready = reasons.length === 0;
  res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(ready ? { status: 'ready' } : { status: 'not ready', reasons }) + '\n');
}
