/**
 * The Node HTTP server under both the local proxy (connectProxy.ts) and the
 * WSSH server (server/wsshServer.ts): one place for what they must do alike.
 *
 * - Timeouts: Node's own timer cuts a connection whose request headers are
 *   not complete in time, however slowly they dribble in (slowloris); the
 *   header and the request timeout are the same, and Node checks them often
 *   enough to cut a slow client close to its deadline.
 * - Requests Node cannot parse, too large or too slow are answered with the
 *   refusal of their code (refusals.ts), through the owner's `refuse`, so
 *   they are logged and counted like any other refusal.
 * - listen() rejects with the listen error (EADDRINUSE) instead of emitting
 *   it; errors after that go to `onError`, and so does running out of file
 *   descriptors at accept(), which libuv does not report (descriptors.ts:
 *   watchAccepts).
 * - close(drainMs): stop accepting (or, for the WSSH server, keep
 *   listening for its probes and refusals), let open tunnels finish within
 *   drainMs, abort the rest, and resolve once every connection is gone.
 *
 * The owner attaches its own 'connect', 'upgrade' and 'request' handlers to
 * `server`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelTracker } from '../tunnel/tunnels';
import type { RefusalCode } from '../tunnel/refusals';
import { watchAccepts } from './descriptors';

export interface TunnelHttpServerOptions {
  /** How long a client may take to send its request line and headers, in ms (then 408). */
  headersTimeoutMs: number;
  /** Largest request line plus headers accepted, in bytes (then 431). @default Node's (16 KiB) */
  maxHeaderSize?: number;
  /** How long an idle keep-alive connection is kept, in ms. @default Node's (5 s) */
  keepAliveTimeoutMs?: number;
  /** The tunnels to drain and abort at close. */
  tracker: TunnelTracker;
  /** Answers a request that never became one (malformed, too large, too slow). */
  refuse(socket: Duplex, code: RefusalCode, reason: string): void;
  /** An error of the server after it started listening; EMFILE or ENFILE when it could not accept a connection. */
  onError(err: Error): void;
}

/**
 * Connections the kernel holds for us before we accept them. Node's 511 drops
 * the SYNs of a burst of thousands, and a dropped SYN is retried after 1 s,
 * then 3 s: seconds added to opening a tunnel. The kernel caps it at
 * net.core.somaxconn (4096 on current Linux).
 */
export const LISTEN_BACKLOG = 4096;

export class TunnelHttpServer {
  readonly server: http.Server;
  private readonly maxHeaderSize: number;
  private starting = false;
  private stopWatching?: () => void;

  constructor(private readonly options: TunnelHttpServerOptions) {
    const headersTimeout = options.headersTimeoutMs;
    this.maxHeaderSize = options.maxHeaderSize ?? http.maxHeaderSize;
    this.server = http.createServer({
      maxHeaderSize: this.maxHeaderSize,
      headersTimeout,
      requestTimeout: headersTimeout,
      // Node checks the timeouts above on this interval; keep it short so a
      // slow client is cut close to its deadline.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)),
      ...(options.keepAliveTimeoutMs !== undefined && { keepAliveTimeout: options.keepAliveTimeoutMs }),
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
    // An error while listen() is pending is its rejection, not an event
    // (re-emitted with no listener, EADDRINUSE would crash the process).
    this.server.on('error', (err) => {
      if (!this.starting) options.onError(err);
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    this.starting = true;
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', onError);
        // Added now, after the owner's admission took the 'connection' listeners over: it sees each accept as it happens.
        this.stopWatching ??= watchAccepts(this.server, (err) => this.options.onError(err));
        resolve(this.server.address() as AddressInfo);
      });
    }).finally(() => {
      this.starting = false;
    });
  }

  address(): AddressInfo | null {
    return this.server.address() as AddressInfo | null;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * Stops accepting; `stopPending` gives up what the owner has in progress
   * outside the HTTP server (handshakes, dials, connects). Open tunnels may
   * finish within `drainMs`, then they are aborted with `reason`. Resolves
   * when every connection is closed.
   *
   * With `listenWhileDraining`, the listening socket stays open until the
   * drain ends, and the owner answers what comes meanwhile (the WSSH server:
   * /readyz 503, a new tunnel 503 `draining`); without, it closes at once.
   */
  async close(drainMs: number, reason: string, stopPending: () => void = () => {}, { listenWhileDraining = false } = {}): Promise<void> {
    this.stopWatching?.();
    const stopListening = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
    const closed = listenWhileDraining ? undefined : stopListening();
    this.server.closeIdleConnections();
    stopPending();
    if (drainMs > 0) await this.options.tracker.drain(drainMs);
    const last = closed ?? stopListening();
    this.options.tracker.abortAll(reason);
    this.server.closeAllConnections();
    await last;
  }

  /** A request Node could not parse, or whose headers were too large or too slow. */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    socket.on('error', () => {});
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT') {
      this.options.refuse(socket, 'handshake-timeout', `request headers not complete within ${this.options.headersTimeoutMs / 1000}s`);
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      this.options.refuse(socket, 'headers-too-large', `request headers larger than ${this.maxHeaderSize} bytes`);
    } else {
      const reason = (err as { reason?: string }).reason ?? err.message;
      this.options.refuse(socket, 'malformed', `malformed request: ${reason}${err.code ? ` (${err.code})` : ''}`);
    }
  }
}
