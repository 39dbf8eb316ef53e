/**
 * What one server takes on: tunnels overall and per client address, and how
 * long or how big a request may be. Each limit, when hit, is an HTTP status
 * on the upgrade with a reason, and a log line:
 *
 *   503  the server is at --max-tunnels (nginx can try another upstream)
 *   429  this client address is at --max-tunnels-per-client
 *   414  the request path is longer than --max-path
 *   408  the upgrade request's headers did not arrive within --handshake-timeout
 *
 * The idle timeout closes an open tunnel on which no byte moved either way
 * (WebSocket pings do not count) for that long.
 *
 * Limits are per server process: several servers behind one nginx upstream
 * share nothing, so a client may hold up to the per-client limit on each.
 */
import { REFUSALS, type RefusalCode } from '../src/core/tunnel/refusals';

export interface ServerLimits {
  /** Tunnels open (or being opened) at once; 0 for no limit. */
  maxTunnels: number;
  /** Tunnels open (or being opened) at once from one client address; 0 for no limit. */
  maxTunnelsPerClient: number;
  /** How long the upgrade request's headers may take to arrive, in ms. */
  handshakeTimeoutMs: number;
  /** Close a tunnel when no byte moved either way for this long, in ms; 0 for never. */
  idleTimeoutMs: number;
  /** The longest request path (with query) accepted, in bytes. */
  maxPathLength: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  maxTunnels: 1000,
  // A company's whole office may come from one NAT address.
  maxTunnelsPerClient: 250,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 0,
  // A host name is at most 253 bytes; the rest is the endpoint's path prefix.
  maxPathLength: 1024,
};

/** A place taken by a tunnel that is opening or open; give it back once. */
export interface Slot {
  release(): void;
}

export type SlotRefusal = { status: number; code: Extract<RefusalCode, 'capacity' | 'client-limit'>; reason: string };

/** Counts tunnels overall and per client address against the limits. */
export class TunnelSlots {
  private taken = 0;
  /** Only addresses holding a slot are in here, so it is never larger than the count. */
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: Pick<ServerLimits, 'maxTunnels' | 'maxTunnelsPerClient'>) {}

  /** Slots in use: tunnels open and being opened. */
  get inUse(): number {
    return this.taken;
  }

  /** Slots in use by one client address. */
  heldBy(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /** Takes a slot for `client`, or says which limit is in the way. */
  take(client: string): Slot | SlotRefusal {
    const { maxTunnels, maxTunnelsPerClient } = this.limits;
    if (maxTunnels > 0 && this.taken >= maxTunnels) {
      return { status: REFUSALS.capacity.status, code: 'capacity', reason: `server at capacity: ${tunnels(maxTunnels)} open` };
    }
    const held = this.heldBy(client);
    if (maxTunnelsPerClient > 0 && held >= maxTunnelsPerClient) {
      return { status: REFUSALS['client-limit'].status, code: 'client-limit', reason: `too many tunnels from ${client}: ${maxTunnelsPerClient} open` };
    }
    this.taken++;
    this.perClient.set(client, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.taken--;
        const left = this.heldBy(client) - 1;
        if (left > 0) this.perClient.set(client, left);
        else this.perClient.delete(client);
      },
    };
  }
}

function tunnels(n: number): string {
  return n === 1 ? '1 tunnel' : `${n} tunnels`;
}

export function isSlot(taken: Slot | SlotRefusal): taken is Slot {
  return 'release' in taken;
}
