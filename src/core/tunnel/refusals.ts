/**
 * Every way a tunnel can be refused, by a stable code, in one table: the
 * HTTP status it is answered with, the SOCKS5 reply for the same refusal,
 * the reason label it is counted under in the server's metrics, a default
 * message, and whether the tray app must tell the user.
 *
 * Who raises which:
 * - the WSSH server (server/wsshServer.ts) answers an upgrade with the status;
 * - the dialer (dialer.ts) turns the server's answer, or a network, proxy or
 *   TLS failure, into a TunnelError with its code;
 * - the local proxy (connectProxy.ts) answers PuTTY with the status or the
 *   SOCKS reply, and reports the code in its tracker's `refused` event;
 * - the tray app (main/tunnel/tunnelController.ts) decides by `alert` alone.
 *
 * Every refusal thrown is a RefusalError (below) or a subclass of it, all
 * built alike: `new X(refusal, message, { ...extras })`. The dialer's
 * TunnelError (tunnelError.ts), the SOCKS handshake's SocksError
 * (socksHandshake.ts) and the server's upgrade refusal (server/wsshServer.ts)
 * add only what their side needs.
 *
 * The server names the code of every refused upgrade in the
 * `X-WSSH-Refusal` header (REFUSAL_HEADER), so that a new client tells a 429
 * or a 503 apart (this client's limit, the server's, a drain, descriptors)
 * where the status alone cannot; an old client ignores the header.
 *
 * Adding a refusal: one row here, and a `throw` where it happens. The codes
 * are metric labels, header values and are read by programs: rename none.
 */
import { Socks5Reply } from './socksReplies';

export interface RefusalKind {
  /** The HTTP status answered (by the server on the upgrade, by the local proxy to a CONNECT). */
  status: number;
  /** The SOCKS5 reply code for the same refusal (SOCKS4 has only "rejected"). */
  socks5: number;
  /** The `reason` label of `wssh_refusals_total` (a fixed vocabulary: never free text). */
  metric: string;
  /** The message when the place that refuses has nothing more specific to say. */
  message: string;
  /**
   * The tray app turns to "error" and notifies: the endpoint, its setup or
   * the way to it needs the user. Otherwise the refusal is the SSH client's
   * business (a malformed request, a denied host) and only logged.
   */
  alert: boolean;
}

const row = (status: number, socks5: number, metric: string, message: string, alert = false): RefusalKind => ({
  status,
  socks5,
  metric,
  message,
  alert,
});
const R = Socks5Reply;

