/**
 * What the server checks on an upgrade request before it does anything that
 * costs (a login check, a TCP connect to the target): that it is a WebSocket
 * handshake ws would accept (RFC 6455 §4.2.1), and that no web page of a
 * foreign origin sent it.
 *
 * Why the origin: a browser lets any page open a WebSocket to any host it can
 * reach, the server behind a firewall included, and sends the page's origin
 * in `Origin`. Without `--users` (the default) such a page could tunnel to an
 * internal SSH server and read its banner. WSSH's own clients (and the
 * original wssh's) send no `Origin`, so a request that carries one is refused
 * unless the origin is on `--allow-origin`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { peerText } from '../src/core/tunnel/peerText';

export interface HandshakeProblem {
  /** Its row in core/tunnel/refusals.ts (the status comes from there). */
  code: 'not-websocket' | 'upgrade-method' | 'origin';
  reason: string;
  headers?: Record<string, string>;
}

/** `Sec-WebSocket-Key` is the base64 of 16 bytes (RFC 6455 §4.1, item 7). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why ws would refuse this upgrade request, or undefined when it would accept it. */
export function handshakeProblem(method: string | undefined, headers: IncomingHttpHeaders): HandshakeProblem | undefined {
  if (method !== 'GET') {
    return { code: 'upgrade-method', reason: `a WebSocket upgrade is a GET, not ${peerText(method ?? '', 16)}` };
  }
  if ((headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return { code: 'not-websocket', reason: 'not a WebSocket upgrade' };
  }
  const key = headers['sec-websocket-key'];
  if (key === undefined || !WEBSOCKET_KEY.test(key.trim())) {
    return { code: 'not-websocket', reason: 'not a WebSocket upgrade (missing or invalid Sec-WebSocket-Key)' };
  }
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return {
      code: 'not-websocket',
      reason: 'unsupported WebSocket version (this server speaks version 13)',
      headers: { 'Sec-WebSocket-Version': '13, 8' },
    };
  }
  return undefined;
}

/**
 * An origin as browsers send it: `scheme://host[:port]`, lowercased, without
 * the default port; throws for anything else. Used to check `--allow-origin`.
 */
export function normalizeOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${peerText(text, 100)}" is not an origin (scheme://host[:port])`);
  }
  if (url.origin === 'null' || url.pathname.replace(/^\/$/, '') !== '' || url.search || url.hash || url.username) {
    throw new Error(`"${peerText(text, 100)}" is not an origin (scheme://host[:port], nothing after it)`);
  }
  return url.origin;
}

/** Why a request's `Origin` is refused, or undefined when it may go on. */
export function originProblem(origin: string | undefined, allowed: ReadonlySet<string>): HandshakeProblem | undefined {
  if (origin === undefined) return undefined;
  let normalized: string | undefined;
  try {
    normalized = normalizeOrigin(origin);
  } catch {
    normalized = undefined;
  }
  if (normalized !== undefined && allowed.has(normalized)) return undefined;
  return {
    code: 'origin',
    reason: `a web page of origin ${peerText(origin, 100)} may not open tunnels (the server's --allow-origin does not list it)`,
  };
}
