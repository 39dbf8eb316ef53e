/**
 * The local HTTP CONNECT proxy: PuTTY, plink, WinSCP or `nc -X connect` ask
 * for `CONNECT host:port`, and each request becomes one tunnel through the
 * WSSH endpoint.
 *
 * Node's HTTP parser does the parsing (request line, headers, the 8 KiB header
 * limit, the header timeout); this module decides what to answer:
 * - `200 Connection established` only once the tunnel's WebSocket is open, so a
 *   client never starts SSH on a tunnel that is not there;
 * - otherwise a status with a one-line reason in the body: 400 malformed,
 *   403 refused by the server, 405 not CONNECT, 408 headers too slow,
 *   431 headers too large, 502/504 server or target unreachable.
 * Bytes the client sent after the blank line are forwarded first.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Endpoint } from './endpoint';
import { DialOptions, TunnelError, dial } from './dialer';
import { Relay, RelayOptions } from './relay';
import { Target, TargetError, formatTarget, parseTarget } from './target';
import { TunnelTracker } from './tunnels';
import { writeRefusal } from './httpRefusal';

export interface ConnectProxyOptions extends DialOptions, RelayOptions {
  /** The WSSH endpoint every tunnel goes through; can be changed later with `setEndpoint`. */
  endpoint: Endpoint;
  /** Largest request line plus headers accepted, in bytes (a larger one gets 431). @default 8192 */
  maxHeaderSize?: number;
  /** How long a client may take to send its request headers, in ms (then 408). @default 10000 */
  headersTimeoutMs?: number;
  /** The tunnel tracker to report to; one is made when not given. */
  tracker?: TunnelTracker;
}

export const DEFAULT_PROXY_PORT = 3122;
export const DEFAULT_PROXY_HOST = '127.0.0.1';
const DEFAULT_MAX_HEADER_SIZE = 8192;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

interface ProxyEvents {
  /** Something the proxy itself could not do (not a tunnel's failure). */
  error: [err: Error];
}

export class ConnectProxy extends EventEmitter<ProxyEvents> {
  readonly tracker: TunnelTracker;
  private endpoint: Endpoint;
  private readonly server: http.Server;
  private readonly pending = new Set<AbortController>();
  private starting = false;

  constructor(private readonly options: ConnectProxyOptions) {
    super();
    this.endpoint = options.endpoint;
    this.tracker = options.tracker ?? new TunnelTracker();
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.server = http.createServer({
      maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
      headersTimeout,
      requestTimeout: headersTimeout,
      // Node checks the timeouts above on this interval; keep it short so a
      // slow client is cut close to its deadline.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)),
      keepAliveTimeout: 1000,
    });
    this.server.on('connect', (req, socket, head) => this.onConnect(req, socket as Socket, head));
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('clientError', (err, socket) => this.onClientError(err as NodeJS.ErrnoException, socket));
    // An error while listen() is pending is its rejection, not an event
    // (re-emitted with no listener, EADDRINUSE would crash the process).
    this.server.on('error', (err) => {
      if (!this.starting) this.emit('error', err);
    });
  }

  /** Switches the endpoint for tunnels opened from now on; open ones go on. */
  setEndpoint(endpoint: Endpoint): void {
    this.endpoint = endpoint;
  }

  getEndpoint(): Endpoint {
    return this.endpoint;
  }

  /** Starts listening; loopback only unless the caller names another host. */
  listen(port = DEFAULT_PROXY_PORT, host = DEFAULT_PROXY_HOST): Promise<AddressInfo> {
    this.starting = true;
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
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
   * Stops accepting. Open tunnels may finish within `drainMs`; then they are
   * aborted. Resolves when everything is closed.
   */
  async close(drainMs = 0): Promise<void> {
    for (const dial of this.pending) dial.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.tracker.size > 0 && drainMs > 0) {
      await Promise.race([waitForEmpty(this.tracker), delay(drainMs)]);
    }
    this.tracker.abortAll('proxy stopped');
    this.server.closeAllConnections();
    await closed;
  }

  private async onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const client = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => {}); // reported through the relay or the refusal
    let target: Target;
    try {
      target = parseAuthority(req.url ?? '');
    } catch (err) {
      return this.refuse(socket, 400, (err as Error).message, req.url ?? '', client);
    }
    const endpoint = this.endpoint;
    const abort = new AbortController();
    this.pending.add(abort);
    const onGone = () => abort.abort();
    socket.once('close', onGone);
    try {
      const ws = await dial(endpoint, target, { ...this.options, signal: abort.signal });
      socket.off('close', onGone);
      if (socket.destroyed) {
        ws.terminate();
        return;
      }
      const id = this.tracker.allocateId();
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      // The relay sends these first: bytes the client sent after the headers.
      if (head.length > 0) socket.unshift(head);
      const relay = new Relay(socket, ws, this.options);
      this.tracker.track(id, relay, 'client', { target: formatTarget(target), via: endpoint.display, client });
    } catch (err) {
      socket.off('close', onGone);
      if (err instanceof TunnelError) this.refuse(socket, err.status, err.message, formatTarget(target), client);
      else this.refuse(socket, 502, (err as Error).message, formatTarget(target), client);
    } finally {
      this.pending.delete(abort);
    }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reason = `this is a WSSH proxy: it only tunnels CONNECT host:port, not ${req.method}`;
    res.writeHead(405, { Allow: 'CONNECT', 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end(reason + '\n');
    this.tracker.refuse({ target: req.url ?? '', client: req.socket.remoteAddress ?? '', status: 405, reason });
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const client = (socket as Socket).remoteAddress ?? '';
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let reason = `malformed request: ${(err as { reason?: string }).reason ?? err.message}`;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      reason = `request headers larger than ${this.options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE} bytes`;
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT') {
      status = 408;
      reason = 'the request headers did not arrive in time';
    }
    this.refuse(socket, status, reason, '', client);
  }

  private refuse(socket: Duplex, status: number, reason: string, target: string, client: string): void {
    this.tracker.refuse({ target, client, status, reason });
    writeRefusal(socket, status, reason);
  }
}

/**
 * A CONNECT request target is authority-form, `host:port` (RFC 9110 §9.3.6),
 * with IPv6 addresses in brackets; the port is required.
 */
export function parseAuthority(authority: string): Target {
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(authority);
  if (!match) throw new TargetError(`CONNECT needs host:port, got "${authority.slice(0, 100)}"`);
  return parseTarget(authority);
}

function waitForEmpty(tracker: TunnelTracker): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (tracker.size === 0) {
        tracker.off('close', check);
        resolve();
      }
    };
    tracker.on('close', check);
    check();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