export const REFUSALS = {
  // ---- The request itself (server and local proxy) ----
  malformed: row(400, R.generalFailure, 'malformed', 'malformed request'),
  'not-websocket': row(400, R.generalFailure, 'not-websocket', 'not a WebSocket upgrade'),
  /** An upgrade that is not a GET (ws would refuse it only after the target's connect). */
  'upgrade-method': row(405, R.generalFailure, 'upgrade-method', 'a WebSocket upgrade is a GET'),
  'bad-target': row(400, R.generalFailure, 'bad-target', 'bad target'),
  'address-type': row(400, R.addressTypeNotSupported, 'address-type', 'address type not supported'),
  'socks-method': row(400, R.generalFailure, 'socks-method', 'no SOCKS5 authentication method acceptable'),
  /** The local proxy's own credential (--proxy-user) missing or wrong: 407, or SOCKS5's auth failure. */
  'proxy-auth': row(407, R.notAllowed, 'proxy-auth', 'this proxy needs its user name and password'),
  'not-connect': row(405, R.commandNotSupported, 'not-connect', 'this proxy only tunnels CONNECT host:port'),
  'handshake-timeout': row(408, R.ttlExpired, 'handshake-timeout', 'the request headers did not arrive in time'),
  'headers-too-large': row(431, R.generalFailure, 'headers-too-large', 'request headers too large'),
  'path-too-long': row(414, R.generalFailure, 'path-too-long', 'request path too long'),
  'client-gone': row(502, R.hostUnreachable, 'client-gone', 'the client went away'),

  // ---- The process's own resources (server and local proxy) ----
  /** A burst: not admitted within the admission queue's deadline, or the queue was full (admission.ts). */
  busy: row(503, R.generalFailure, 'busy', 'too busy: not admitted in time', true),

  // ---- The WSSH server's limits, authentication and policy ----
  capacity: row(503, R.generalFailure, 'capacity', 'server at capacity', true),
  /** The server is shutting down (SIGTERM, `close()`): an upgrade it got meanwhile, or was still opening. */
  draining: row(503, R.generalFailure, 'draining', 'server shutting down', true),
  /**
   * A config file the server needs has not loaded yet (`wssh server
   * --wait-for-config`): not ready, like its GET /readyz says.
   */
  'not-ready': row(503, R.generalFailure, 'not-ready', 'server not ready: its configuration has not loaded', true),
  'client-limit': row(429, R.generalFailure, 'client-limit', 'too many tunnels from this client', true),
  unauthorized: row(401, R.notAllowed, 'unauthorized', 'credentials missing or wrong'),
  denied: row(403, R.notAllowed, 'denied', 'denied by the WSSH server'),
  /** A browser page whose Origin the server's --allow-origin does not list (server/upgradeRequest.ts). */
  origin: row(403, R.notAllowed, 'origin', 'a web page of another origin may not open tunnels'),
  /** Too many logins from one address waiting out the slow-down or being checked (server/auth/auth.ts). */
  'login-backlog': row(429, R.generalFailure, 'login-backlog', 'too many login attempts from this address', true),
  /**
   * No file descriptor (EMFILE, ENFILE): the server for the target connection
   * and the local proxy for its dial (core/inbound/descriptors.ts).
   */
  descriptors: row(503, R.generalFailure, 'descriptors', 'server out of file descriptors', true),

  /**
   * A resume (resumeProtocol.ts) for a session this server does not hold: it
   * never had it, it expired, or the token or the user is not its own (one
   * answer for all, so a guesser learns nothing). The client ends the local
   * connection: the session could not be resumed.
   */
  'resume-unknown': row(410, R.generalFailure, 'resume-unknown', 'no such session (it expired, or another server holds it)'),

  // ---- The target, from the server ----
  unreachable: row(502, R.hostUnreachable, 'unreachable', 'unreachable', true),
  'connect-timeout': row(504, R.ttlExpired, 'connect-timeout', 'timed out connecting to the target', true),

  // ---- The endpoint, as the dialer sees it ----
  /** The server answered 401: the endpoint's credentials are missing or wrong (403 to the SSH client). */
  'auth-required': row(403, R.notAllowed, 'auth-required', 'the WSSH server requires authentication', true),
  /** 404: no WSSH server at the endpoint's path. */
  'no-server': row(502, R.hostUnreachable, 'no-server', 'no WSSH server at the endpoint', true),
  /** Any other status from the server. */
  'server-failed': row(502, R.hostUnreachable, 'server-failed', 'the WSSH server failed', true),
  /** The WebSocket handshake (TCP, TLS, upgrade; through a proxy, once it opened the tunnel) took too long. */
  timeout: row(504, R.ttlExpired, 'timeout', 'the WebSocket handshake timed out', true),
  certificate: row(502, R.hostUnreachable, 'certificate', "the endpoint's certificate is not trusted", true),
  /** The gateway asked for a client certificate the dial lacks, or refused the one it got (clientCertificate.ts). */
  'client-certificate': row(502, R.hostUnreachable, 'client-certificate', 'the gateway did not accept the client certificate (or none was given)', true),
  'trust-config': row(502, R.hostUnreachable, 'trust-config', 'the TLS trust settings cannot be used', true),
  'proxy-config': row(502, R.hostUnreachable, 'proxy-config', 'the HTTP proxy setting cannot be used', true),
  'proxy-unreachable': row(502, R.hostUnreachable, 'proxy-unreachable', 'the HTTP proxy cannot be reached', true),
  'proxy-refused': row(502, R.hostUnreachable, 'proxy-refused', 'the HTTP proxy refused the tunnel', true),
  'proxy-timeout': row(504, R.ttlExpired, 'proxy-timeout', 'the HTTP proxy timed out', true),
} as const satisfies Record<string, RefusalKind>;

export type RefusalCode = keyof typeof REFUSALS;

/**
 * The response header in which the WSSH server names the code of a refused
 * upgrade (`X-WSSH-Refusal: client-limit`). Its values are this table's
 * codes, which are also the metric labels; the status stays what it always
 * was, so a client that ignores the header (an original one) loses nothing.
 */
export const REFUSAL_HEADER = 'X-WSSH-Refusal';

/** `value` is a code of this table (a header from a newer server may name one this client does not know). */
export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(REFUSALS, value);
}

/** What every refusal error may carry besides its code and message. */
export interface RefusalErrorOptions {
  /** The error that led to the refusal, for a program or a stack trace; never shown to the peer. */
  cause?: unknown;
  /** For the log, when it may say more than the peer may hear. @default the message */
  detail?: string;
}

/**
 * A tunnel refused, wherever: a refusal code from the table (hence its HTTP
 * status and SOCKS5 reply), a one-line reason for the peer, and the extras of
 * its side in an options object. Subclasses keep this argument order.
 */
export class RefusalError extends Error {
  override name = 'RefusalError';
  /** For the log: the message, or more than the peer may hear. */
  readonly detail: string;

  constructor(
    /** Why, as a stable code: its row in REFUSALS gives the status and the SOCKS reply. */
    readonly refusal: RefusalCode,
    message: string,
    options: RefusalErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.detail = options.detail ?? message;
  }

  /** The HTTP status of the refusal (the server's on the upgrade, the local proxy's to a CONNECT). */
  get status(): number {
    return REFUSALS[this.refusal].status;
  }

  /** The SOCKS5 reply code of the same refusal. */
  get socks5(): number {
    return REFUSALS[this.refusal].socks5;
  }
}
