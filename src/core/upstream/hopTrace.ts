/**
 * What a dial saw on its way to the endpoint, hop by hop, told to an
 * observer as it happens: the name of the next hop resolved, the TCP
 * connection made, each answer of the HTTP proxy and how its sign-in went.
 * The dial's TLS and upgrade events are added one layer up
 * (dial/dialTrace.ts).
 *
 * Nothing here changes what a dial does: `wssh doctor` and the tray app's
 * Diagnose walk the path with the tunnel's own code and only listen. No
 * event holds a secret: proxy users are named, never their passwords or
 * tokens.
 */
import net from 'node:net';
import type { ProxyAuthAttempt, ProxyAuthScheme } from './upstreamProxy';

/** The next hop of a connection: the HTTP proxy, or the endpoint's host for a direct one. */
export type Hop = 'proxy' | 'endpoint';

export type HopEvent =
  /** The next hop's name resolved (`address`), or not (`error`: ENOTFOUND, EAI_AGAIN…). Not sent for an address. */
  | { kind: 'lookup'; hop: Hop; host: string; address?: string; error?: string }
  /** The TCP connection to the next hop is open, to `address`. */
  | { kind: 'connect'; hop: Hop; host: string; port: number; address: string }
  /** The HTTP proxy answered a request of the CONNECT handshake; `offered`: the schemes of a 407's challenges. */
  | { kind: 'proxy-answer'; status: number; statusText: string; offered: string[] }
  /** The HTTP proxy opened the tunnel: signed in with `scheme` (none: it asked for nothing), after `attempts`. */
  | { kind: 'proxy-open'; scheme?: ProxyAuthScheme; attempts: ProxyAuthAttempt[] };

export type HopTrace = (event: HopEvent) => void;

/**
 * Tells `trace` when `socket` (connecting to `host`:`port`, the `hop`)
 * resolved its host and connected. Node resolves a name inside `connect`
 * and reports it with its 'lookup' event; an address is not looked up.
 */
export function traceSocket(socket: net.Socket, hop: Hop, host: string, port: number, trace: HopTrace | undefined): void {
  if (!trace) return;
  let looked = false;
  socket.on('lookup', (err: (Error & { code?: string }) | null, address: string) => {
    // Trying several addresses (autoSelectFamily) reports each: the first says it.
    if (looked) return;
    looked = true;
    trace(err ? { kind: 'lookup', hop, host, error: err.code ?? err.message } : { kind: 'lookup', hop, host, address });
  });
  socket.once('connect', () => trace({ kind: 'connect', hop, host, port, address: socket.remoteAddress ?? host }));
}
